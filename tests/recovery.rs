//! Recovery from the phrase: an identity whose only device is gone comes
//! back on a new device from its 24 words and one follower.

use starling_core::{NewPost, Ticket};

use crate::net::{Running, bounded, post, ticket};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_device_comes_back_from_the_phrase_and_one_follower() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let dan = Running::new("dan");
    let pa = ann.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    // Bob's life on his only device: posts, a profile, follows, a mute, a
    // block, a group he joined.
    post(&bob, "bob before the loss");
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    bob.with(|n| n.follow(&ticket(&cat))).unwrap();
    ann.with(|n| n.follow(&ticket(&bob))).unwrap();
    let cat_id = cat.with(|n| n.identity());
    let dan_id = dan.with(|n| n.identity());
    bob.with(|n| n.mute(&cat_id)).unwrap();
    bob.with(|n| n.block(&dan_id)).unwrap();
    let group = ann.with(|n| n.group_create("roost", None)).unwrap();
    let invite: Ticket = ann.with(|n| n.group_invite(&group, 3_600_000)).unwrap();
    bob.with(|n| n.group_join(&invite)).unwrap();
    // (Bob's join and device keys reach Ann before she writes in the group.)
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    post(&ann, "ann's post");
    ann.with(|n| {
        n.post(NewPost {
            text: "in the roost".into(),
            group: Some(group),
            ..Default::default()
        })
    })
    .unwrap();
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    bounded(pa.sync_with(&pb.addr())).await.unwrap();
    assert_eq!(
        bob.with(|n| crate::support::group_texts(n, &group)),
        ["in the roost"]
    );
    let bob_id = bob.with(|n| n.identity());
    let phrase = bob.with(|n| n.phrase()).unwrap();
    assert_eq!(phrase.split(' ').count(), 24);
    // The device is lost: its home is gone.
    pb.shutdown().await;
    drop(bob);

    // A new device, from the phrase: the same identity, a new device key.
    let bob2 = Running::recover("bob2", &phrase);
    assert_eq!(bob2.with(|n| n.identity()), bob_id);
    let p2 = bob2.start_catch_up_only().await;
    // One follower is enough: Ann holds Bob's feed, and in it his backup.
    bounded(p2.sync_with(&pa.addr())).await.unwrap();
    let restored = bob2.with(|n| n.restore_account()).unwrap();
    assert!(restored.found, "{restored:?}");
    assert_eq!(
        (
            restored.follows,
            restored.mutes,
            restored.blocks,
            restored.groups
        ),
        (2, 1, 1, 1)
    );
    // With the account back, a second round brings what it names.
    bounded(p2.sync_with(&pa.addr())).await.unwrap();
    let texts = bob2.texts();
    assert!(
        texts.contains(&"bob before the loss".to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"ann's post".to_string()), "{texts:?}");
    assert_eq!(
        bob2.with(|n| n.profile(Some(&bob_id)))
            .unwrap()
            .name
            .as_deref(),
        Some("bob")
    );
    let following: Vec<_> = bob2
        .with(|n| n.following())
        .unwrap()
        .into_iter()
        .map(|p| p.identity)
        .collect();
    assert!(following.contains(&ann.with(|n| n.identity())));
    assert!(following.contains(&cat_id));
    let acc = bob2.with(|n| n.account_lists()).unwrap();
    assert_eq!((acc.mutes, acc.blocks), (vec![cat_id], vec![dan_id]));
    let groups = bob2.with(|n| n.groups()).unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    // Messages are forward secret: what the group said before the loss was
    // shared with the lost device's keys only and stays closed to the new
    // one; what is said once the members saw the new device's keys (in
    // Bob's feed) is read.
    assert!(
        bob2.with(|n| crate::support::group_texts(n, &group))
            .is_empty()
    );
    bounded(pa.sync_with(&p2.addr())).await.unwrap();
    ann.with(|n| {
        n.post(NewPost {
            text: "welcome back".into(),
            group: Some(group),
            ..Default::default()
        })
    })
    .unwrap();
    bounded(p2.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(
        bob2.with(|n| crate::support::group_texts(n, &group)),
        ["welcome back"]
    );

    // New posts from the new device reach the follower.
    post(&bob2, "bob is back");
    bounded(pa.sync_with(&p2.addr())).await.unwrap();
    assert!(ann.texts().contains(&"bob is back".to_string()));
    // A mistyped phrase is a clear error, not another identity. The last
    // word's low eight bits are the checksum: flipping one of them keeps the
    // entropy and always breaks the checksum.
    let english = bip39::Language::English;
    let mut words: Vec<&str> = phrase.split(' ').collect();
    let last = english.find_word(words[23]).unwrap();
    words[23] = english.word_list()[usize::from(last ^ 1)];
    let dir = tempfile::tempdir().unwrap();
    assert!(starling_core::Node::recover(&dir.path().join("x"), &words.join(" ")).is_err());
    // So is a phrase with a word missing.
    let short = phrase.split(' ').skip(1).collect::<Vec<_>>().join(" ");
    assert!(starling_core::Node::recover(&dir.path().join("y"), &short).is_err());
    for p in [pa, p2] {
        p.shutdown().await;
    }
}
