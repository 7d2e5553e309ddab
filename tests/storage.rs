//! Storage that stays within what the user allows: budgets bring the store
//! under them, the user's own data survives every eviction, cleanup takes
//! a dropped feed off the disk, and sync stays correct around evicted
//! data (an evicted image comes back from a peer; a follower of an
//! evicted feed gets it from someone who holds it whole).

use starling_core::space::feed_space_id;
use starling_core::view::{Budgets, StorageKind};
use starling_core::{Audience, NewPost, Node};

use crate::net::{Running, bounded, fetched, post, ticket};
use crate::support::{TestNode, contains, files_under, png};

/// Budgets that keep nothing of others' posts or images.
fn nothing_of_others() -> Budgets {
    Budgets {
        media_cache_bytes: 0,
        others_posts_bytes: 0,
        keep_others_posts_days: 36_500,
    }
}

/// `n` posts of about 300 bytes each, every `image_every`th with an image.
fn posts(node: &mut Node, who: &str, n: usize, image_every: usize) {
    for i in 0..n {
        let images = if image_every > 0 && i % image_every == 0 {
            vec![png(i as u8, 48)]
        } else {
            Vec::new()
        };
        node.post(NewPost {
            text: format!("{who} post {i} {}", "words ".repeat(50)),
            images,
            ..Default::default()
        })
        .unwrap();
    }
}

/// Ann with 40 posts (8 with images) whose feed Bob follows and holds,
/// and Bob with 10 posts of his own (5 with images).
fn ann_and_bob() -> (TestNode, TestNode) {
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    posts(&mut ann.node, "ann", 40, 5);
    posts(&mut bob.node, "bob", 10, 2);
    let t = ann.node.ticket().unwrap();
    bob.node.follow(&t).unwrap();
    let bundle = ann.node.export(Audience::Anyone).unwrap();
    let r = bob.node.import(&bundle).unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
    (ann, bob)
}

fn own_texts(node: &mut Node) -> Vec<String> {
    let me = node.identity();
    node.author_posts(&me, 100, None)
        .unwrap()
        .posts
        .into_iter()
        .map(|p| p.text)
        .collect()
}

fn kind_bytes(node: &mut Node, kind: StorageKind) -> u64 {
    node.storage()
        .unwrap()
        .kinds
        .iter()
        .find(|k| k.kind == kind)
        .map_or(0, |k| k.bytes)
}

#[test]
fn a_budget_smaller_than_the_data_brings_the_store_under_it_and_own_data_stays() {
    let (_ann, mut bob) = ann_and_bob();
    let n = &mut bob.node;
    let posts_held = n.store().others_posts_bytes().unwrap();
    let images_held = n.store().media_cache_bytes().unwrap();
    assert!(posts_held > 10_000, "{posts_held}");
    assert!(images_held > 0);
    let own_before = own_texts(n);
    assert_eq!(own_before.len(), 10);
    let report = n.storage().unwrap();
    assert!(kind_bytes(n, StorageKind::Followed) > posts_held);
    assert!(kind_bytes(n, StorageKind::Own) > 0);
    assert!(kind_bytes(n, StorageKind::OwnMedia) > 0);
    assert_eq!(
        kind_bytes(n, StorageKind::MediaCache),
        images_held,
        "the report's media cache is what the budget limits"
    );
    assert!(kind_bytes(n, StorageKind::SearchIndex) > 0);
    assert_eq!(report.biggest.len(), 1, "{:?}", report.biggest);
    assert_eq!(report.biggest[0].name.as_deref(), Some("ann"));

    // Half of the posts and a third of the images may stay.
    let budgets = Budgets {
        media_cache_bytes: images_held / 3,
        others_posts_bytes: posts_held / 2,
        keep_others_posts_days: 365,
    };
    let evicted = n.set_budgets(&budgets).unwrap();
    assert!(evicted.posts > 0 && evicted.images > 0, "{evicted:?}");
    assert!(n.store().others_posts_bytes().unwrap() <= budgets.others_posts_bytes);
    assert!(n.store().media_cache_bytes().unwrap() <= budgets.media_cache_bytes);
    // The oldest went: the newest of Ann's posts are still shown.
    let shown = crate::support::texts(n);
    assert!(shown.iter().any(|t| t.starts_with("ann post 39 ")));
    assert!(!shown.iter().any(|t| t.starts_with("ann post 0 ")));
    // A second check with the same budgets finds nothing more to do.
    assert_eq!(n.check_storage().unwrap(), Default::default());

    // Nothing of others at all: own posts, images and keys stay.
    let evicted = n.set_budgets(&nothing_of_others()).unwrap();
    assert!(evicted.posts > 0, "{evicted:?}");
    assert_eq!(n.store().others_posts_bytes().unwrap(), 0);
    assert_eq!(n.store().media_cache_bytes().unwrap(), 0);
    assert_eq!(own_texts(n), own_before);
    let me = n.identity();
    for p in n.author_posts(&me, 100, None).unwrap().posts {
        for image in &p.images {
            assert!(n.open_blob(&me, image).unwrap().is_some());
        }
    }
    assert!(
        !n.store()
            .space_keys(&feed_space_id(&_ann.node.identity()))
            .unwrap()
            .is_empty(),
        "the followed feed's key stays"
    );
    // The logs still verify: headers stay where payloads went.
    let check = n.store().check().unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert!(n.storage().unwrap().headers_only >= 40);
    // And the node goes on: a new post, a new follow's worth of data.
    n.post(NewPost {
        text: "still here".into(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(own_texts(n)[0], "still here");
}

#[test]
fn others_posts_older_than_the_age_limit_keep_their_headers_only() {
    let (_ann, mut bob) = ann_and_bob();
    let n = &mut bob.node;
    let budgets = Budgets {
        keep_others_posts_days: 30,
        ..Budgets::default()
    };
    let now = starling_core::node::now_ms();
    // Today nothing is that old.
    let today = n.store().enforce_budgets(now, &budgets).unwrap();
    assert_eq!(today.posts, 0);
    // Thirty-one days on, all of Ann's posts are; none of Bob's.
    let later = n
        .store()
        .enforce_budgets(now + 31 * 86_400_000, &budgets)
        .unwrap();
    assert_eq!(later.posts, 40);
    assert_eq!(n.store().others_posts_bytes().unwrap(), 0);
    assert_eq!(own_texts(n).len(), 10);
    assert!(
        crate::support::texts(n)
            .iter()
            .all(|t| t.starts_with("bob post"))
    );
}

#[test]
fn unfollow_and_cleanup_take_a_feed_off_the_disk() {
    let (ann, mut bob) = ann_and_bob();
    let ann_id = ann.node.identity();
    let marker = b"ann post 7 words";
    // Still followed: kept.
    let kept = bob.node.drop_feed(&ann_id).unwrap();
    assert_eq!(kept.kept.as_deref(), Some("still followed"));
    assert_eq!(kept.entries, 0);
    assert!(bob.node.unfollow(&ann_id).unwrap());
    bob.node.store().scrub().unwrap();
    let db = bob.home.join("starling.db");
    let before = std::fs::metadata(&db).unwrap().len();
    let dropped = bob.node.drop_feed(&ann_id).unwrap();
    assert_eq!(dropped.kept, None);
    assert!(dropped.entries >= 40, "{dropped:?}");
    assert_eq!(dropped.images, 8);
    assert!(
        crate::support::texts(&mut bob.node)
            .iter()
            .all(|t| !t.starts_with("ann"))
    );
    assert!(
        bob.node
            .search("words", 100)
            .unwrap()
            .iter()
            .all(|p| p.author != ann_id)
    );
    // Sync no longer asks for it.
    let feed = feed_space_id(&ann_id);
    assert!(
        bob.node
            .store()
            .sync_spaces(true)
            .unwrap()
            .iter()
            .all(|(s, _)| *s != feed)
    );
    let s = bob.node.storage().unwrap();
    assert!(
        s.biggest.iter().all(|a| a.identity != ann_id),
        "{:?}",
        s.biggest
    );
    assert_eq!(kind_bytes(&mut bob.node, StorageKind::MediaCache), 0);
    assert!(bob.node.store().check().unwrap().problems.is_empty());
    bob.node.store().vacuum().unwrap();
    let after = std::fs::metadata(&db).unwrap().len();
    assert!(after < before, "the file shrank: {before} → {after}");
    // Bob's own posts are all there; nothing of Ann's text is in any file.
    assert_eq!(own_texts(&mut bob.node).len(), 10);
    let (home, _dir) = bob.close();
    for (path, bytes) in files_under(&home) {
        assert!(
            !contains(&bytes, marker),
            "{} holds Ann's post",
            path.display()
        );
    }
}

#[test]
fn a_blocked_identitys_data_goes_at_once() {
    let (ann, mut bob) = ann_and_bob();
    let ann_id = ann.node.identity();
    assert!(bob.node.store().media_cache_bytes().unwrap() > 0);
    assert!(bob.node.block(&ann_id).unwrap());
    assert_eq!(bob.node.store().media_cache_bytes().unwrap(), 0);
    assert_eq!(bob.node.store().others_posts_bytes().unwrap(), 0);
    assert_eq!(kind_bytes(&mut bob.node, StorageKind::Followed), 0);
    assert_eq!(kind_bytes(&mut bob.node, StorageKind::Mirrored), 0);
    assert!(!bob.node.profile(Some(&ann_id)).unwrap().followed);
    assert_eq!(own_texts(&mut bob.node).len(), 10);
}

/// Bob evicts the image of a post of Ann's; shown again, it is fetched
/// again from Ann.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_image_is_fetched_again_from_a_peer_when_shown() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let picture = png(9, 64);
    let post_id = ann
        .with(|n| {
            n.post(NewPost {
                text: "look".into(),
                images: vec![picture.clone()],
                ..Default::default()
            })
        })
        .unwrap();
    let hash = ann.with(|n| n.store().post(&post_id).unwrap().unwrap().images[0]);
    let ann_id = ann.with(|n| n.identity());
    let pa = ann.start().await;
    let pb = bob.start().await;
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    let mut events = pb.events();
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    fetched(&mut events, &hash).await;
    assert_eq!(
        bob.with(|n| n.open_blob(&ann_id, &hash)).unwrap(),
        Some(picture.clone())
    );
    let evicted = bob
        .with(|n| {
            n.set_budgets(&Budgets {
                media_cache_bytes: 0,
                ..Budgets::default()
            })
        })
        .unwrap();
    assert_eq!(evicted.images, 1);
    // Shown: not here, so asked for again; the next catch-up fetches it.
    assert_eq!(bob.with(|n| n.open_blob(&ann_id, &hash)).unwrap(), None);
    assert_eq!(bob.texts(), vec!["look"], "the post itself stays");
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    fetched(&mut events, &hash).await;
    assert_eq!(
        bob.with(|n| n.open_blob(&ann_id, &hash)).unwrap(),
        Some(picture)
    );
    pa.shutdown().await;
    pb.shutdown().await;
}

/// Bob keeps Ann's posts as headers only. Cat, a new follower of Ann, gets
/// nothing of that feed from Bob (no headers taken for posts), then all of
/// it from Ann; and Bob, meeting Ann again, does not take back what he
/// evicted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_of_an_evicted_feed_catches_up_from_another_peer() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    for i in 0..5 {
        post(&ann, &format!("ann {i}"));
    }
    post(&bob, "bob's own");
    let pa = ann.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(bob.texts().len(), 6);
    let evicted = bob.with(|n| n.set_budgets(&nothing_of_others())).unwrap();
    assert_eq!(evicted.posts, 5);
    assert_eq!(bob.texts(), vec!["bob's own"]);

    let pc = cat.start_catch_up_only().await;
    cat.with(|n| n.follow(&ticket(&ann))).unwrap();
    cat.with(|n| n.follow(&ticket(&bob))).unwrap();
    let r = bounded(pc.sync_with(&pb.addr())).await.unwrap();
    assert!(r.import.rejected.is_empty(), "{r:?}");
    assert_eq!(cat.texts(), vec!["bob's own"], "Bob's own feed comes whole");
    let ann_feed = feed_space_id(&ann.with(|n| n.identity()));
    let held = cat.with(|n| n.store().served_frontier(&ann_feed)).unwrap();
    assert!(
        held.as_ref().is_none_or(|f| f.is_empty()),
        "Cat took nothing of Ann's feed from Bob: {held:?}"
    );
    bounded(pc.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(cat.texts().len(), 6);
    assert!(cat.texts().contains(&"ann 0".to_string()));

    // Bob meets Ann again: the evicted posts stay evicted.
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(bob.with(|n| n.store().others_posts_bytes()).unwrap(), 0);
    assert_eq!(bob.texts(), vec!["bob's own"]);
    // A new post of Ann's comes to Bob whole, and Bob serves it to Cat
    // (who is past the evicted ones).
    post(&ann, "ann new");
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(bob.texts(), vec!["ann new", "bob's own"]);
    pa.shutdown().await;
    bounded(pc.sync_with(&pb.addr())).await.unwrap();
    assert_eq!(cat.texts()[0], "ann new");
    pb.shutdown().await;
    pc.shutdown().await;
}

/// A running node keeps its store within its budgets by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_node_keeps_to_its_budgets_by_itself() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    for i in 0..20 {
        post(&ann, &format!("ann {i} {}", "words ".repeat(30)));
    }
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    let bundle = ann.with(|n| n.export(Audience::Anyone)).unwrap();
    bob.with(|n| n.import(&bundle)).unwrap();
    let held = bob.with(|n| n.store().others_posts_bytes()).unwrap();
    let budget = held / 2;
    bob.with(|n| {
        n.store().set_budgets(&Budgets {
            others_posts_bytes: budget,
            ..Budgets::default()
        })
    })
    .unwrap();
    let service = bob.serve(std::time::Duration::from_secs(1)).await;
    crate::net::until(|| bob.with(|n| n.store().others_posts_bytes()).unwrap() <= budget).await;
    assert!(bob.texts().len() < 20);
    let newest = format!("ann 19 {}", "words ".repeat(30));
    assert!(bob.texts().contains(&newest));
    service.shutdown().await;
}
