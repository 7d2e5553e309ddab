//! Forward-secret messages in conversations and groups ([`starling_core::ratchet`]
//! wired into the node): what a thief of keys and stores gets, what a
//! removed member gets, and sessions that start at the same moment.

use starling_core::node::now_ms;
use starling_core::node::secrets::{Secret, read};
use starling_core::ratchet::{Ratchet, Ratcheted, USED_KEY_GRACE_MS};
use starling_core::record::Record;
use starling_core::store::store_key_of;
use starling_core::{Entry, IdentityKey, NewPost, Node, SpaceId};

use crate::support::{TestNode, contains, files_under, fingerprint, forge};

/// Every entry of `spaces` held by `from`, imported by `to`.
fn carry(from: &mut Node, to: &mut Node, spaces: &[SpaceId]) {
    let bundle = from.store().export(spaces).expect("export");
    to.import(&bundle).expect("import");
}

/// Both nodes' feeds, and `spaces`, carried both ways.
fn exchange(a: &mut Node, b: &mut Node, spaces: &[SpaceId]) {
    let feeds = [
        starling_core::space::feed_space_id(&a.identity()),
        starling_core::space::feed_space_id(&b.identity()),
    ];
    let all: Vec<SpaceId> = feeds.iter().chain(spaces).copied().collect();
    carry(a, b, &all);
    carry(b, a, &all);
}

/// The entries of `spaces` as an eavesdropper on the network keeps them.
fn wire(node: &mut Node, spaces: &[SpaceId]) -> Vec<Entry> {
    let bundle = node.store().export(spaces).expect("export");
    starling_core::bundle::parse(&bundle)
        .expect("a bundle")
        .into_iter()
        .filter_map(|item| match item {
            starling_core::bundle::Item::Entry(bytes) => Entry::decode(bytes).ok(),
            _ => None,
        })
        .collect()
}

fn texts(node: &mut Node, space: &SpaceId) -> Vec<String> {
    crate::support::group_texts(node, space)
}

fn identity_key(home: &std::path::Path) -> IdentityKey {
    IdentityKey::from_secret_bytes(
        read(home, Secret::Identity)
            .expect("readable")
            .expect("an identity key"),
    )
}

/// A thief's copy of a device's ratchet: the sealed state in its store,
/// opened with the key derived from the device secret in its home.
fn stolen_ratchet(node: &mut Node, home: &std::path::Path) -> Ratchet {
    let sealed = node
        .store()
        .sealed_ratchet_state()
        .expect("readable")
        .expect("a ratchet state");
    let secret = read(home, Secret::Device)
        .expect("readable")
        .expect("a device key");
    Ratchet::unseal(&sealed, &store_key_of(&secret)).expect("the thief opens the state")
}

/// Mutual followers, with each other's feeds (and so each other's keys).
fn pair() -> (TestNode, TestNode) {
    let (mut ann, mut bob) = (TestNode::new("ann"), TestNode::new("bob"));
    let (ta, tb) = (ann.node.ticket().unwrap(), bob.node.ticket().unwrap());
    bob.node.follow(&ta).unwrap();
    ann.node.follow(&tb).unwrap();
    exchange(&mut ann.node, &mut bob.node, &[]);
    (ann, bob)
}

#[test]
fn a_thief_of_both_stores_and_identity_keys_opens_no_message_read_before_the_theft() {
    let (mut ann, mut bob) = pair();
    let (ann_id, bob_id) = (ann.node.identity(), bob.node.identity());
    let space = starling_core::space::direct_space_id(&ann_id, &bob_id);
    ann.node.dm(&bob_id, "canary one").unwrap();
    ann.node.dm(&bob_id, "canary two").unwrap();
    exchange(&mut ann.node, &mut bob.node, &[space]);
    bob.node.dm(&ann_id, "canary three").unwrap();
    exchange(&mut ann.node, &mut bob.node, &[space]);
    let shown = |n: &mut Node, other| -> Vec<String> {
        n.dm_show(&other, 10, None)
            .unwrap()
            .posts
            .into_iter()
            .map(|p| p.text)
            .collect()
    };
    let all = ["canary three", "canary two", "canary one"];
    assert_eq!(shown(&mut ann.node, bob_id), all);
    assert_eq!(shown(&mut bob.node, ann_id), all);
    // Everything that crossed the network.
    let captured = wire(&mut ann.node, &[space]);
    // The grace for one-time keys others may still pick passes (a node
    // forgets them as it tends its keys).
    let later = now_ms() + USED_KEY_GRACE_MS + 1;
    for n in [&mut ann.node, &mut bob.node] {
        n.store().spent_device_keys(later).unwrap();
    }
    // The theft: both identity keys, both device secrets, both stores.
    let conversation_key =
        starling_core::space::direct_space_key(&identity_key(&ann.home), &bob_id).unwrap();
    let mut thieves = [
        stolen_ratchet(&mut ann.node, &ann.home),
        stolen_ratchet(&mut bob.node, &bob.home),
    ];
    let mut messages = 0;
    for e in &captured {
        let plain = e
            .open(&conversation_key)
            .expect("the space's own seal opens");
        match Record::decode(e.header().version, &plain).unwrap() {
            Record::Post(p) => panic!("a message in the clear under the space key: {p:?}"),
            Record::RoomKey(rk) => {
                // Its one-time key is gone: the share opens for no one.
                for thief in &mut thieves {
                    let me = rk.shares.iter().map(|(d, _, _)| *d).next().unwrap();
                    let from = (e.header().author, rk.sender_key(&me).unwrap().unwrap());
                    assert!(thief.receive(&space, from, &me, &rk, later).is_err());
                }
            }
            Record::Ratcheted(m) => {
                messages += 1;
                for thief in &mut thieves {
                    assert!(
                        thief.open(&space, &e.header().author, &m).is_err(),
                        "a message read before the theft opens again"
                    );
                }
            }
            _ => {}
        }
    }
    assert_eq!(messages, 3);
    // No file of either home holds a message's words: what was read is
    // kept sealed under the store key (and out of the search index).
    for t in [ann, bob] {
        let (home, _dir) = t.close();
        let files = files_under(&home);
        assert!(!files.is_empty());
        for (path, bytes) in files {
            assert!(
                !contains(&bytes, b"canary"),
                "a message's words in {}",
                path.display()
            );
        }
    }
}

/// A group of Ann (its owner), Bob and Cat, with every feed and the
/// group carried among them.
fn group_of_three() -> (TestNode, TestNode, TestNode, SpaceId) {
    let (mut ann, mut bob, mut cat) = (
        TestNode::new("ann"),
        TestNode::new("bob"),
        TestNode::new("cat"),
    );
    let group = ann.node.group_create("roost", None).unwrap();
    for m in [&mut bob, &mut cat] {
        let invite = ann.node.group_invite(&group, 3_600_000).unwrap();
        m.node.group_join(&invite).unwrap();
        exchange(&mut ann.node, &mut m.node, &[group]);
    }
    exchange(&mut bob.node, &mut cat.node, &[group]);
    (ann, bob, cat, group)
}

fn group_post(node: &mut Node, group: SpaceId, text: &str) -> starling_core::EntryId {
    node.post(NewPost {
        text: text.into(),
        group: Some(group),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn a_removed_member_opens_nothing_sent_after_the_removal_even_with_the_groups_key() {
    let (mut ann, mut bob, mut cat, group) = group_of_three();
    group_post(&mut ann.node, group, "before the removal");
    exchange(&mut ann.node, &mut cat.node, &[group]);
    assert_eq!(texts(&mut cat.node, &group), ["before the removal"]);
    let epoch = ann.node.group_remove(&group, &cat.node.identity()).unwrap();
    let after = group_post(&mut ann.node, group, "after the removal");
    exchange(&mut ann.node, &mut bob.node, &[group]);
    assert_eq!(
        texts(&mut bob.node, &group),
        ["after the removal", "before the removal"]
    );
    // Cat gets the group's new key anyway (leaked), and every entry.
    let leaked = ann.node.store().space_key(&group, epoch).unwrap().unwrap();
    let captured = wire(&mut ann.node, &[group]);
    let sent = captured.iter().find(|e| e.id() == after).unwrap();
    let Record::Ratcheted(m) = Record::decode(
        sent.header().version,
        &sent
            .open(&leaked)
            .expect("the leaked key opens the outer seal"),
    )
    .unwrap() else {
        panic!("a group post is sealed by its sender's session");
    };
    // The session that sealed it was shared with Ann's and Bob's devices,
    // not Cat's.
    let cat_device = cat.node.device();
    let shared_to: Vec<_> = captured
        .iter()
        .filter(|e| e.header().author == ann.node.device())
        .filter_map(|e| {
            let plain = e.open(&leaked).ok()?;
            match Record::decode(e.header().version, &plain).ok()? {
                Record::RoomKey(rk) if rk.session == m.session => Some(rk),
                _ => None,
            }
        })
        .collect();
    assert_eq!(shared_to.len(), 1);
    assert!(shared_to[0].shares.iter().all(|(d, _, _)| *d != cat_device));
    assert!(
        shared_to[0]
            .shares
            .iter()
            .any(|(d, _, _)| *d == bob.node.device())
    );
    // Cat's own state (all she holds) does not open it.
    let mut cats = stolen_ratchet(&mut cat.node, &cat.home);
    let m: Ratcheted = m;
    assert!(cats.open(&group, &ann.node.device(), &m).is_err());
    cat.node
        .store()
        .add_epoch_keys(&group, &[(epoch, leaked)])
        .unwrap();
    carry(&mut ann.node, &mut cat.node, &[group]);
    assert_eq!(texts(&mut cat.node, &group), ["before the removal"]);
}

#[test]
fn members_starting_sessions_at_the_same_moment_all_read_each_other() {
    let (mut ann, mut bob, mut cat, group) = group_of_three();
    // Each posts before seeing anything the others wrote: three sessions
    // start at once, each sharing to the other devices' one-time keys.
    group_post(&mut ann.node, group, "ann at dawn");
    group_post(&mut bob.node, group, "bob at dawn");
    group_post(&mut cat.node, group, "cat at dawn");
    for _ in 0..2 {
        exchange(&mut ann.node, &mut bob.node, &[group]);
        exchange(&mut bob.node, &mut cat.node, &[group]);
        exchange(&mut ann.node, &mut cat.node, &[group]);
    }
    let mut want = vec!["ann at dawn", "bob at dawn", "cat at dawn"];
    want.sort();
    for n in [&mut ann.node, &mut bob.node, &mut cat.node] {
        let mut got = texts(n, &group);
        got.sort();
        assert_eq!(got, want);
    }
    // A second message of each rides the same session: no new share.
    let before = wire(&mut ann.node, &[group]).len();
    group_post(&mut ann.node, group, "ann again");
    assert_eq!(wire(&mut ann.node, &[group]).len(), before + 1);
    exchange(&mut ann.node, &mut cat.node, &[group]);
    assert_eq!(texts(&mut cat.node, &group)[0], "ann again");
}

#[test]
fn a_message_to_someone_whose_keys_are_unknown_is_sealed_with_the_space_key_and_read() {
    // Ann has never seen Bob's feed (older software publishes no keys):
    // her message is sealed as before ratchets, and still read.
    let (mut ann, mut bob) = (TestNode::new("ann"), TestNode::new("bob"));
    let ta = ann.node.ticket().unwrap();
    bob.node.follow(&ta).unwrap();
    let (ann_id, bob_id) = (ann.node.identity(), bob.node.identity());
    let space = starling_core::space::direct_space_id(&ann_id, &bob_id);
    ann.node.dm(&bob_id, "hello bob").unwrap();
    let key = starling_core::space::direct_space_key(&identity_key(&ann.home), &bob_id).unwrap();
    let posts = wire(&mut ann.node, &[space])
        .iter()
        .filter_map(|e| Record::decode(e.header().version, &e.open(&key).ok()?).ok())
        .filter(|r| matches!(r, Record::Post(_)))
        .count();
    assert_eq!(posts, 1);
    carry(
        &mut ann.node,
        &mut bob.node,
        &[space, starling_core::space::feed_space_id(&ann_id)],
    );
    let shown = bob.node.dm_show(&ann_id, 10, None).unwrap();
    assert_eq!(shown.posts[0].text, "hello bob");
    // Bob answers (he follows Ann: he holds her keys, his answer is
    // ratcheted), and his log in the conversation carries his keys: Ann's
    // next message is ratcheted too.
    bob.node.dm(&ann_id, "hello ann").unwrap();
    carry(&mut bob.node, &mut ann.node, &[space]);
    let shown = ann.node.dm_show(&bob_id, 10, None).unwrap();
    assert_eq!(shown.posts[0].text, "hello ann");
    ann.node.dm(&bob_id, "now sealed twice").unwrap();
    carry(&mut ann.node, &mut bob.node, &[space]);
    let shown = bob.node.dm_show(&ann_id, 10, None).unwrap();
    assert_eq!(shown.posts[0].text, "now sealed twice");
    let ratcheted: Vec<_> = wire(&mut ann.node, &[space])
        .iter()
        .filter_map(|e| {
            let r = Record::decode(e.header().version, &e.open(&key).ok()?).ok()?;
            matches!(r, Record::Ratcheted(_)).then_some(e.header().author)
        })
        .collect();
    assert_eq!(ratcheted, [bob.node.device(), ann.node.device()]);
    // Ann edits her first message, sealed before ratchets and indexed at
    // Bob's: the edit comes ratcheted, so its words stay out of Bob's
    // search index, and the words it replaced leave it.
    let first = shown
        .posts
        .iter()
        .find(|p| p.text == "hello bob")
        .map(|p| p.id)
        .expect("the first message");
    assert_eq!(bob.node.search("hello", 10).unwrap().len(), 1);
    // (In the conversation: Ann's feed, which her followers read, gets
    // nothing of it.)
    let ann_feed = starling_core::space::feed_space_id(&ann_id);
    let feed_before = wire(&mut ann.node, &[ann_feed]).len();
    ann.node.edit(&first, "quietly reworded").unwrap();
    assert_eq!(wire(&mut ann.node, &[ann_feed]).len(), feed_before);
    carry(&mut ann.node, &mut bob.node, &[space]);
    let shown = bob.node.dm_show(&ann_id, 10, None).unwrap();
    assert!(
        shown
            .posts
            .iter()
            .any(|p| p.id == first && p.text == "quietly reworded")
    );
    assert!(bob.node.search("reworded", 10).unwrap().is_empty());
    assert!(bob.node.search("hello", 10).unwrap().is_empty());
    assert!(bob.node.store().check().unwrap().problems.is_empty());
}

#[test]
fn ratchet_records_out_of_place_change_nothing() {
    let (mut ann, mut bob, _cat, group) = group_of_three();
    group_post(&mut bob.node, group, "bob's word");
    exchange(&mut ann.node, &mut bob.node, &[group]);
    let before = fingerprint(&mut ann.node);
    let texts_before = texts(&mut ann.node, &group);
    // A ratcheted message in a feed: refused.
    let feed = starling_core::space::feed_space_id(&bob.node.identity());
    let stray = Record::Ratcheted(Ratcheted {
        session: "nothing".into(),
        message: vec![1; 40],
    });
    let e = forge(&mut bob.node, &bob.home, &feed, &stray);
    let r = ann.node.import(&crate::support::bundle_of([&e])).unwrap();
    assert_eq!(r.accepted, 0, "{r:?}");
    assert_eq!(fingerprint(&mut ann.node), before);
    // In the group: a share of garbage for Ann's device, a message of a
    // session no one shared, and — sealed by Bob's own session (a copy of
    // his state) — a membership change, which a message may not carry:
    // all kept in Bob's log (he may write there), none applied.
    let garbage = Record::RoomKey(starling_core::ratchet::RoomKey {
        session: "made up".into(),
        shares: vec![(ann.node.device(), 0, vec![7; 200])],
    });
    let mut bobs = stolen_ratchet(&mut bob.node, &bob.home);
    let leave = Record::Group(starling_core::membership::GroupOp::Leave { heads: vec![] });
    let inside = Record::Ratcheted(bobs.seal(&group, &leave.encode()).unwrap());
    let chain =
        crate::support::forge_chain(&mut bob.node, &bob.home, &group, &[garbage, stray, inside]);
    let r = ann.node.import(&crate::support::bundle_of(&chain)).unwrap();
    assert_eq!(r.accepted, 3, "{r:?}");
    assert_eq!(texts(&mut ann.node, &group), texts_before);
    let members = ann.node.group(&group).unwrap().members;
    assert_eq!(members.len(), 3);
    assert!(members.iter().any(|m| m.identity == bob.node.identity()));
}

/// What is said in a conversation stays there: liking, replying to,
/// editing and deleting a direct message write nothing into the feeds the
/// two people's followers read; the reply and the edit reach the other
/// side in the conversation.
#[test]
fn likes_replies_edits_and_deletes_of_a_message_stay_in_the_conversation() {
    let (mut ann, mut bob) = pair();
    let (ann_id, bob_id) = (ann.node.identity(), bob.node.identity());
    let space = starling_core::space::direct_space_id(&ann_id, &bob_id);
    let feeds = [
        starling_core::space::feed_space_id(&ann_id),
        starling_core::space::feed_space_id(&bob_id),
    ];
    ann.node.dm(&bob_id, "between us").unwrap();
    exchange(&mut ann.node, &mut bob.node, &[space]);
    let msg = bob.node.dm_show(&ann_id, 10, None).unwrap().posts[0].id;
    let (ann_feed, bob_feed) = (
        wire(&mut ann.node, &feeds[..1]).len(),
        wire(&mut bob.node, &feeds[1..]).len(),
    );
    bob.node.like(&msg).unwrap();
    bob.node
        .post(NewPost {
            text: "a private answer".into(),
            reply_to: Some(msg),
            ..Default::default()
        })
        .unwrap();
    ann.node.edit(&msg, "between us, reworded").unwrap();
    exchange(&mut ann.node, &mut bob.node, &[space]);
    let at_ann: Vec<String> = ann
        .node
        .dm_show(&bob_id, 10, None)
        .unwrap()
        .posts
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert!(
        at_ann.contains(&"a private answer".to_string()),
        "{at_ann:?}"
    );
    let at_bob = bob.node.dm_show(&ann_id, 10, None).unwrap();
    assert!(
        at_bob
            .posts
            .iter()
            .any(|p| p.id == msg && p.text == "between us, reworded")
    );
    ann.node.delete(&msg).unwrap();
    exchange(&mut ann.node, &mut bob.node, &[space]);
    assert!(
        !bob.node
            .dm_show(&ann_id, 10, None)
            .unwrap()
            .posts
            .iter()
            .any(|p| p.id == msg)
    );
    assert_eq!(
        wire(&mut ann.node, &feeds[..1]).len(),
        ann_feed,
        "Ann's feed grew"
    );
    assert_eq!(
        wire(&mut bob.node, &feeds[1..]).len(),
        bob_feed,
        "Bob's feed grew"
    );
}
