//! Read queries: paging, mutes, search syntax, and index use.

use starling_core::synth::SynthAuthor;
use starling_core::{NewPost, Store};

use crate::support::{TestNode, bundle_of};

const T0: u64 = 1_700_000_000_000;

#[test]
fn read_queries_use_indexes() {
    let store = Store::open_in_memory().unwrap();
    for (name, plan) in store.explain_reads().unwrap() {
        for line in plan.lines() {
            // The audience table (who is followed) is small and read whole.
            // The timeline walks `posts` in key order (newest first) and
            // stops at the page size; nothing else may read a table that
            // grows with the store, or sort all its rows.
            let ordered_walk =
                name == "timeline" && line.contains("SCAN p") && !line.contains("USING");
            let big = [
                "SCAN p",
                "SCAN e",
                "SCAN posts",
                "SCAN entries",
                "SCAN reactions",
                "SCAN edits",
            ];
            let full_scan =
                big.iter().any(|b| line.contains(b)) && !line.contains("USING") && !ordered_walk;
            assert!(!full_scan, "{name} scans a table without an index: {plan}");
            assert!(
                !line.contains("USE TEMP B-TREE FOR ORDER BY"),
                "{name} sorts every matching row: {plan}"
            );
        }
    }
}

#[test]
fn timeline_pages_and_mutes() {
    let mut a = SynthAuthor::new(11);
    let mut b = SynthAuthor::new(12);
    let mut f = TestNode::new("fay");
    f.node.follow(&a.ticket()).unwrap();
    f.node.follow(&b.ticket()).unwrap();
    let mut es = vec![a.cert(T0), b.cert(T0)];
    for i in 0..25u64 {
        es.push(a.post(&format!("a says {i}"), None, T0 + 10 * i));
        es.push(b.post(&format!("b says {i}"), None, T0 + 10 * i)); // same timestamps: ties broken by id
    }
    let r = f.node.import(&bundle_of(&es)).unwrap();
    assert_eq!(r.accepted, 52);
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = f.node.timeline(7, before.as_deref()).unwrap();
        seen.extend(page.posts.iter().map(|p| (p.timestamp, p.id)));
        match page.next {
            Some(n) => before = Some(n),
            None => break,
        }
    }
    assert_eq!(seen.len(), 50);
    let mut sorted = seen.clone();
    sorted.sort_by(|x, y| y.cmp(x));
    assert_eq!(seen, sorted, "newest first, ties by id, no repeats");
    f.node.mute(&b.identity()).unwrap();
    let page = f.node.timeline(100, None).unwrap();
    assert_eq!(page.posts.len(), 25);
    assert!(page.posts.iter().all(|p| p.author == a.identity()));
    assert!(
        f.node
            .search("says", 100)
            .unwrap()
            .iter()
            .all(|p| p.author == a.identity())
    );
    f.node.unmute(&b.identity()).unwrap();
    f.node.unfollow(&a.identity()).unwrap();
    let page = f.node.timeline(100, None).unwrap();
    assert!(page.posts.iter().all(|p| p.author == b.identity()));
    assert!(f.node.timeline(5, Some("not-a-cursor")).is_err());
}

#[test]
fn search_treats_input_as_words_not_syntax() {
    let mut n = TestNode::new("ann");
    n.node
        .post(NewPost {
            text: "murmuration AND \"quotes\" (parens) NEAR* -minus".into(),
            ..Default::default()
        })
        .unwrap();
    for q in [
        "AND",
        "\"quotes\"",
        "(parens)",
        "NEAR*",
        "-minus",
        "\"",
        "*",
        "OR OR",
    ] {
        // None of these may error; the words that are in the post find it.
        let _ = n.node.search(q, 10).unwrap();
    }
    assert_eq!(n.node.search("murmuration", 10).unwrap().len(), 1);
    assert_eq!(n.node.search("parens murmuration", 10).unwrap().len(), 1);
    assert_eq!(n.node.search("absent", 10).unwrap().len(), 0);
    assert_eq!(n.node.search("   ", 10).unwrap().len(), 0);
}

#[test]
fn search_follows_edits() {
    let mut n = TestNode::new("ann");
    let id = n
        .node
        .post(NewPost {
            text: "swallows at noon".into(),
            ..Default::default()
        })
        .unwrap();
    n.node.edit(&id, "starlings at dusk").unwrap();
    assert!(
        n.node.search("swallows", 10).unwrap().is_empty(),
        "old text still indexed"
    );
    assert_eq!(n.node.search("dusk", 10).unwrap().len(), 1);
    n.node.edit(&id, "starlings at dawn").unwrap();
    assert!(n.node.search("dusk", 10).unwrap().is_empty());
    assert_eq!(n.node.search("dawn starlings", 10).unwrap().len(), 1);
    assert!(n.node.store().check().unwrap().problems.is_empty());
}

#[test]
fn deleting_drops_the_payload_and_keeps_the_chain() {
    let mut n = TestNode::new("ann");
    let id = n
        .node
        .post(NewPost {
            text: "secret words".into(),
            ..Default::default()
        })
        .unwrap();
    n.node.edit(&id, "more secret words").unwrap();
    let before = n.node.store().payload_bytes().unwrap();
    n.node.delete(&id).unwrap();
    assert!(n.node.store().payload_bytes().unwrap() < before);
    assert!(n.node.search("secret", 10).unwrap().is_empty());
    assert!(n.node.timeline(10, None).unwrap().posts.is_empty());
    assert!(n.node.store().check().unwrap().problems.is_empty());
    // The header-only copy still travels and verifies elsewhere.
    let mut f = TestNode::new("fay");
    f.node.follow(&n.node.ticket().unwrap()).unwrap();
    let r = f
        .node
        .import(&n.node.export(starling_core::Audience::Anyone).unwrap())
        .unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
    assert!(f.node.timeline(10, None).unwrap().posts.is_empty());
    assert!(f.node.store().check().unwrap().problems.is_empty());
}

#[test]
fn only_the_author_edits_or_deletes() {
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    let id = ann
        .node
        .post(NewPost {
            text: "mine".into(),
            ..Default::default()
        })
        .unwrap();
    bob.node.follow(&ann.node.ticket().unwrap()).unwrap();
    bob.node
        .import(&ann.node.export(starling_core::Audience::Anyone).unwrap())
        .unwrap();
    assert!(
        bob.node
            .edit(&id, "yours now")
            .unwrap_err()
            .to_string()
            .contains("not yours")
    );
    assert!(
        bob.node
            .delete(&id)
            .unwrap_err()
            .to_string()
            .contains("not yours")
    );
}

#[test]
fn notifications_author_pages_and_following() {
    use starling_core::NotificationKind as K;
    use starling_core::record::Record;
    let mut ann = TestNode::new("Ann");
    let mut bob = SynthAuthor::new(21);
    let mut cat = SynthAuthor::new(22);
    ann.node.follow(&bob.ticket()).unwrap();
    ann.node.follow(&cat.ticket()).unwrap();
    let mine = ann
        .node
        .post(NewPost {
            text: "first light".into(),
            ..Default::default()
        })
        .unwrap();
    // Ann's own reply to herself is no notification.
    ann.node
        .post(NewPost {
            text: "and a reply to myself".into(),
            reply_to: Some(mine),
            ..Default::default()
        })
        .unwrap();
    let now = starling_core::node::now_ms();
    let mut es = vec![bob.cert(now), cat.cert(now), bob.name("Bob", now)];
    es.push(bob.post("lovely", Some(mine), now + 1));
    es.push(bob.write(&Record::Like { target: mine }, now + 2));
    es.push(bob.write(&Record::Repost { target: mine }, now + 3));
    es.push(bob.post("ask @ann about it", None, now + 4));
    es.push(bob.post("@annie is someone else", None, now + 5));
    es.push(cat.write(&Record::Like { target: mine }, now + 6));
    ann.node.import(&bundle_of(&es)).unwrap();

    let list = ann.node.notifications(50).unwrap();
    let kinds: Vec<(K, String)> = list.iter().map(|n| (n.kind, n.post.text.clone())).collect();
    assert_eq!(
        kinds,
        vec![
            (K::Like, "first light".to_string()),
            (K::Mention, "ask @ann about it".to_string()),
            (K::Repost, "first light".to_string()),
            (K::Like, "first light".to_string()),
            (K::Reply, "lovely".to_string()),
        ],
        "newest first, no self-notifications, no partial-name mentions"
    );
    assert_eq!(list[1].from_name.as_deref(), Some("Bob"));
    assert_eq!(list[0].from, cat.identity());

    // A muted identity's likes leave the notifications.
    ann.node.mute(&cat.identity()).unwrap();
    let list = ann.node.notifications(50).unwrap();
    assert_eq!(list.len(), 4);
    assert!(list.iter().all(|n| n.from == bob.identity()));

    // One author's page: posts and replies outside groups, newest first.
    let page = ann.node.author_posts(&bob.identity(), 2, None).unwrap();
    assert_eq!(
        page.posts
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>(),
        vec!["@annie is someone else", "ask @ann about it"]
    );
    let rest = ann
        .node
        .author_posts(&bob.identity(), 10, page.next.as_deref())
        .unwrap();
    assert_eq!(rest.posts.len(), 1);
    assert_eq!(rest.posts[0].text, "lovely");

    // Following: who, and following again by a key held here.
    let ids: Vec<_> = ann
        .node
        .following()
        .unwrap()
        .iter()
        .map(|p| p.identity)
        .collect();
    assert!(ids.contains(&bob.identity()) && ids.contains(&cat.identity()));
    ann.node.unfollow(&bob.identity()).unwrap();
    assert!(!ann.node.profile(Some(&bob.identity())).unwrap().followed);
    ann.node.follow_known(&bob.identity()).unwrap();
    assert!(ann.node.profile(Some(&bob.identity())).unwrap().followed);
    let stranger = SynthAuthor::new(23).identity();
    let err = ann.node.follow_known(&stranger).unwrap_err();
    assert!(err.to_string().contains("ticket"), "{err}");
}
