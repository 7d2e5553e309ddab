//! Bad input is refused with a specific reason and leaves the store unchanged.

use starling_core::bundle::BundleError;
use starling_core::record::{MAX_TEXT_LEN, Post, Record};
use starling_core::synth::SynthAuthor;
use starling_core::{Entry, EntryId, SpaceKey, StoreError};

use crate::support::{TestNode, bundle_of, bundle_of_raw, fingerprint};

const T0: u64 = 1_700_000_000_000;

/// A follower that already holds the author's first three entries.
fn setup() -> (TestNode, SynthAuthor) {
    let mut author = SynthAuthor::new(7);
    let mut f = TestNode::new("fay");
    f.node.follow(&author.ticket()).unwrap();
    let first = vec![
        author.cert(T0),
        author.name("Syn", T0 + 1),
        author.post("first", None, T0 + 2),
    ];
    let r = f.node.import(&bundle_of(&first)).unwrap();
    assert_eq!(r.accepted, 3, "{r:?}");
    (f, author)
}

/// A post signed by the author's device at its next seq, forged with a
/// chosen previous entry, key and nonce.
fn forge(
    a: &SynthAuthor,
    previous: Option<EntryId>,
    key: &SpaceKey,
    nonce: u8,
    text: &str,
) -> Entry {
    let plain = Record::Post(Post {
        text: text.into(),
        reply_to: None,
        quote_of: None,
        images: vec![],
    })
    .encode();
    let space = starling_core::space::feed_space_id(&a.identity());
    Entry::create(
        a.device_key(),
        space,
        a.next_seq(),
        previous,
        T0 + 3,
        0,
        key,
        [nonce; 24],
        &plain,
    )
}

/// Imports `bundle`, expects exactly one rejection whose reason contains
/// `reason`, and no change to the store.
fn refused(f: &mut TestNode, bundle: &[u8], reason: &str) {
    let before = fingerprint(&mut f.node);
    let r = f.node.import(bundle).unwrap();
    assert_eq!(r.accepted, 0, "{r:?}");
    assert_eq!(r.rejected.len(), 1, "{r:?}");
    assert!(
        r.rejected[0].reason.contains(reason),
        "expected {reason:?} in {:?}",
        r.rejected[0].reason
    );
    assert_eq!(fingerprint(&mut f.node), before, "store changed");
    assert!(f.node.store().check().unwrap().problems.is_empty());
}

#[test]
fn tampered_signature() {
    let (mut f, mut a) = setup();
    let e = a.post("second", None, T0 + 3);
    let mut sig = *e.signature();
    sig[5] ^= 0x10;
    refused(
        &mut f,
        &bundle_of([&e.with_signature(sig)]),
        "bad signature",
    );
}

#[test]
fn tampered_payload() {
    let (mut f, mut a) = setup();
    let e = a.post("second", None, T0 + 3);
    let mut p = e.payload().unwrap().to_vec();
    p[30] ^= 1;
    refused(
        &mut f,
        &bundle_of([&e.with_raw_payload(Some(p))]),
        "payload does not match the signed payload hash",
    );
}

#[test]
fn wrong_key() {
    let (mut f, a) = setup();
    let e = forge(
        &a,
        a.head(),
        &SpaceKey::from_bytes([9; 32]),
        1,
        "sealed with the wrong key",
    );
    refused(&mut f, &bundle_of([&e]), "wrong key");
}

#[test]
fn broken_chain() {
    let (mut f, a) = setup();
    let e = forge(&a, Some(EntryId([3; 32])), a.space_key(), 2, "fork");
    refused(&mut f, &bundle_of([&e]), "broken chain");
}

#[test]
fn equivocation_is_kept_as_evidence() {
    let (mut f, a) = setup();
    let make = |text: &str, nonce: u8| forge(&a, a.head(), a.space_key(), nonce, text);
    let (x, y) = (make("one version", 1), make("another version", 2));
    let r = f.node.import(&bundle_of([&x])).unwrap();
    assert_eq!(r.accepted, 1);
    let before = f.node.store().counts().unwrap();
    let r = f.node.import(&bundle_of([&y])).unwrap();
    assert_eq!(r.accepted, 0);
    assert!(r.rejected[0].reason.contains("equivocation"), "{r:?}");
    assert_eq!(f.node.store().counts().unwrap(), before);
    let ev = f.node.store().equivocations().unwrap();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].2, 4);
    // The device is now treated as compromised: later entries are refused.
    let mut a2 = a;
    let _ = a2.post("skipped", None, T0 + 3); // the author's own seq 4 (what x claimed)
    let later = a2.post("after", None, T0 + 4);
    let r = f.node.import(&bundle_of([&later])).unwrap();
    assert!(
        r.rejected.iter().any(|x| x.reason.contains("compromised")),
        "{r:?}"
    );
}

#[test]
fn oversized_fields() {
    let (mut f, mut a) = setup();
    let e = a.write(
        &Record::Post(Post {
            text: "x".repeat(MAX_TEXT_LEN + 1),
            reply_to: None,
            quote_of: None,
            images: vec![],
        }),
        T0 + 3,
    );
    refused(&mut f, &bundle_of([&e]), "text");
    // A followed author's image description over the limit (the alt-text
    // extension): the whole post is refused, nothing stored. (A fresh
    // author: the refused entry above left a gap in `a`'s log.)
    let (mut f, mut a) = setup();
    let e = a.write(
        &Record::Post(Post {
            text: "look".into(),
            reply_to: None,
            quote_of: None,
            images: vec![starling_core::record::ImageRef {
                hash: starling_core::Hash([5; 32]),
                len: 100,
                mime: "image/png".into(),
                alt: "x".repeat(starling_core::record::MAX_ALT_LEN + 1),
            }],
        }),
        T0 + 3,
    );
    refused(&mut f, &bundle_of([&e]), "alt");
    // A public follow list naming more than its limit of identities.
    let (mut f, mut a) = setup();
    let e = a.write(
        &Record::Follows(vec![
            starling_core::IdentityId([3; 32]);
            starling_core::record::MAX_PUBLIC_FOLLOWS + 1
        ]),
        T0 + 3,
    );
    refused(&mut f, &bundle_of([&e]), "follows");
    // An entry record over the size limit breaks the bundle's framing.
    let huge = vec![0u8; starling_core::entry::MAX_ENTRY_LEN + 1];
    let before = fingerprint(&mut f.node);
    let err = f
        .node
        .import(&bundle_of_raw([huge.as_slice()]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            starling_core::NodeError::Store(StoreError::Bundle(BundleError::TooLarge { .. }))
        ),
        "{err}"
    );
    assert_eq!(fingerprint(&mut f.node), before);
}

#[test]
fn truncated_and_garbage_bundles() {
    let (mut f, mut a) = setup();
    let good = bundle_of([
        &a.post("second", None, T0 + 3),
        &a.post("third", None, T0 + 4),
    ]);
    let before = fingerprint(&mut f.node);
    for cut in [0, 5, 9, 20, good.len() / 2, good.len() - 1] {
        let err = f.node.import(&good[..cut]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("truncated") || text.contains("not a Starling bundle"),
            "{text}"
        );
    }
    let err = f
        .node
        .import(b"this is not a bundle at all, just some garbage bytes")
        .unwrap_err();
    assert!(err.to_string().contains("not a Starling bundle"), "{err}");
    assert_eq!(fingerprint(&mut f.node), before);
    // Well-framed garbage entries are refused one by one.
    let junk: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 40 + i as usize * 13]).collect();
    let r = f
        .node
        .import(&bundle_of_raw(junk.iter().map(Vec::as_slice)))
        .unwrap();
    assert_eq!(r.accepted, 0);
    assert_eq!(r.rejected.len(), 5);
    assert!(
        r.rejected
            .iter()
            .all(|x| x.reason.starts_with("malformed entry")),
        "{r:?}"
    );
    assert_eq!(fingerprint(&mut f.node), before);
    // The good bundle still imports afterwards.
    assert_eq!(f.node.import(&good).unwrap().accepted, 2);
}

#[test]
fn mixed_bundle_keeps_the_good_entries() {
    let (mut f, mut a) = setup();
    let good1 = a.post("second", None, T0 + 3);
    let good2 = a.post("third", None, T0 + 4);
    let mut sig = *good2.signature();
    sig[0] ^= 1;
    let bad = good2.clone().with_signature(sig);
    let r = f.node.import(&bundle_of([&good1, &bad])).unwrap();
    assert_eq!(r.accepted, 1, "{r:?}");
    assert_eq!(r.rejected.len(), 1);
    let texts: Vec<String> = f
        .node
        .timeline(10, None)
        .unwrap()
        .posts
        .into_iter()
        .map(|p| p.text)
        .collect();
    assert_eq!(texts, vec!["second", "first"]);
    assert_eq!(f.node.import(&bundle_of([&good2])).unwrap().accepted, 1);
}

#[test]
fn entries_out_of_order_wait_for_their_predecessor() {
    let (mut f, mut a) = setup();
    let e4 = a.post("fourth", None, T0 + 3);
    let e5 = a.post("fifth", None, T0 + 4);
    let r = f.node.import(&bundle_of([&e5])).unwrap();
    assert_eq!((r.accepted, r.pending), (0, 1));
    assert_eq!(
        f.node.timeline(10, None).unwrap().posts.len(),
        1,
        "nothing shown before the gap fills"
    );
    let r = f.node.import(&bundle_of([&e4])).unwrap();
    assert_eq!(r.accepted, 1);
    assert_eq!(f.node.timeline(10, None).unwrap().posts.len(), 3);
    assert!(f.node.store().check().unwrap().problems.is_empty());
}

#[test]
fn a_feed_cannot_be_written_by_another_identity() {
    let mut a = SynthAuthor::new(1);
    let mut mallory = SynthAuthor::new(2);
    let mut f = TestNode::new("fay");
    f.node.follow(&a.ticket()).unwrap();
    f.node.import(&bundle_of([&a.cert(T0)])).unwrap();
    // Mallory signs a certificate for her own device and writes it into Ann's feed.
    let cert =
        match Record::decode(2, &mallory.cert(T0).open(mallory.space_key()).unwrap()).unwrap() {
            Record::DeviceCert(c) => c,
            other => panic!("{other:?}"),
        };
    let space = starling_core::space::feed_space_id(&a.identity());
    let e = Entry::create(
        mallory.device_key(),
        space,
        1,
        None,
        T0,
        0,
        a.space_key(),
        [5; 24],
        &Record::DeviceCert(cert).encode(),
    );
    refused(&mut f, &bundle_of([&e]), "may not write in this feed");
}

/// A fetched image whose bytes do not match the hash the post names is
/// refused, and nothing is stored; the right bytes are kept.
#[test]
fn a_fetched_blob_that_does_not_match_its_hash_is_refused() {
    use starling_core::NewPost;
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    let picture = crate::support::png(5, 32);
    let id = ann
        .node
        .post(NewPost {
            text: "a picture".into(),
            images: vec![picture.clone()],
            ..Default::default()
        })
        .unwrap();
    let hash = ann.node.store().post(&id).unwrap().unwrap().images[0];
    let sealed = ann.node.store().blob(&hash).unwrap().unwrap();
    // Bob gets the entries but not the blob (as over sync).
    bob.node.follow(&ann.node.ticket().unwrap()).unwrap();
    let feed = starling_core::space::feed_space_id(&ann.node.identity());
    let ann_device = ann.node.device();
    let entries = ann
        .node
        .store()
        .entries_after(&feed, &ann_device, 0, 100)
        .unwrap();
    bob.node.store().import_entries(entries).unwrap();
    let wants = bob.node.store().wanted_blobs(10).unwrap();
    assert_eq!(wants.len(), 1);
    assert_eq!(wants[0].hash, hash);
    assert_eq!(wants[0].author, ann_device);
    let before = fingerprint(&mut bob.node);
    let mut wrong = sealed.clone();
    wrong[10] ^= 1;
    assert!(matches!(
        bob.node.store().put_wanted_blob(&hash, &wrong),
        Err(StoreError::BlobMismatch(_))
    ));
    assert_eq!(bob.node.store().blob(&hash).unwrap(), None);
    assert_eq!(fingerprint(&mut bob.node), before);
    assert_eq!(bob.node.store().wanted_blobs(10).unwrap().len(), 1);
    // The right bytes are kept, and open to the picture.
    assert!(bob.node.store().put_wanted_blob(&hash, &sealed).unwrap());
    assert!(bob.node.store().wanted_blobs(10).unwrap().is_empty());
    let ann_identity = ann.node.identity();
    assert_eq!(
        bob.node.open_blob(&ann_identity, &hash).unwrap(),
        Some(picture)
    );
}

/// A bundle that carries blobs no post held here refers to (junk in a
/// followed feed's space, or the image of a deleted post) keeps none of
/// them: nothing stored, no error for the rest of the bundle.
#[test]
fn blobs_no_post_wants_are_not_kept() {
    use starling_core::bundle::BundleWriter;
    let mut ann = crate::support::TestNode::new("ann");
    let mut bob = crate::support::TestNode::new("bob");
    let t = ann.node.ticket().unwrap();
    bob.node.follow(&t).unwrap();
    let feed = starling_core::space::feed_space_id(&ann.node.identity());
    let junk = vec![7u8; 5_000];
    let mut w = BundleWriter::new();
    w.blob(&starling_core::Hash::of(&junk), &feed, &junk);
    let before = crate::support::fingerprint(&mut bob.node);
    let r = bob.node.import(&w.finish()).unwrap();
    assert_eq!(r.blobs, 0, "{r:?}");
    assert!(
        !bob.node
            .store()
            .has_blob(&starling_core::Hash::of(&junk))
            .unwrap()
    );
    assert_eq!(crate::support::fingerprint(&mut bob.node), before);
}

/// A followed author's post naming 40 hashtags and one too long to be a
/// tag: the post is kept (it breaks no rule), the tag index takes its
/// first 16 tags only, so one post cannot fill the index.
#[test]
fn a_post_full_of_hashtags_fills_the_index_only_to_its_bound() {
    let (mut f, mut a) = setup();
    let long = "x".repeat(starling_core::hashtag::MAX_TAG_CHARS + 1);
    let tags: Vec<String> = (1..=40).map(|i| format!("#t{i}")).collect();
    let text = format!("#{long} {}", tags.join(" "));
    let e = a.post(&text, None, T0 + 3);
    let r = f.node.import(&bundle_of([&e])).unwrap();
    assert_eq!(r.accepted, 1, "{r:?}");
    let found = |f: &mut TestNode, q: &str| f.node.search(q, 10).unwrap().len();
    for i in 1..=starling_core::hashtag::MAX_TAGS {
        assert_eq!(found(&mut f, &format!("#t{i}")), 1, "#t{i}");
    }
    for i in starling_core::hashtag::MAX_TAGS + 1..=40 {
        assert_eq!(found(&mut f, &format!("#t{i}")), 0, "#t{i}");
    }
    assert!(f.node.store().check().unwrap().problems.is_empty());
}
