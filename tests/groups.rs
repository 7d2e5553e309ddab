//! Private groups over loopback sync: members converge, outsiders read
//! nothing, invites are checked.

use starling_core::{NewPost, Node, SpaceId, Ticket};

use crate::net::{Running, bounded, post, until};

/// Posts in a group, then lets the clock move on (see `net::post`).
pub(crate) fn group_post(r: &Running, group: SpaceId, text: &str) -> starling_core::EntryId {
    let id = r
        .with(|n| {
            n.post(NewPost {
                text: text.into(),
                group: Some(group),
                ..Default::default()
            })
        })
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    id
}

fn group_texts(r: &Running, group: SpaceId) -> Vec<String> {
    r.with(|n| crate::support::group_texts(n, &group))
}

fn invite(r: &Running, group: SpaceId) -> Ticket {
    r.with(|n| n.group_invite(&group, 3_600_000)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_converge_and_an_outsider_reads_nothing() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let pa = ann.start().await;
    let group = ann
        .with(|n| n.group_create("dawn chorus", Some("early birds")))
        .unwrap();
    // Bob joins by the invite's text, Cat by a picture of its QR code.
    let to_bob = invite(&ann, group);
    assert_eq!(bob.with(|n| n.group_join(&to_bob)).unwrap(), group);
    let to_cat = invite(&ann, group);
    let png = to_cat.to_qr_png().unwrap();
    let scanned = Ticket::scan(&png).unwrap();
    assert_eq!(cat.with(|n| n.group_join(&scanned)).unwrap(), group);
    let pb = bob.start().await;
    let pc = cat.start().await;
    // Bob and Cat know Ann (from the invite); Ann learns of them when they
    // connect. Their joins and device keys meet first: a sender shares its
    // session with the member devices it knows.
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    bounded(pc.sync_with(&pa.addr())).await.unwrap();
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    post(&ann, "a public post");
    group_post(&ann, group, "ann in the group");
    let bob_post = group_post(&bob, group, "bob in the group");
    group_post(&cat, group, "cat in the group");
    // Each catches up with Ann once; gossip and the periodic checks carry
    // the rest.
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    bounded(pc.sync_with(&pa.addr())).await.unwrap();
    // Cat replies to Bob and Ann likes Bob's post: both stay in the group.
    cat.with(|n| {
        n.post(NewPost {
            text: "cat answers bob".into(),
            reply_to: Some(bob_post),
            ..Default::default()
        })
    })
    .unwrap();
    pc.notify_local_change();
    ann.with(|n| n.like(&bob_post)).unwrap();
    pa.notify_local_change();
    let want = vec![
        "cat answers bob",
        "cat in the group",
        "bob in the group",
        "ann in the group",
    ];
    for r in [&ann, &bob, &cat] {
        until(|| group_texts(r, group) == want).await;
    }
    until(|| {
        bob.with(|n| n.store().post(&bob_post).unwrap().unwrap().likes) == 1
            && cat.with(|n| n.store().post(&bob_post).unwrap().unwrap().likes) == 1
    })
    .await;
    // Every member sees the same group: name, members, roles.
    let views: Vec<_> = [&ann, &bob, &cat]
        .iter()
        .map(|r| r.with(|n| n.group(&group)).unwrap())
        .collect();
    assert_eq!(views[0].members.len(), 3);
    assert_eq!(views[0].name.as_deref(), Some("dawn chorus"));
    // (Names are what each member's own device knows of the others.)
    let who = |v: &starling_core::GroupView| -> Vec<_> {
        v.members.iter().map(|m| (m.identity, m.role)).collect()
    };
    for v in &views[1..] {
        assert_eq!(who(v), who(&views[0]));
        assert_eq!(v.name, views[0].name);
    }
    assert_eq!(views[0].my_role, Some(starling_core::view::Role::Owner));
    assert_eq!(views[1].my_role, Some(starling_core::view::Role::Member));
    // Group posts stay out of home timelines.
    assert_eq!(ann.texts(), vec!["a public post"]);
    // An outsider handed every encrypted entry of the group stores and
    // reads nothing of it.
    let bundle = ann.with(|n| n.store().export(&[group])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut dan = Node::init(&dir.path().join("dan"), "dan").unwrap();
    let before = dan.store().counts().unwrap();
    let r = dan.import(&bundle).unwrap();
    assert!(r.refused >= 8 && r.accepted == 0, "{r:?}");
    assert_eq!(dan.store().counts().unwrap(), before, "nothing kept");
    assert!(dan.group(&group).is_err());
    assert!(dan.group_timeline(&group, 10, None).is_err());
    assert!(dan.search("group", 10).unwrap().is_empty());
    assert!(dan.store().check().unwrap().problems.is_empty());
    for p in [pa, pb, pc] {
        p.shutdown().await;
    }
}

/// A member who leaves is out on every member: the leave itself reaches
/// the owner (it is served like the entries before it), the group leaves
/// the member's list, and what they posted before stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_leaves_is_out_everywhere() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let pa = ann.start().await;
    let group = ann.with(|n| n.group_create("roost", None)).unwrap();
    let to_bob = invite(&ann, group);
    bob.with(|n| n.group_join(&to_bob)).unwrap();
    let pb = bob.start().await;
    group_post(&bob, group, "bob before leaving");
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    until(|| group_texts(&ann, group) == ["bob before leaving"]).await;
    bob.with(|n| n.group_leave(&group)).unwrap();
    pb.notify_local_change();
    let bob_id = bob.with(|n| n.identity());
    until(|| {
        ann.with(|n| n.group(&group))
            .is_ok_and(|g| g.members.iter().all(|m| m.identity != bob_id))
    })
    .await;
    assert!(bob.with(|n| n.groups()).unwrap().is_empty());
    assert!(bob.with(|n| n.group_leave(&group)).is_err());
    assert_eq!(group_texts(&ann, group), ["bob before leaving"]);
    for p in [pa, pb] {
        p.shutdown().await;
    }
}

#[test]
fn invites_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut ann = Node::init(&dir.path().join("ann"), "ann").unwrap();
    let mut bob = Node::init(&dir.path().join("bob"), "bob").unwrap();
    let mut cat = Node::init(&dir.path().join("cat"), "cat").unwrap();
    let group = ann.group_create("quiet", None).unwrap();
    // Expired.
    let old = ann.group_invite(&group, 0).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let err = bob.group_join(&old).unwrap_err().to_string();
    assert!(err.contains("expired"), "{err}");
    // An invite whose signed times were changed does not verify.
    let Ticket::Group(mut tampered) = ann.group_invite(&group, 3_600_000).unwrap() else {
        panic!("a group invite")
    };
    tampered.invite.expires_at += 1;
    let err = bob
        .group_join(&Ticket::Group(tampered))
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid"), "{err}");
    // A member who is not the owner cannot invite.
    let t = ann.group_invite(&group, 3_600_000).unwrap();
    bob.group_join(&t).unwrap();
    let err = bob.group_invite(&group, 3_600_000).unwrap_err().to_string();
    assert!(err.contains("owner"), "{err}");
    // A feed ticket is not an invite, and an invite is not a feed ticket.
    let feed = ann.ticket().unwrap();
    assert!(
        cat.group_join(&feed)
            .unwrap_err()
            .to_string()
            .contains("follow")
    );
    assert!(
        cat.follow(&t)
            .unwrap_err()
            .to_string()
            .contains("group join")
    );
    // Outsiders cannot post in or read a group.
    let err = cat
        .post(NewPost {
            text: "let me in".into(),
            group: Some(group),
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a member"), "{err}");
}

/// Counts of (entries, posts) held.
fn counts(r: &Running) -> (u64, u64) {
    let c = r.with(|n| n.store().counts()).unwrap();
    (c.0, c.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_reads_nothing_new_and_an_offline_member_catches_up() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let dan = Running::new("dan");
    let pa = ann.start().await;
    let group = ann.with(|n| n.group_create("flock", None)).unwrap();
    for r in [&bob, &cat, &dan] {
        let t = invite(&ann, group);
        r.with(|n| n.group_join(&t)).unwrap();
    }
    let pb = bob.start().await;
    let pc = cat.start().await;
    let pd = dan.start().await;
    // The joins and device keys reach Ann before she writes: a sender
    // shares its session with the member devices it knows.
    for p in [&pb, &pc, &pd] {
        bounded(p.sync_with(&pa.addr())).await.unwrap();
    }
    group_post(&ann, group, "before");
    for p in [&pb, &pc, &pd] {
        bounded(p.sync_with(&pa.addr())).await.unwrap();
    }
    until(|| {
        [&bob, &cat, &dan]
            .iter()
            .all(|r| group_texts(r, group) == ["before"])
    })
    .await;
    assert_eq!(ann.with(|n| n.group(&group)).unwrap().members.len(), 4);
    // Dan goes offline; Ann removes Cat, which rotates the key.
    pd.shutdown().await;
    let cat_id = cat.with(|n| n.identity());
    let epoch = ann.with(|n| n.group_remove(&group, &cat_id)).unwrap();
    assert_eq!(epoch, 1);
    group_post(&ann, group, "after, from ann");
    pa.notify_local_change();
    // Bob gets the rotation, opens his copy of the key and posts under it.
    until(|| group_texts(&bob, group).first().map(String::as_str) == Some("after, from ann")).await;
    group_post(&bob, group, "after, from bob");
    pb.notify_local_change();
    until(|| group_texts(&ann, group).first().map(String::as_str) == Some("after, from bob")).await;
    // Cat still syncs: she holds every new entry (the logs' heads match
    // Ann's) but opens none of them.
    let posts_before = counts(&cat).1;
    bounded(pc.sync_with(&pa.addr())).await.unwrap();
    bounded(pc.sync_with(&pb.addr())).await.unwrap();
    for writer in [&ann, &bob] {
        let device = writer.with(|n| n.device());
        let theirs = ann.with(|n| n.store().log_head(&group, &device)).unwrap();
        let cats = cat.with(|n| n.store().log_head(&group, &device)).unwrap();
        assert_eq!(cats, theirs, "cat holds the same log");
    }
    assert_eq!(group_texts(&cat, group), vec!["before"]);
    assert_eq!(counts(&cat).1, posts_before, "no new post opened");
    // The members left see the same group: Cat is gone.
    let members: Vec<_> = ann.with(|n| n.group(&group)).unwrap().members;
    assert_eq!(members.len(), 3);
    assert!(members.iter().all(|m| m.identity != cat_id));
    let who =
        |ms: &[starling_core::view::Member]| -> Vec<_> { ms.iter().map(|m| m.identity).collect() };
    until(|| who(&bob.with(|n| n.group(&group)).unwrap().members) == who(&members)).await;
    // Dan was offline during the rotation: he reads everything once he syncs.
    let pd = dan.start().await;
    bounded(pd.sync_with(&pa.addr())).await.unwrap();
    until(|| group_texts(&dan, group) == ["after, from bob", "after, from ann", "before"]).await;
    // Remaining members read everything.
    assert_eq!(group_texts(&bob, group), group_texts(&dan, group));
    assert_eq!(group_texts(&ann, group), group_texts(&dan, group));
    for p in [pa, pb, pc, pd] {
        p.shutdown().await;
    }
}

#[test]
fn a_rotation_by_a_member_who_is_not_admin_is_refused() {
    use starling_core::record::{KeyRotation, Record};
    let dir = tempfile::tempdir().unwrap();
    let mut ann = Node::init(&dir.path().join("ann"), "ann").unwrap();
    let bob_home = dir.path().join("bob");
    let mut bob = Node::init(&bob_home, "bob").unwrap();
    let group = ann.group_create("flock", None).unwrap();
    bob.group_join(&ann.group_invite(&group, 3_600_000).unwrap())
        .unwrap();
    // Bob, holding his own device key, writes a rotation into his log.
    let device = crate::support::device_key(&bob_home);
    let head = bob.store().log_head(&group, &device.id()).unwrap().unwrap();
    let key = bob.store().space_key(&group, 0).unwrap().unwrap();
    let rotation = Record::KeyRotation(KeyRotation {
        epoch: 1,
        removed: vec![ann.identity()],
        wrapped: vec![],
    });
    let forged = starling_core::Entry::create(
        &device,
        group,
        head.seq + 1,
        Some(head.id),
        head.timestamp + 1,
        0,
        &key,
        [3; 24],
        &rotation.encode(),
    );
    // Ann takes Bob's log so far, then the forged rotation.
    let bundle = bob.store().export(&[group]).unwrap();
    ann.import(&bundle).unwrap();
    let before = ann.store().counts().unwrap();
    let r = ann.store().import_entries(vec![forged]).unwrap();
    assert_eq!(r.accepted, 0);
    assert_eq!(r.rejected.len(), 1);
    assert!(
        r.rejected[0].reason.contains("not the group's admin"),
        "{}",
        r.rejected[0].reason
    );
    assert_eq!(ann.store().counts().unwrap(), before);
    assert_eq!(ann.store().space_keys(&group).unwrap().len(), 1);
    // A member who is not the owner cannot remove anyone either.
    let err = bob
        .group_remove(&group, &ann.identity())
        .unwrap_err()
        .to_string();
    assert!(err.contains("owner"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_reach_only_the_two_of_them() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let pa = ann.start().await;
    let pb = bob.start().await;
    let (ann_id, bob_id) = (ann.with(|n| n.identity()), bob.with(|n| n.identity()));
    // Following opens the conversation, so messages sync both ways.
    let ta = ann.with(|n| n.ticket()).unwrap();
    let tb = bob.with(|n| n.ticket()).unwrap();
    bob.with(|n| n.follow(&ta)).unwrap();
    ann.with(|n| n.follow(&tb)).unwrap();
    ann.with(|n| n.dm(&bob_id, "psst, bob")).unwrap();
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    let list = bob.with(|n| n.conversations()).unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].with, ann_id);
    assert_eq!(list[0].last.text, "psst, bob");
    assert_eq!(list[0].name.as_deref(), Some("ann"));
    bob.with(|n| n.dm(&ann_id, "hi ann")).unwrap();
    pb.notify_local_change();
    let shown = |r: &Running, other| -> Vec<String> {
        r.with(|n| n.dm_show(&other, 10, None))
            .unwrap()
            .posts
            .into_iter()
            .map(|p| p.text)
            .collect()
    };
    until(|| shown(&ann, bob_id) == ["hi ann", "psst, bob"]).await;
    assert_eq!(shown(&bob, ann_id), shown(&ann, bob_id));
    // Messages stay out of home timelines.
    assert!(ann.texts().is_empty() && bob.texts().is_empty());
    // Cat follows both and is handed every entry of their conversation:
    // the key is theirs alone, and a space she does not hold she does not
    // store.
    let dir = tempfile::tempdir().unwrap();
    let mut cat = Node::init(&dir.path().join("cat"), "cat").unwrap();
    cat.follow(&ta).unwrap();
    cat.follow(&tb).unwrap();
    let space = starling_core::space::direct_space_id(&ann_id, &bob_id);
    let bundle = ann.with(|n| n.store().export(&[space])).unwrap();
    let before = cat.store().counts().unwrap();
    let r = cat.import(&bundle).unwrap();
    assert_eq!(r.accepted, 0);
    assert!(
        r.rejected
            .iter()
            .all(|x| x.reason.contains("not held here")),
        "{r:?}"
    );
    assert_eq!(
        cat.store().counts().unwrap(),
        before,
        "cat stores none of it"
    );
    assert!(cat.conversations().unwrap().is_empty());
    assert!(cat.search("psst", 10).unwrap().is_empty());
    // Writing to yourself is refused.
    assert!(ann.with(|n| n.dm(&ann_id, "me")).is_err());
    pa.shutdown().await;
    pb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_identity_is_hidden_and_not_passed_on() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let dan = Running::new("dan");
    post(&ann, "ann speaks");
    let bob_post = bob
        .with(|n| {
            n.post(NewPost {
                text: "bob shouts".into(),
                ..Default::default()
            })
        })
        .unwrap();
    let (ta, tb) = (
        ann.with(|n| n.ticket()).unwrap(),
        bob.with(|n| n.ticket()).unwrap(),
    );
    // Cat holds both feeds; Dan follows both but only ever meets Cat.
    for r in [&cat, &dan] {
        r.with(|n| n.follow(&ta)).unwrap();
        r.with(|n| n.follow(&tb)).unwrap();
    }
    for src in [&ann, &bob] {
        let b = src
            .with(|n| n.export(starling_core::Audience::Anyone))
            .unwrap();
        cat.with(|n| n.import(&b)).unwrap();
    }
    assert_eq!(cat.texts().len(), 2);
    let bob_id = bob.with(|n| n.identity());
    assert!(cat.with(|n| n.block(&bob_id)).unwrap());
    // Hidden everywhere on Cat's device.
    assert_eq!(cat.texts(), vec!["ann speaks"]);
    assert!(cat.with(|n| n.search("shouts", 10)).unwrap().is_empty());
    assert!(cat.with(|n| n.profile(Some(&bob_id))).unwrap().blocked);
    assert!(cat.with(|n| n.thread(&bob_post)).is_err());
    // And not passed on: Dan gets Ann's post from Cat, not Bob's.
    let pc = cat.start().await;
    let pd = dan.start().await;
    let r = bounded(pd.sync_with(&pc.addr())).await.unwrap();
    assert!(r.import.rejected.is_empty(), "{r:?}");
    assert_eq!(dan.texts(), vec!["ann speaks"]);
    // What Cat held of Bob went with the block (and the follow).
    assert!(!cat.with(|n| n.profile(Some(&bob_id))).unwrap().followed);
    // Unblocked and followed again, Bob is back from his own bundle, and
    // Cat serves him again.
    assert!(cat.with(|n| n.unblock(&bob_id)).unwrap());
    assert_eq!(cat.texts(), vec!["ann speaks"]);
    cat.with(|n| n.follow(&tb)).unwrap();
    let b = bob
        .with(|n| n.export(starling_core::Audience::Anyone))
        .unwrap();
    cat.with(|n| n.import(&b)).unwrap();
    assert_eq!(cat.texts().len(), 2);
    bounded(pd.sync_with(&pc.addr())).await.unwrap();
    assert_eq!(dan.texts(), vec!["bob shouts", "ann speaks"]);
    assert!(cat.with(|n| n.block(&n.identity())).is_err());
    pc.shutdown().await;
    pd.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_devices_edit_apart_and_agree_when_they_meet() {
    let laptop = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    post(&bob, "bob posts");
    post(&cat, "cat posts");
    post(&laptop, "ann's first post");
    let pl = laptop.start().await;
    let (link, requests) = pl.link_offer(600_000).unwrap();
    // The phone scans the laptop's QR code.
    let scanned = Ticket::scan(&link.to_qr_png().unwrap()).unwrap();
    let phone = Running::join("ann-phone", false, &scanned, requests).await;
    let me = laptop.with(|n| n.identity());
    assert_eq!(phone.with(|n| n.identity()), me);
    assert_ne!(phone.with(|n| n.device()), laptop.with(|n| n.device()));
    // First meeting: the phone gets the feed (and with it the laptop's
    // certificate), then the private account space.
    let pp = phone.start().await;
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    assert_eq!(phone.texts(), laptop.texts());
    assert_eq!(
        phone.with(|n| n.profile(None)).unwrap().name.as_deref(),
        Some("ann")
    );
    until(|| laptop.with(|n| n.devices()).unwrap().len() == 2).await;
    let devices = phone.with(|n| n.devices()).unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices.iter().filter(|d| d.this_device).count(), 1);
    // Apart, each posts, follows and mutes.
    pl.shutdown().await;
    pp.shutdown().await;
    let (tb, tc) = (
        bob.with(|n| n.ticket()).unwrap(),
        cat.with(|n| n.ticket()).unwrap(),
    );
    let (bob_id, cat_id) = (bob.with(|n| n.identity()), cat.with(|n| n.identity()));
    for r in [&laptop, &phone] {
        for src in [&bob, &cat] {
            let b = src
                .with(|n| n.export(starling_core::Audience::Anyone))
                .unwrap();
            r.with(|n| n.import(&b)).unwrap();
        }
    }
    post(&laptop, "from the laptop");
    laptop.with(|n| n.follow(&tb)).unwrap();
    laptop.with(|n| n.mute(&cat_id)).unwrap();
    post(&phone, "from the phone");
    phone.with(|n| n.follow(&tc)).unwrap();
    phone.with(|n| n.mute(&bob_id)).unwrap();
    assert_ne!(laptop.texts(), phone.texts());
    // They meet again.
    let pl = laptop.start().await;
    let pp = phone.start().await;
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    bounded(pl.sync_with(&pp.addr())).await.unwrap();
    let account = starling_core::space::account_space_id(&me);
    let state = |r: &Running| {
        let acc = r.with(|n| n.store().doc(&account)).unwrap().account();
        (acc.follows, acc.mutes, r.texts())
    };
    until(|| state(&laptop) == state(&phone)).await;
    let (follows, mutes, texts) = state(&laptop);
    let followed: Vec<_> = follows.iter().map(|(who, _)| *who).collect();
    assert!(followed.contains(&bob_id) && followed.contains(&cat_id));
    let mut both = vec![bob_id, cat_id];
    both.sort();
    assert_eq!(mutes, both);
    // Both muted: only Ann's own posts, from both devices, in order.
    assert_eq!(
        texts,
        vec!["from the phone", "from the laptop", "ann's first post"]
    );
    // A stranger is never served the account space.
    let pb = bob.start().await;
    let r = bounded(pb.sync_with(&pl.addr())).await.unwrap();
    assert!(r.import.rejected.is_empty());
    let bob_sees = bob
        .with(|n| n.store().log_head(&account, &laptop.with(|n| n.device())))
        .unwrap();
    assert_eq!(bob_sees, None);
    for p in [pl, pp, pb] {
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_device_is_refused_everywhere_whatever_the_order() {
    let laptop = Running::new("ann");
    let phone = laptop.link_new("ann-phone").await;
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let ta = laptop.with(|n| n.ticket()).unwrap();
    bob.with(|n| n.follow(&ta)).unwrap();
    cat.with(|n| n.follow(&ta)).unwrap();
    // Catch-up only, so the test decides who meets whom, in what order.
    let pl = laptop.start_catch_up_only().await;
    let pp = phone.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    let pc = cat.start_catch_up_only().await;
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    post(&phone, "from the phone");
    for p in [&pb, &pc] {
        bounded(p.sync_with(&pp.addr())).await.unwrap();
    }
    bounded(pl.sync_with(&pp.addr())).await.unwrap();
    assert_eq!(bob.texts(), vec!["from the phone"]);
    // The phone is lost. The laptop revokes it; Bob hears of it at once.
    let phone_device = phone.with(|n| n.device());
    laptop.with(|n| n.device_revoke(&phone_device)).unwrap();
    bounded(pb.sync_with(&pl.addr())).await.unwrap();
    // Whoever has the phone posts on; Cat gets that post before she hears
    // of the revocation.
    post(&phone, "posted by a thief");
    bounded(pc.sync_with(&pp.addr())).await.unwrap();
    assert_eq!(cat.texts(), vec!["posted by a thief", "from the phone"]);
    // Bob and the laptop refuse it outright.
    let r = bounded(pb.sync_with(&pp.addr())).await.unwrap();
    assert!(
        r.import
            .rejected
            .iter()
            .any(|x| x.reason.contains("revoked")),
        "{r:?}"
    );
    // Bob's session also handed the phone its revocation: from then on the
    // phone itself serves nothing past it, so the laptop is not even
    // offered the thief's post.
    let feed = starling_core::space::feed_space_id(&laptop.with(|n| n.identity()));
    let held_before = laptop.with(|n| n.store().log_head(&feed, &phone_device).unwrap());
    let served = phone.with(|n| n.store().served_frontier(&feed).unwrap().unwrap());
    assert_eq!(
        served.seq(&phone_device),
        held_before.map_or(0, |h| h.seq),
        "the phone serves its log only up to its revocation"
    );
    let r = bounded(pl.sync_with(&pp.addr())).await.unwrap();
    assert_eq!(r.import.accepted, 0, "{r:?}");
    assert_eq!(
        laptop.with(|n| n.store().log_head(&feed, &phone_device).unwrap()),
        held_before
    );
    // Cat hears of the revocation: the late post comes down.
    bounded(pc.sync_with(&pl.addr())).await.unwrap();
    for r in [&laptop, &bob, &cat] {
        assert_eq!(r.texts(), vec!["from the phone"]);
    }
    let devices = laptop.with(|n| n.devices()).unwrap();
    assert!(
        devices
            .iter()
            .any(|d| d.device == phone_device && d.revoked)
    );
    assert!(laptop.with(|n| n.device_revoke(&n.device())).is_err());
    for p in [pl, pp, pb, pc] {
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_settle_on_one_key_and_lose_nothing() {
    let laptop = Running::new("ann");
    // Two devices that hold the identity key, so each unwraps the other's
    // rotation.
    let phone = laptop.link_trusted("ann-phone").await;
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let group = laptop.with(|n| n.group_create("flock", None)).unwrap();
    for r in [&phone, &bob, &cat] {
        let t = invite(&laptop, group);
        r.with(|n| n.group_join(&t)).unwrap();
    }
    let pl = laptop.start_catch_up_only().await;
    let pp = phone.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    let pc = cat.start_catch_up_only().await;
    // The members' joins and keys reach the laptop before it writes (its
    // session is shared with the member devices it knows).
    for p in [&pp, &pb, &pc] {
        bounded(p.sync_with(&pl.addr())).await.unwrap();
    }
    group_post(&laptop, group, "before");
    for p in [&pp, &pb, &pc, &pp] {
        bounded(p.sync_with(&pl.addr())).await.unwrap();
    }
    // Apart, both of Ann's devices remove Cat: two rotations to epoch 1.
    let cat_id = cat.with(|n| n.identity());
    assert_eq!(laptop.with(|n| n.group_remove(&group, &cat_id)).unwrap(), 1);
    assert_eq!(phone.with(|n| n.group_remove(&group, &cat_id)).unwrap(), 1);
    group_post(&laptop, group, "laptop after");
    group_post(&phone, group, "phone after");
    // Everyone meets everyone, a few rounds (an entry sealed with a key not
    // yet held is refused, and offered again next time).
    let all = [(&laptop, &pl), (&phone, &pp), (&bob, &pb)];
    for _ in 0..3 {
        for (_, a) in &all {
            for (_, b) in &all {
                if a.addr().device != b.addr().device {
                    bounded(a.sync_with(&b.addr())).await.unwrap();
                }
            }
        }
    }
    let want = group_texts(&laptop, group);
    assert_eq!(want.len(), 3, "{want:?}");
    assert_eq!(want.last().map(String::as_str), Some("before"));
    let sealing_key = |r: &Running| {
        r.with(|n| n.store().space_keys(&group))
            .unwrap()
            .last()
            .map(|(e, k)| (*e, k.to_bytes()))
    };
    for (r, _) in &all {
        assert_eq!(group_texts(r, group), want);
        assert_eq!(sealing_key(r), sealing_key(&laptop));
    }
    // Cat opens nothing new.
    bounded(pc.sync_with(&pl.addr())).await.unwrap();
    assert_eq!(group_texts(&cat, group), vec!["before"]);
    for p in [pl, pp, pb, pc] {
        p.shutdown().await;
    }
}

#[test]
fn bad_private_tickets_and_records_are_refused_clearly() {
    use starling_core::record::{KeyRotation, Record, RecordError};
    let dir = tempfile::tempdir().unwrap();
    let mut ann = Node::init(&dir.path().join("ann"), "ann").unwrap();
    let mut bob = Node::init(&dir.path().join("bob"), "bob").unwrap();
    // A damaged link grant makes no home.
    let phone = dir.path().join("phone");
    let key = starling_core::DeviceKey::from_secret_bytes([7; 32]);
    let addr = starling_core::PeerAddr::bare(ann.device());
    assert!(Node::device_join(&phone, key, b"not a grant", &addr).is_err());
    assert!(!Node::exists(&phone));
    // Invites whose keys are missing, out of order or lack epoch 0.
    let group = ann.group_create("g", None).unwrap();
    let Ticket::Group(good) = ann.group_invite(&group, 3_600_000).unwrap() else {
        panic!("a group invite")
    };
    for keys in [vec![], vec![(1, [1; 32])], vec![(0, [1; 32]), (0, [2; 32])]] {
        let mut bad = good.clone();
        bad.keys = keys;
        let err = bob.group_join(&Ticket::Group(bad)).unwrap_err().to_string();
        assert!(err.contains("malformed") || err.contains("no key"), "{err}");
        assert!(bob.group(&group).is_err(), "nothing stored");
    }
    // Key rotations that break the record rules do not decode.
    for r in [
        KeyRotation {
            epoch: 0,
            removed: vec![],
            wrapped: vec![],
        },
        KeyRotation {
            epoch: 1,
            removed: vec![],
            wrapped: vec![(ann.identity(), vec![0; 5])],
        },
    ] {
        assert!(matches!(
            Record::decode(2, &Record::KeyRotation(r).encode()),
            Err(RecordError::BadField {
                field: "key rotation",
                ..
            })
        ));
    }
}
