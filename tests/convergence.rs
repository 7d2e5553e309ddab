//! Invariant 3: stores that receive the same set of entries show the same
//! state, whatever the order, duplication or split into bundles.

use std::sync::OnceLock;

use proptest::prelude::*;
use starling_core::bundle::{self, Item};
use starling_core::doc::ProfileUpdate;
use starling_core::{Audience, EntryId, IdentityId, NewPost, Node, PostView, ProfileView, Ticket};

use crate::support::{Rng, TestNode, bundle_of_raw};

/// Entries written by three people who follow each other, with replies,
/// likes, reposts, quotes, edits, a delete and profile changes.
struct Scenario {
    entries: Vec<Vec<u8>>,
    tickets: Vec<Ticket>,
    authors: Vec<IdentityId>,
    root: EntryId,
}

fn sync(from: &mut Node, to: &mut Node) {
    let b = from.export(Audience::Anyone).unwrap();
    let r = to.import(&b).unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
}

fn text(t: &str) -> NewPost {
    NewPost {
        text: t.into(),
        ..Default::default()
    }
}

fn scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        let mut ann = TestNode::new("ann");
        let mut bob = TestNode::new("bob");
        let mut cat = TestNode::new("cat");
        let tickets: Vec<Ticket> = [&mut ann, &mut bob, &mut cat]
            .into_iter()
            .map(|n| n.node.ticket().unwrap())
            .collect();
        for (i, n) in [&mut ann, &mut bob, &mut cat].into_iter().enumerate() {
            for (j, t) in tickets.iter().enumerate() {
                if i != j {
                    n.node.follow(t).unwrap();
                }
            }
        }
        let p1 = ann.node.post(text("hello flock, first post")).unwrap();
        let p2 = ann
            .node
            .post(text("a second thought about starlings"))
            .unwrap();
        sync(&mut ann.node, &mut bob.node);
        let r1 = bob
            .node
            .post(NewPost {
                text: "welcome to the flock".into(),
                reply_to: Some(p1),
                ..Default::default()
            })
            .unwrap();
        bob.node.like(&p1).unwrap();
        sync(&mut bob.node, &mut cat.node);
        cat.node.like(&p1).unwrap();
        cat.node.repost(&p2).unwrap();
        cat.node
            .post(NewPost {
                text: "quoting bob on the flock".into(),
                quote_of: Some(r1),
                ..Default::default()
            })
            .unwrap();
        cat.node
            .post(NewPost {
                text: "a reply to a reply".into(),
                reply_to: Some(r1),
                ..Default::default()
            })
            .unwrap();
        // Concurrent edits of one post on Ann's device, and a delete.
        ann.node
            .edit(&p1, "hello flock, first post (edited)")
            .unwrap();
        ann.node
            .edit(&p1, "hello flock, first post (edited twice)")
            .unwrap();
        ann.node.delete(&p2).unwrap();
        bob.node.edit(&r1, "welcome to the flock, Ann").unwrap();
        bob.node
            .set_profile(
                ProfileUpdate {
                    bio: Some("watches birds".into()),
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        cat.node
            .set_profile(
                ProfileUpdate {
                    name: Some("Cat Murmur".into()),
                    ..Default::default()
                },
                None,
            )
            .unwrap();
        // Every copy of every entry, from every store (some without payload).
        let mut entries = Vec::new();
        for n in [&mut ann, &mut bob, &mut cat] {
            let b = n.node.export(Audience::Anyone).unwrap();
            for item in bundle::parse(&b).unwrap() {
                if let Item::Entry(e) = item {
                    entries.push(e.to_vec());
                }
            }
        }
        let authors = vec![
            ann.node.identity(),
            bob.node.identity(),
            cat.node.identity(),
        ];
        Scenario {
            entries,
            tickets,
            authors,
            root: p1,
        }
    })
}

/// Everything a person could see, for comparison.
#[derive(Debug, PartialEq)]
struct View {
    timeline: Vec<PostView>,
    thread: Vec<PostView>,
    search: Vec<EntryId>,
    profiles: Vec<ProfileView>,
    docs: Vec<starling_core::doc::Profile>,
}

fn view(node: &mut Node, s: &Scenario) -> View {
    let mut timeline = Vec::new();
    let mut before: Option<String> = None;
    for _ in 0..100 {
        let page = node.timeline(3, before.as_deref()).unwrap();
        timeline.extend(page.posts);
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    let mut search: Vec<EntryId> = node
        .search("flock", 50)
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    search.sort();
    View {
        timeline,
        thread: node.thread(&s.root).unwrap(),
        search,
        profiles: s
            .authors
            .iter()
            .map(|a| node.profile(Some(a)).unwrap())
            .collect(),
        docs: s
            .authors
            .iter()
            .map(|a| {
                node.store()
                    .doc(&starling_core::space::feed_space_id(a))
                    .unwrap()
                    .profile()
            })
            .collect(),
    }
}

/// A fresh follower imports the entries in the given bundles. With `late`,
/// it follows that author only after the first half of the bundles: their
/// entries in it are refused (a space not held is not stored), and come
/// again, as the next sync would bring them.
fn replay(s: &Scenario, bundles: &[Vec<u8>], late: Option<usize>) -> View {
    let mut f = TestNode::new("fay");
    for (i, t) in s.tickets.iter().enumerate() {
        if Some(i) != late {
            f.node.follow(t).unwrap();
        }
    }
    let half = bundles.len() / 2;
    for b in &bundles[..half] {
        let r = f.node.import(b).unwrap();
        assert!(
            r.rejected
                .iter()
                .all(|x| late.is_some() && x.reason.contains("not held here")),
            "{r:?}"
        );
    }
    if let Some(i) = late {
        f.node.follow(&s.tickets[i]).unwrap();
        for b in &bundles[..half] {
            let r = f.node.import(b).unwrap();
            assert!(r.rejected.is_empty(), "{r:?}");
        }
    }
    for b in &bundles[half..] {
        let r = f.node.import(b).unwrap();
        assert!(r.rejected.is_empty(), "{r:?}");
    }
    assert!(f.node.store().check().unwrap().problems.is_empty());
    view(&mut f.node, s)
}

fn reference() -> &'static View {
    static R: OnceLock<View> = OnceLock::new();
    R.get_or_init(|| {
        let s = scenario();
        replay(
            s,
            &[bundle_of_raw(s.entries.iter().map(Vec::as_slice))],
            None,
        )
    })
}

#[test]
fn reference_state_is_what_the_scenario_wrote() {
    let v = reference();
    let texts: Vec<&str> = v.timeline.iter().map(|p| p.text.as_str()).collect();
    assert!(
        texts.contains(&"hello flock, first post (edited twice)"),
        "{texts:?}"
    );
    assert!(texts.contains(&"welcome to the flock, Ann"));
    assert!(
        !texts.iter().any(|t| t.contains("second thought")),
        "deleted post shown"
    );
    let root = v
        .timeline
        .iter()
        .find(|p| p.text.starts_with("hello flock"))
        .unwrap();
    assert_eq!((root.likes, root.edited), (2, true));
    assert_eq!(v.thread.len(), 3, "root, reply, reply to the reply");
    assert_eq!(v.profiles[1].bio.as_deref(), Some("watches birds"));
    assert_eq!(v.profiles[2].name.as_deref(), Some("Cat Murmur"));
    assert_eq!(v.docs[2].name.as_deref(), Some("Cat Murmur"));
    assert_eq!(v.search.len(), 3, "root, reply and quote mention the flock");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn any_order_duplicates_and_splits_converge(seed in any::<u64>(), parts in 1usize..5, dups in 0usize..12, late in proptest::option::of(0usize..3)) {
        let s = scenario();
        let mut rng = Rng::new(seed);
        let mut all: Vec<&[u8]> = s.entries.iter().map(Vec::as_slice).collect();
        for _ in 0..dups {
            let i = rng.below(s.entries.len());
            all.push(&s.entries[i]);
        }
        rng.shuffle(&mut all);
        let mut bundles = Vec::new();
        let chunk = all.len().div_ceil(parts);
        for c in all.chunks(chunk) {
            bundles.push(bundle_of_raw(c.iter().copied()));
        }
        let v = replay(s, &bundles, late);
        prop_assert_eq!(&v, reference());
    }
}
