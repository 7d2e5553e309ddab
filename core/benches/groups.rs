//! Private groups: a key rotation in a 450-member group (time and bytes),
//! and how fast group posts open compared with raw XChaCha20-Poly1305 in
//! the same run.
//!
//! Run: `cargo bench -p starling-core --features test-utils --bench groups`
//!
//! 1. 450 members: Ann makes a group; 499 others join by invite (each in
//!    its own home) and Ann takes their membership entries. Ann removes one
//!    member: the new key is wrapped for the 448 who stay and herself.
//!    Printed: the time `group_remove` takes, the bytes it adds to the
//!    group (the rotation entry and the membership change), and the time a
//!    member takes to import them and unwrap the new key.
//! 2. Ann posts 2,000 times in the group. Baseline: XChaCha20-Poly1305
//!    decryption of exactly those payloads with the same associated data,
//!    straight through the `chacha20poly1305` crate. Result: `Entry::open`
//!    plus `Record::decode` of the same entries (the outer seal; inside is
//!    the sender session's message), a member importing them (each opened
//!    once by the ratchet) against importing as many feed posts, and a
//!    member reading the group timeline page by page.

use std::time::Instant;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use starling_core::bundle::{self, Item};
use starling_core::entry::Header;
use starling_core::record::Record;
use starling_core::{Entry, NewPost, Node};

/// Members: a key rotation wraps the new key for each (138 B), and one
/// entry holds at most 64 KiB, so a rotation for more than about 470
/// members does not fit one entry (see ARCHITECTURE.md, *Not built yet*).
const MEMBERS: usize = 450;
const POSTS: usize = 2_000;
const ROUNDS: usize = 20;

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ann = Node::init(&dir.path().join("ann"), "ann").expect("init");
    let group = ann.group_create("big flock", None).expect("group");
    let t = Instant::now();
    let mut last = None;
    for i in 1..MEMBERS {
        let mut m = Node::init(&dir.path().join(format!("m{i}")), &format!("m{i}")).expect("init");
        let invite = ann.group_invite(&group, 3_600_000).expect("invite");
        m.group_join(&invite).expect("join");
        let b = m.store().export(&[group]).expect("export");
        ann.import(&b).expect("import");
        last = Some(m);
    }
    let mut bob = last.expect("members");
    println!(
        "group benchmark: {} members set up in {:.1} s",
        ann.group(&group).expect("group").members.len(),
        t.elapsed().as_secs_f64()
    );
    assert_eq!(ann.group(&group).expect("group").members.len(), MEMBERS);
    // Bob holds the whole group history before the rotation.
    let everything = ann.store().export(&[group]).expect("export");
    bob.import(&everything).expect("import");

    let removed = {
        let g = ann.group(&group).expect("group");
        g.members
            .iter()
            .map(|m| m.identity)
            .find(|m| *m != ann.identity() && *m != bob.identity())
            .expect("someone to remove")
    };
    let before = everything.len();
    let t = Instant::now();
    let epoch = ann.group_remove(&group, &removed).expect("remove");
    let remove_ms = t.elapsed().as_secs_f64() * 1e3;
    let after = ann.store().export(&[group]).expect("export");
    let added = after.len() - before;
    let t = Instant::now();
    bob.import(&after).expect("import");
    let take_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(bob.store().space_keys(&group).expect("keys").len(), 2);
    println!(
        "result    key rotation to epoch {epoch} in a {MEMBERS}-member group: group_remove {remove_ms:.1} ms; {added} bytes added ({:.0} B per remaining member); a member imports and unwraps it in {take_ms:.1} ms",
        added as f64 / (MEMBERS - 1) as f64
    );

    // Group posts, and the payloads they are sealed in.
    for i in 0..POSTS {
        ann.post(NewPost {
            text: format!("group post {i}: the starlings turn over the reed beds at dusk"),
            group: Some(group),
            ..Default::default()
        })
        .expect("post");
    }
    let bytes = ann.store().export(&[group]).expect("export");
    let key = ann
        .store()
        .space_keys(&group)
        .expect("keys")
        .last()
        .expect("key")
        .1
        .clone();
    let raw_key = key.to_bytes();
    let entries: Vec<Entry> = bundle::parse(&bytes)
        .expect("bundle")
        .into_iter()
        .filter_map(|i| match i {
            Item::Entry(b) => Entry::decode(b).ok(),
            _ => None,
        })
        .filter(|e| e.header().key_epoch == epoch && e.payload().is_some())
        .collect();
    // Each post is sealed by Ann's sender session inside the epoch seal;
    // the epoch key opens the outer seal to a ratcheted message.
    let opened: Vec<bool> = entries
        .iter()
        .map(|e| {
            matches!(
                e.open(&key)
                    .ok()
                    .map(|p| Record::decode(e.header().version, &p)),
                Some(Ok(Record::Ratcheted(_)))
            )
        })
        .collect();
    let n = opened.iter().filter(|o| **o).count();
    assert!(n >= POSTS, "{n} posts open");
    let shares = entries.len() - n;
    let payload_bytes: usize = entries
        .iter()
        .filter_map(|e| e.payload())
        .map(<[u8]>::len)
        .sum();

    // Baseline: the same ciphertexts, straight through the AEAD.
    let cipher = XChaCha20Poly1305::new(&raw_key.into());
    let aads: Vec<Vec<u8>> = entries
        .iter()
        .map(|e| {
            let h = e.header();
            Header::seal_context(&h.space, &h.author, h.seq, h.key_epoch)
        })
        .collect();
    let mut raw = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for (e, aad) in entries.iter().zip(&aads) {
            let sealed = e.payload().expect("payload");
            let (nonce, ct) = sealed.split_at(24);
            let nonce: [u8; 24] = nonce.try_into().expect("nonce");
            let p = cipher
                .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad })
                .expect("decrypt");
            std::hint::black_box(p);
        }
        raw.push(entries.len() as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        for e in &entries {
            let r = e.open(&key).map(|p| Record::decode(e.header().version, &p));
            std::hint::black_box(r.expect("open").expect("record"));
        }
        ours.push(entries.len() as f64 / t.elapsed().as_secs_f64());
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (raw, ours) = (median(raw), median(ours));
    println!(
        "baseline  raw XChaCha20-Poly1305 open of {} group payloads ({:.0} B each): {raw:>10.0} /s",
        entries.len(),
        payload_bytes as f64 / entries.len() as f64
    );
    println!("result    group post outer open (Entry::open + Record::decode): {ours:>9.0} /s");
    println!(
        "ratio     group post open / raw AEAD: {:.2} (goal >= 0.5)",
        ours / raw
    );

    // A member taking the posts: each opens once through the sender's
    // session (Megolm: AES-256-CBC, HMAC-SHA-256, an Ed25519 signature);
    // baseline in the same run, the same number of feed posts (sealed by
    // the feed key alone) through the same import.
    let ticket = ann.ticket().expect("ticket");
    bob.follow(&ticket).expect("follow");
    for i in 0..POSTS {
        ann.post(NewPost {
            text: format!("feed post {i}: the starlings turn over the reed beds at dusk"),
            ..Default::default()
        })
        .expect("post");
    }
    let feed = starling_core::space::feed_space_id(&ann.identity());
    let feed_bytes = ann.store().export(&[feed]).expect("export");
    let t = Instant::now();
    bob.import(&feed_bytes).expect("import");
    let feed_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    bob.import(&bytes).expect("import");
    let group_s = t.elapsed().as_secs_f64();
    let shown = bob
        .group_timeline(&group, 500, None)
        .expect("timeline")
        .posts
        .len();
    assert_eq!(shown, 500, "the member reads the posts");
    println!(
        "baseline  a member imports {POSTS} feed posts (feed key only):        {:>8.0} posts/s",
        POSTS as f64 / feed_s
    );
    println!(
        "result    a member imports {POSTS} group posts (ratcheted, {shares} share entries for {MEMBERS} members): {:>8.0} posts/s",
        POSTS as f64 / group_s
    );
    println!(
        "ratio     ratcheted group import / feed import: {:.2}",
        feed_s / group_s
    );

    // A member reading the group's timeline, page by page.
    let t = Instant::now();
    let mut shown = 0;
    let mut cursor: Option<String> = None;
    loop {
        let page = bob
            .group_timeline(&group, 200, cursor.as_deref())
            .expect("timeline");
        shown += page.posts.len();
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    println!(
        "result    a member reads the group timeline: {shown} posts in {:.1} ms ({:.0} posts/s, from SQLite, decrypted)",
        t.elapsed().as_secs_f64() * 1e3,
        shown as f64 / t.elapsed().as_secs_f64()
    );
}
