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
            // Trending tags sort their counts: one row per tag of the
            // week's window the index range found, not every post.
            assert!(
                name == "trending" || !line.contains("USE TEMP B-TREE FOR ORDER BY"),
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

/// Posts `text` from `f`'s own feed, as a reply or quote when asked.
fn say(
    f: &mut TestNode,
    text: &str,
    reply_to: Option<starling_core::EntryId>,
    quote_of: Option<starling_core::EntryId>,
) -> starling_core::EntryId {
    f.node
        .post(NewPost {
            text: text.into(),
            reply_to,
            quote_of,
            ..Default::default()
        })
        .unwrap()
}

#[test]
fn quotes_and_replies_carry_cards_of_the_posts_they_name() {
    let mut b = SynthAuthor::new(31);
    let mut f = TestNode::new("fay");
    f.node.follow(&b.ticket()).unwrap();
    let cert = b.cert(T0);
    let original = b.post("the original words", None, T0);
    let original_id = original.id();
    let r = f.node.import(&bundle_of(&[cert, original])).unwrap();
    assert_eq!(r.accepted, 2);
    let mine = say(&mut f, "my own first", None, None);
    let quote = say(&mut f, "look at this", None, Some(original_id));
    let reply = say(&mut f, "agreed", Some(mine), None);
    let quote_of_mine = say(&mut f, "quoting myself", None, Some(mine));
    let find = |f: &mut TestNode, id| {
        f.node
            .timeline(50, None)
            .unwrap()
            .posts
            .into_iter()
            .find(|p| p.id == id)
            .unwrap()
    };
    // The quote carries the quoted post's author, text and time.
    let q = find(&mut f, quote);
    let card = q.quoted.clone().expect("a card of the quoted post");
    assert_eq!(card.author, b.identity());
    assert_eq!(card.text, "the original words");
    assert_eq!(card.timestamp, T0);
    assert_eq!(card.image, None);
    // A reply names whom it answers; a quote of one's own post too.
    let me = f.node.whoami().unwrap().identity;
    let r = find(&mut f, reply);
    assert_eq!(r.reply_to_author, Some(me));
    assert_eq!(r.reply_to_name.as_deref(), Some("fay"));
    let own = find(&mut f, quote_of_mine).quoted.unwrap();
    assert_eq!((own.author, own.text.as_str()), (me, "my own first"));
    // An edit of the quoted post shows in the card.
    f.node.edit(&mine, "my own first, fixed").unwrap();
    assert_eq!(
        find(&mut f, quote_of_mine).quoted.unwrap().text,
        "my own first, fixed"
    );
    // A quote of a post not held here has no card (the id stays).
    let elsewhere = starling_core::EntryId([7; 32]);
    let lost = b.write(
        &starling_core::record::Record::Post(starling_core::record::Post {
            text: "quoting what you never saw".into(),
            reply_to: None,
            quote_of: Some(elsewhere),
            images: vec![],
        }),
        T0 + 5,
    );
    let lost_id = lost.id();
    assert_eq!(f.node.import(&bundle_of(&[lost])).unwrap().accepted, 1);
    let l = find(&mut f, lost_id);
    assert_eq!((l.quote_of, l.quoted), (Some(elsewhere), None));
    // A quoted post by someone blocked has no card.
    f.node.block(&b.identity()).unwrap();
    let q = find(&mut f, quote);
    assert_eq!(q.quote_of, Some(original_id));
    assert_eq!(q.quoted, None, "a blocked author's words stay out of cards");
    // A mention's name finds whoever goes by it here (any case).
    assert_eq!(f.node.profile_named("FAY").unwrap().unwrap().identity, me);
    assert!(f.node.profile_named("nobody here").unwrap().is_none());
    // Plain posts carry none of it.
    let plain = find(&mut f, mine);
    assert_eq!(
        (plain.quoted, plain.reply_to_author, plain.author_avatar),
        (None, None, None)
    );
}

#[test]
fn a_hashtag_search_finds_the_tag_not_the_word_and_follows_edits() {
    let mut b = SynthAuthor::new(41);
    let mut f = TestNode::new("fay");
    f.node.follow(&b.ticket()).unwrap();
    let cert = b.cert(T0);
    let tagged = b.post("starlings over the pier #Murmuration", None, T0);
    let word = b.post("a murmuration, without a tag", None, T0 + 1);
    let (tagged_id, word_id) = (tagged.id(), word.id());
    let r = f.node.import(&bundle_of(&[cert, tagged, word])).unwrap();
    assert_eq!(r.accepted, 3);
    let mine = say(&mut f, "#murmuration at dusk, #dusk", None, None);
    let ids = |f: &mut TestNode, q: &str| -> Vec<starling_core::EntryId> {
        f.node
            .search(q, 50)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    // The tag (any case) finds the tagged posts, newest first; the word
    // alone finds all three.
    assert_eq!(ids(&mut f, "#MURMURATION"), vec![mine, tagged_id]);
    assert_eq!(ids(&mut f, "#dusk"), vec![mine]);
    assert_eq!(ids(&mut f, "murmuration").len(), 3);
    assert!(ids(&mut f, "murmuration").contains(&word_id));
    // An edit that drops the tag drops it from the tag's posts.
    f.node.edit(&mine, "at dusk, no tags now").unwrap();
    assert_eq!(ids(&mut f, "#murmuration"), vec![tagged_id]);
    assert!(ids(&mut f, "#dusk").is_empty());
    // Deleted, muted: gone from the tag too.
    f.node.mute(&b.identity()).unwrap();
    assert!(ids(&mut f, "#murmuration").is_empty());
    f.node.unmute(&b.identity()).unwrap();
    let again = say(&mut f, "#dusk again", None, None);
    assert_eq!(ids(&mut f, "#dusk"), vec![again]);
    f.node.delete(&again).unwrap();
    assert!(ids(&mut f, "#dusk").is_empty());
    assert!(f.node.store().check().unwrap().problems.is_empty());
}

#[test]
fn trending_tags_count_the_people_followed_this_week() {
    let mut f = TestNode::new("fay");
    let now = starling_core::node::now_ms();
    let day = 24 * 3600 * 1000;
    let mut es = Vec::new();
    let mut authors: Vec<SynthAuthor> = (0..3).map(|i| SynthAuthor::new(50 + i)).collect();
    for a in &mut authors {
        f.node.follow(&a.ticket()).unwrap();
        es.push(a.cert(now - 30 * day));
    }
    // #dusk by all three, #pier by one (twice), #old only long ago.
    for a in &mut authors {
        es.push(a.post("starlings at #dusk", None, now - day));
    }
    es.push(authors[0].post("the #pier again #pier", None, now - 2 * day));
    es.push(authors[0].post("the #pier once more", None, now - 3 * day));
    es.push(authors[1].post("an #old tag", None, now - 20 * day));
    // Someone not followed uses #elsewhere a lot.
    let mut stranger = SynthAuthor::new(60);
    let mut theirs = vec![stranger.cert(now - day)];
    for i in 0..5 {
        theirs.push(stranger.post("#elsewhere", None, now - day + i));
    }
    assert_eq!(
        f.node.import(&bundle_of(&es)).unwrap().accepted as usize,
        es.len()
    );
    f.node.import(&bundle_of(&theirs)).unwrap();
    let top = f.node.trending_tags(10).unwrap();
    let tags: Vec<(&str, u64, u64)> = top
        .iter()
        .map(|t| (t.tag.as_str(), t.posts, t.authors))
        .collect();
    assert_eq!(tags, vec![("dusk", 3, 3), ("pier", 2, 1)]);
    // A muted author's tags do not count.
    f.node.mute(&authors[0].identity()).unwrap();
    let top = f.node.trending_tags(10).unwrap();
    assert_eq!(
        top.iter()
            .map(|t| (t.tag.as_str(), t.authors))
            .collect::<Vec<_>>(),
        vec![("dusk", 2)]
    );
}

#[test]
fn a_profiles_media_is_its_posts_with_images_in_pages() {
    let mut f = TestNode::new("fay");
    let mut with = Vec::new();
    for i in 0..7u8 {
        f.node
            .post(NewPost {
                text: format!("words {i}"),
                ..Default::default()
            })
            .unwrap();
        if i % 2 == 0 {
            let id = f
                .node
                .post(NewPost {
                    text: format!("picture {i}"),
                    images: vec![crate::support::png(i, 8)],
                    ..Default::default()
                })
                .unwrap();
            with.push(id);
        }
    }
    with.reverse();
    let me = f.node.identity();
    let first = f.node.author_media(&me, 3, None).unwrap();
    let ids: Vec<_> = first.posts.iter().map(|p| p.id).collect();
    assert_eq!(ids, with[..3]);
    let rest = f.node.author_media(&me, 3, first.next.as_deref()).unwrap();
    let ids: Vec<_> = rest.posts.iter().map(|p| p.id).collect();
    assert_eq!(ids, with[3..]);
    assert_eq!(rest.next, None);
    assert!(rest.posts.iter().all(|p| p.images.len() == 1));
    // Someone with no images: an empty page, no cursor.
    let other = starling_core::IdentityId([4; 32]);
    let none = f.node.author_media(&other, 3, None).unwrap();
    assert!(none.posts.is_empty() && none.next.is_none());
}
