//! Hostile inputs against the protocol's rules (issue 10): a followed
//! identity, a group member, a removed member, a catch-up peer and a
//! stranger each break a rule, and the victim's store is unchanged (or
//! changed only as the rules say).

use std::time::Duration;

use starling_core::identity::RevocationProof;
use starling_core::membership::{GroupOp, Invite};
use starling_core::record::{KeyRotation, Record};
use starling_core::{Audience, GroupTicket, NewPost, Node, SpaceId, Ticket};

use crate::support::{
    TestNode, bundle_of, device_key, fingerprint, forge, group_texts, loopback_endpoint, texts,
};

fn post(n: &mut Node, text: &str) {
    n.post(NewPost {
        text: text.into(),
        ..Default::default()
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(2));
}

/// A node's own device certificate (from its feed).
fn own_cert(n: &mut Node) -> starling_core::DeviceCert {
    let (feed, device) = (
        starling_core::space::feed_space_id(&n.identity()),
        n.device(),
    );
    n.store().device_cert(&feed, &device).unwrap().unwrap()
}

/// The identity key kept in a home (the tests keep secrets in files).
fn identity_key(home: &std::path::Path) -> starling_core::IdentityKey {
    let secret =
        starling_core::node::secrets::read(home, starling_core::node::secrets::Secret::Identity)
            .unwrap()
            .expect("this home holds the identity key");
    starling_core::IdentityKey::from_secret_bytes(secret)
}

fn share(from: &mut Node, to: &mut Node) {
    let b = from.export(Audience::Identity(to.identity())).unwrap();
    to.import(&b).unwrap();
}

/// Eve, whom Ann and Bob follow, writes a revocation of Ann's laptop into
/// her own feed. It counts for nobody: Ann posts on, and Bob (who follows
/// both) keeps and shows Ann's posts, whatever order things arrive in.
#[test]
fn a_followed_identitys_revocation_of_someone_elses_device_changes_nothing() {
    let mut ann = TestNode::new("ann");
    let mut eve = TestNode::new("eve");
    let mut bob = TestNode::new("bob");
    post(&mut ann.node, "ann one");
    post(&mut eve.node, "eve one");
    let (ta, te) = (ann.node.ticket().unwrap(), eve.node.ticket().unwrap());
    ann.node.follow(&te).unwrap();
    bob.node.follow(&ta).unwrap();
    bob.node.follow(&te).unwrap();
    let ann_device = ann.node.device();
    let eve_feed = starling_core::space::feed_space_id(&eve.node.identity());
    let ann_feed = starling_core::space::feed_space_id(&ann.node.identity());
    // Eve signs it with her own identity key: well formed in her feed.
    let eve_key = identity_key(&eve.home);
    let heads = vec![(ann_feed, 0)];
    let revocation = forge(
        &mut eve.node,
        &eve.home,
        &eve_feed,
        &Record::Revocation {
            device: ann_device,
            proof: Some(RevocationProof::sign(&eve_key, &ann_device, &heads)),
            heads,
        },
    );
    // Bob hears of the revocation first, Ann's posts after.
    share(&mut eve.node, &mut bob.node);
    let r = bob.node.import(&bundle_of([&revocation])).unwrap();
    assert_eq!(r.accepted, 1, "Eve may write it in her feed: {r:?}");
    share(&mut ann.node, &mut bob.node);
    // Ann receives it too, and posts on.
    share(&mut eve.node, &mut ann.node);
    ann.node.import(&bundle_of([&revocation])).unwrap();
    post(&mut ann.node, "ann two");
    share(&mut ann.node, &mut bob.node);
    assert_eq!(texts(&mut bob.node), ["ann two", "eve one", "ann one"]);
    assert_eq!(texts(&mut ann.node), ["ann two", "eve one", "ann one"]);
    for n in [&mut ann.node, &mut bob.node] {
        assert!(!n.store().is_revoked(&ann_device).unwrap());
    }
    assert!(ann.node.devices().unwrap().iter().all(|d| !d.revoked));
    // In the other order (the revocation after Ann's posts) a new follower
    // shows the same.
    let mut cat = TestNode::new("cat");
    cat.node.follow(&ta).unwrap();
    cat.node.follow(&te).unwrap();
    share(&mut ann.node, &mut cat.node);
    share(&mut eve.node, &mut cat.node);
    cat.node.import(&bundle_of([&revocation])).unwrap();
    assert_eq!(texts(&mut cat.node), texts(&mut bob.node));
    for n in [&mut ann.node, &mut bob.node, &mut cat.node] {
        assert!(n.store().check().unwrap().problems.is_empty());
    }
}

/// A group with an owner (Ann), a hostile member (Bob), a member (Cat) and
/// a member who gets removed (Dan); Eve is outside.
struct Flock {
    ann: TestNode,
    bob: TestNode,
    cat: TestNode,
    dan: TestNode,
    eve: TestNode,
    group: SpaceId,
    dan_invite: Ticket,
}

/// A group's posts and members as a node shows them.
fn what_members_see(
    n: &mut Node,
    group: &SpaceId,
) -> (
    Vec<String>,
    Vec<(starling_core::IdentityId, starling_core::view::Role)>,
) {
    let members = n
        .group(group)
        .unwrap()
        .members
        .iter()
        .map(|m| (m.identity, m.role))
        .collect();
    (group_texts(n, group), members)
}

/// The seq of the newest entry a node holds of a device's log in a space.
fn head_seq(n: &mut Node, space: &SpaceId, device: &starling_core::DeviceId) -> u64 {
    n.store().log_head(space, device).unwrap().unwrap().seq
}

fn share_group(from: &mut Node, to: &mut Node, group: &SpaceId) {
    let b = from.store().export(&[*group]).unwrap();
    to.import(&b).unwrap();
}

fn flock() -> Flock {
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    let mut cat = TestNode::new("cat");
    let mut dan = TestNode::new("dan");
    let eve = TestNode::new("eve");
    let group = ann.node.group_create("flock", Some("dawn")).unwrap();
    let dan_id = dan.node.identity();
    let mut dan_invite = None;
    for m in [&mut bob, &mut cat, &mut dan] {
        let t = ann.node.group_invite(&group, 3_600_000).unwrap();
        m.node.group_join(&t).unwrap();
        if m.node.identity() == dan_id {
            dan_invite = Some(t);
        }
    }
    let mut f = Flock {
        ann,
        bob,
        cat,
        dan,
        eve,
        group,
        dan_invite: dan_invite.unwrap(),
    };
    f.everyone_meets();
    f
}

impl Flock {
    fn members(&mut self) -> [&mut Node; 4] {
        [
            &mut self.ann.node,
            &mut self.bob.node,
            &mut self.cat.node,
            &mut self.dan.node,
        ]
    }

    /// Every member's group entries reach every other member.
    fn everyone_meets(&mut self) {
        let group = self.group;
        let bundles: Vec<Vec<u8>> = self
            .members()
            .into_iter()
            .map(|n| n.store().export(&[group]).unwrap())
            .collect();
        for n in self.members() {
            for b in &bundles {
                n.import(b).unwrap();
            }
        }
    }
}

/// What a member may not do, Bob tries: promote himself, remove the owner,
/// rotate the key, rename the group, and let Eve in with an invite of his
/// own. Dan, removed, uses his old invite again and posts. Every member
/// ends with the owner's view; Dan reads nothing posted after his removal,
/// text or image.
#[test]
fn in_a_group_only_the_owners_signed_actions_change_who_belongs() {
    let mut f = flock();
    let group = f.group;
    let post_in = |n: &mut Node, text: &str, images: Vec<Vec<u8>>| {
        let id = n
            .post(NewPost {
                text: text.into(),
                group: Some(group),
                images,
                ..Default::default()
            })
            .unwrap();
        std::thread::sleep(Duration::from_millis(2));
        id
    };
    post_in(&mut f.ann.node, "before", vec![]);
    f.everyone_meets();
    let (ann_id, bob_id, dan_id) = (
        f.ann.node.identity(),
        f.bob.node.identity(),
        f.dan.node.identity(),
    );

    // Bob forges what only the owner may write.
    let mut promote = automerge::AutoCommit::new();
    {
        use automerge::transaction::Transactable;
        promote.set_actor(automerge::ActorId::from(
            f.bob.node.device().as_bytes().as_slice(),
        ));
        promote
            .put(automerge::ROOT, format!("member:{bob_id}"), "admin")
            .unwrap();
        promote.commit();
    }
    let change = promote.get_last_local_change().unwrap().bytes().to_vec();
    let forged = [
        Record::DocChange(change),
        Record::Group(GroupOp::Remove {
            member: ann_id,
            heads: vec![],
        }),
        Record::KeyRotation(KeyRotation {
            epoch: 1,
            removed: vec![ann_id],
            wrapped: vec![],
        }),
    ];
    for record in &forged {
        let e = forge(&mut f.bob.node, &f.bob.home, &group, record);
        for victim in [&mut f.ann, &mut f.cat] {
            let before = fingerprint(&mut victim.node);
            let r = victim.node.import(&bundle_of([&e])).unwrap();
            assert_eq!((r.accepted, r.refused), (0, 1), "{record:?}: {r:?}");
            assert_eq!(fingerprint(&mut victim.node), before, "{record:?}");
        }
    }

    // Bob mints an invite for Eve, signed by his own device.
    let bob_cert = own_cert(&mut f.bob.node);
    let now = starling_core::node::now_ms();
    let minted = Invite::issue(
        &device_key(&f.bob.home),
        bob_cert,
        &group,
        ([7; 16], &[8; 32]),
        now,
        now + 3_600_000,
    );
    let Ticket::Group(genuine) = f.dan_invite.clone() else {
        panic!("a group invite")
    };
    let as_owner = Ticket::Group(GroupTicket {
        invite: Box::new(minted.clone()),
        claim_secret: [8; 32],
        ..genuine.clone()
    });
    let err = f.eve.node.group_join(&as_owner).unwrap_err().to_string();
    assert!(err.contains("not valid"), "{err}");
    // …or naming himself the owner: the group's id says otherwise.
    let as_bob = Ticket::Group(GroupTicket {
        owner: bob_id,
        invite: Box::new(minted.clone()),
        ..genuine.clone()
    });
    let err = f.eve.node.group_join(&as_bob).unwrap_err().to_string();
    assert!(err.contains("does not own"), "{err}");
    assert!(f.eve.node.group(&group).is_err(), "Eve holds nothing of it");
    // Eve writes joins herself and hands them to the members: one with
    // Bob's invite, and one with an invite Dan used (every member can read
    // it in Dan's join), dated before his, but without its ticket's secret.
    let eve_id = f.eve.node.identity();
    let eve_cert = own_cert(&mut f.eve.node);
    let key = f.bob.node.store().space_key(&group, 0).unwrap().unwrap();
    let join_with = |invite: &Invite, secret: &[u8; 32], ts: u64| {
        starling_core::Entry::create(
            &device_key(&f.eve.home),
            group,
            1,
            None,
            ts,
            0,
            &key,
            [9; 24],
            &Record::Group(GroupOp::Join {
                cert: eve_cert.clone(),
                claim: Invite::claim(secret, &group, &invite.mark, &eve_id),
                invite: Box::new(invite.clone()),
            })
            .encode(),
        )
    };
    let joins = [
        join_with(&minted, &[8; 32], now),
        join_with(&genuine.invite, &[8; 32], 1),
    ];
    for victim in [&mut f.ann, &mut f.cat] {
        let before = fingerprint(&mut victim.node);
        for join in &joins {
            let r = victim.node.import(&bundle_of([join])).unwrap();
            assert_eq!(r.accepted, 0, "{r:?}");
            assert!(r.rejected[0].reason.contains("invalid invite"), "{r:?}");
        }
        assert_eq!(fingerprint(&mut victim.node), before);
    }
    assert!(
        f.ann
            .node
            .group(&group)
            .unwrap()
            .members
            .iter()
            .all(|m| m.identity != eve_id)
    );

    // Ann removes Dan; everyone hears of it.
    assert_eq!(f.ann.node.group_remove(&group, &dan_id).unwrap(), 1);
    f.everyone_meets();
    // Dan uses his old invite again: his own device says no (it keeps the
    // join, like any entry past his removal: hidden, at most 64 of them).
    let err = f
        .dan
        .node
        .group_join(&f.dan_invite)
        .unwrap_err()
        .to_string();
    assert!(err.contains("removed"), "{err}");
    // Dan writes on past his removal, 100 posts, and hands all of it to the
    // members: they keep at most 64 entries past his removal, hidden, and
    // refuse the rest; nothing they show changes.
    let records: Vec<Record> = (0..100)
        .map(|i| {
            Record::Post(starling_core::record::Post {
                text: format!("dan, after his removal {i}"),
                reply_to: None,
                quote_of: None,
                images: vec![],
            })
        })
        .collect();
    let late = crate::support::forge_chain(&mut f.dan.node, &f.dan.home, &group, &records);
    let dan_log = f.dan.node.store().export(&[group]).unwrap();
    let dan_device = f.dan.node.device();
    let limit = head_seq(&mut f.ann.node, &group, &dan_device);
    for victim in [&mut f.ann, &mut f.bob, &mut f.cat] {
        let shown = what_members_see(&mut victim.node, &group);
        let r = victim.node.import(&dan_log).unwrap();
        assert!(r.accepted <= 64, "{r:?}");
        assert!(
            r.rejected
                .iter()
                .all(|x| x.reason.contains("not a member") || x.reason.contains("earlier entry")),
            "{r:?}"
        );
        let r = victim.node.import(&bundle_of(&late)).unwrap();
        assert!(r.accepted <= 63, "{r:?}");
        assert!(r.refused >= 36, "{r:?}");
        assert!(victim.node.store().equivocations().unwrap().is_empty());
        let head = head_seq(&mut victim.node, &group, &dan_device);
        assert!(head <= limit + 64, "{head} > {limit} + 64");
        assert_eq!(what_members_see(&mut victim.node, &group), shown);
    }
    assert!(
        f.dan
            .node
            .post(NewPost {
                text: "let me back".into(),
                group: Some(group),
                ..Default::default()
            })
            .is_err()
    );

    // Ann posts text and an image after the removal; Bob replies.
    let picture = crate::support::png(11, 24);
    let after = post_in(&mut f.ann.node, "after", vec![picture.clone()]);
    f.everyone_meets();
    post_in(&mut f.bob.node, "bob after", vec![]);
    f.everyone_meets();
    let image = f.ann.node.store().post(&after).unwrap().unwrap().images[0];

    // Every member has the owner's view.
    let want = group_texts(&mut f.ann.node, &group);
    assert_eq!(want, ["bob after", "after", "before"]);
    let view = f.ann.node.group(&group).unwrap();
    assert_eq!(view.owner, ann_id);
    let mut members: Vec<_> = view.members.iter().map(|m| m.identity).collect();
    members.sort();
    let mut expected = vec![ann_id, bob_id, f.cat.node.identity()];
    expected.sort();
    assert_eq!(members, expected);
    for n in [&mut f.bob.node, &mut f.cat.node] {
        assert_eq!(group_texts(n, &group), want);
        let v = n.group(&group).unwrap();
        let who = |v: &starling_core::GroupView| -> Vec<_> {
            v.members.iter().map(|m| (m.identity, m.role)).collect()
        };
        assert_eq!((v.owner, who(&v)), (view.owner, who(&view)));
        assert_eq!(n.open_blob(&ann_id, &image).unwrap(), Some(picture.clone()));
    }
    assert_eq!(
        f.bob.node.group(&group).unwrap().my_role,
        Some(starling_core::view::Role::Member)
    );
    // Dan holds the new entries and the image's bytes, and reads none.
    let sealed = f.ann.node.store().blob(&image).unwrap().unwrap();
    f.dan
        .node
        .store()
        .put_blob(&group, &image, &sealed)
        .unwrap();
    assert_eq!(group_texts(&mut f.dan.node, &group), ["before"]);
    assert_eq!(f.dan.node.open_blob(&ann_id, &image).unwrap(), None);
    assert!(f.dan.node.group(&group).unwrap().my_role.is_none());
    assert!(f.dan.node.groups().unwrap().is_empty());
    for n in f.members() {
        assert!(n.store().check().unwrap().problems.is_empty());
    }
}

/// An invite binds to the first identity that uses it: Cat uses the one
/// Bob used first, and only Bob is let in, on every member.
#[test]
fn an_invite_binds_to_the_first_identity_that_uses_it() {
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    let mut cat = TestNode::new("cat");
    let group = ann.node.group_create("one seat", None).unwrap();
    let t = ann.node.group_invite(&group, 3_600_000).unwrap();
    bob.node.group_join(&t).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    // Cat does not hold the group yet: her own device lets her in…
    cat.node.group_join(&t).unwrap();
    // …but Ann, who saw Bob's join, refuses Cat's.
    share_group(&mut bob.node, &mut ann.node, &group);
    let r = ann
        .node
        .import(&cat.node.store().export(&[group]).unwrap())
        .unwrap();
    assert!(
        r.rejected.iter().any(|x| x.reason.contains("not a member")),
        "{r:?}"
    );
    // Once Cat hears of Bob's join, she is out on her own device too, and
    // the same invite will not let her in again.
    share_group(&mut ann.node, &mut cat.node, &group);
    share_group(&mut bob.node, &mut cat.node, &group);
    assert!(cat.node.group(&group).unwrap().my_role.is_none());
    assert!(cat.node.group_join(&t).is_err());
    let members = |n: &mut Node| -> Vec<_> {
        n.group(&group)
            .unwrap()
            .members
            .into_iter()
            .map(|m| m.identity)
            .collect()
    };
    let want = members(&mut ann.node);
    assert_eq!(want.len(), 2);
    assert!(want.contains(&bob.node.identity()));
    share_group(&mut ann.node, &mut bob.node, &group);
    assert_eq!(members(&mut bob.node), want);
    assert_eq!(members(&mut cat.node), want);
}

/// A member who wrote on before hearing of their removal: the members who
/// got those posts first hide them when the removal comes, the others keep
/// them hidden; when the owner lets the member back in (a new invite), the
/// posts show again on every member, the same everywhere.
#[test]
fn posts_past_a_removal_hide_and_show_again_if_the_member_is_let_back_in() {
    let mut ann = TestNode::new("ann");
    let mut cat = TestNode::new("cat");
    let mut dan = TestNode::new("dan");
    let group = ann.node.group_create("flock", None).unwrap();
    for m in [&mut cat, &mut dan] {
        let t = ann.node.group_invite(&group, 3_600_000).unwrap();
        m.node.group_join(&t).unwrap();
    }
    let say = |n: &mut Node, text: &str| {
        n.post(NewPost {
            text: text.into(),
            group: Some(group),
            ..Default::default()
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(2));
    };
    let meet = |a: &mut Node, b: &mut Node| {
        share_group(a, b, &group);
        share_group(b, a, &group);
    };
    meet(&mut ann.node, &mut cat.node);
    meet(&mut ann.node, &mut dan.node);
    meet(&mut cat.node, &mut dan.node);
    say(&mut dan.node, "dan, a member");
    meet(&mut dan.node, &mut ann.node);
    meet(&mut dan.node, &mut cat.node);
    // Dan posts again; only Cat gets it before Ann removes him.
    say(&mut dan.node, "dan, not yet told");
    share_group(&mut dan.node, &mut cat.node, &group);
    assert_eq!(group_texts(&mut cat.node, &group)[0], "dan, not yet told");
    let dan_id = dan.node.identity();
    ann.node.group_remove(&group, &dan_id).unwrap();
    meet(&mut ann.node, &mut cat.node);
    share_group(&mut dan.node, &mut ann.node, &group);
    for n in [&mut ann.node, &mut cat.node] {
        assert_eq!(group_texts(n, &group), ["dan, a member"]);
        assert!(n.store().check().unwrap().problems.is_empty());
    }
    // Ann lets Dan back in with a new invite.
    let again = ann.node.group_invite(&group, 3_600_000).unwrap();
    share_group(&mut ann.node, &mut dan.node, &group);
    dan.node.group_join(&again).unwrap();
    meet(&mut dan.node, &mut ann.node);
    meet(&mut dan.node, &mut cat.node);
    meet(&mut ann.node, &mut cat.node);
    let want = ["dan, not yet told", "dan, a member"];
    for n in [&mut ann.node, &mut cat.node, &mut dan.node] {
        assert_eq!(group_texts(n, &group), want);
        assert!(n.group(&group).unwrap().my_role.is_some() || n.identity() != dan_id);
        assert!(n.store().check().unwrap().problems.is_empty());
    }
    assert!(dan.node.group(&group).unwrap().my_role.is_some());
}

/// A post dated a year ahead is kept but not placed above the present: the
/// timeline starts from now.
#[test]
fn a_post_from_the_future_is_not_placed_above_the_present() {
    let mut author = starling_core::synth::SynthAuthor::new(31);
    let mut f = TestNode::new("fay");
    f.node.follow(&author.ticket()).unwrap();
    let now = starling_core::node::now_ms();
    let year = 365 * 24 * 3600 * 1000;
    let es = vec![
        author.cert(now - 10_000),
        author.post("an honest post", None, now - 5_000),
        author.post("pinned to the top by its date", None, now + year),
    ];
    let r = f.node.import(&bundle_of(&es)).unwrap();
    assert_eq!(r.accepted, 3);
    assert_eq!(texts(&mut f.node), ["an honest post"]);
    // It is held (a search finds it), just not shown ahead of its time.
    assert_eq!(f.node.search("pinned", 10).unwrap().len(), 1);
    // A few minutes fast is fine.
    let mut b = starling_core::synth::SynthAuthor::new(32);
    f.node.follow(&b.ticket()).unwrap();
    let es = vec![
        b.cert(now - 10_000),
        b.post("a clock a minute fast", None, now + 60_000),
    ];
    f.node.import(&bundle_of(&es)).unwrap();
    assert_eq!(
        texts(&mut f.node),
        ["a clock a minute fast", "an honest post"]
    );
}

/// The wait list for entries whose predecessor is missing is bounded per
/// log; a log whose certificate is not held gets little room; entries of
/// spaces not held never wait.
#[test]
fn the_wait_list_is_bounded() {
    let mut author = starling_core::synth::SynthAuthor::new(41);
    let mut f = TestNode::new("fay");
    f.node.follow(&author.ticket()).unwrap();
    let cert = author.cert(1);
    let mut later = Vec::new();
    for i in 0..200u64 {
        later.push(author.post(&format!("p{i}"), None, 2 + i));
    }
    // Without the certificate: only the first 64 wait.
    let r = f.node.import(&bundle_of(&later)).unwrap();
    assert_eq!(r.pending, 64, "{:?}", (r.pending, r.refused));
    assert_eq!(f.node.store().waiting().unwrap(), 64);
    // The certificate comes: what waited is applied, the rest comes again.
    f.node.import(&bundle_of([&cert])).unwrap();
    assert_eq!(f.node.store().waiting().unwrap(), 0);
    let r = f.node.import(&bundle_of(&later)).unwrap();
    assert_eq!(r.accepted, 200 - 64);
    assert_eq!(texts(&mut f.node).len(), 100);
    // A stranger's feed never waits here.
    let mut stranger = starling_core::synth::SynthAuthor::new(42);
    let _ = stranger.cert(1);
    let gap = stranger.post("gap", None, 2);
    let r = f.node.import(&bundle_of([&gap])).unwrap();
    assert_eq!((r.pending, r.refused), (0, 1));
    assert_eq!(f.node.store().waiting().unwrap(), 0);
}

// ---- Over the network -------------------------------------------------

use starling_core::net::{MAX_FRAME, NetConfig, SYNC_ALPN};
use starling_core::protocol::catchup::{Answer, Frontier, Message};
use starling_core::space::AuthKey;
use starling_core::{DeviceId, Entry};

use crate::net::{Running, bounded, endpoint_addr, frame, raw_client, ticket, until};

/// Reads one frame (bounded), or `None` when the stream ends or breaks.
async fn read_msg(recv: &mut iroh::endpoint::RecvStream) -> Option<Message> {
    let mut len = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(10), recv.read_exact(&mut len))
        .await
        .ok()?
        .ok()?;
    let n = u32::from_le_bytes(len) as usize;
    if n > MAX_FRAME {
        return None;
    }
    let mut buf = vec![0; n];
    tokio::time::timeout(Duration::from_secs(10), recv.read_exact(&mut buf))
        .await
        .ok()?
        .ok()?;
    Message::decode(&buf).ok()
}

/// A raw client's session with `to`: names `spaces` by handle, sends its
/// (empty) frontier for those that differ, then `then`, then `Done`.
/// Returns what it received, and whether the session ended as it should
/// (all sent, and the other side's `Done` received) rather than cut off.
async fn raw_session(
    client: &iroh::Endpoint,
    to: &starling_core::PeerAddr,
    spaces: &[(SpaceId, AuthKey)],
    then: Vec<Message>,
) -> (Vec<Message>, bool) {
    let me = DeviceId(*client.id().as_bytes());
    let conn = bounded(client.connect(endpoint_addr(to), SYNC_ALPN))
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    let hello = Message::Hello {
        spaces: spaces
            .iter()
            .map(|(s, a)| (a.handle(&me, &to.device, s), [0; 16]))
            .collect(),
    };
    let mut got = Vec::new();
    send.write_all(&frame(&hello)).await.unwrap();
    let mut answers = Vec::new();
    while answers.len() < spaces.len() {
        match read_msg(&mut recv).await {
            Some(Message::Reply { answers: a }) => answers.extend(a),
            Some(other) => got.push(other),
            None => return (got, false),
        }
    }
    let differ: Vec<(SpaceId, Frontier)> = spaces
        .iter()
        .zip(&answers)
        .filter(|(_, a)| matches!(a, Answer::Differs(_)))
        .map(|((s, _), _)| (*s, Frontier::default()))
        .collect();
    got.push(Message::Reply { answers });
    let mut whole = true;
    if !differ.is_empty() {
        let mut out = vec![Message::Have { spaces: differ }];
        out.extend(then);
        out.push(Message::Done);
        for m in out {
            if send.write_all(&frame(&m)).await.is_err() {
                whole = false;
                break;
            }
        }
        let _ = send.finish();
    }
    while let Some(m) = read_msg(&mut recv).await {
        got.push(m);
    }
    conn.close(0u32.into(), b"bye");
    let done = differ_count_was_zero(&got) || got.contains(&Message::Done);
    (got, whole && done)
}

/// Whether a session had nothing to exchange (every space in sync or not
/// served), so no `Done` comes.
fn differ_count_was_zero(got: &[Message]) -> bool {
    got.iter().all(|m| match m {
        Message::Reply { answers } => !answers.iter().any(|a| matches!(a, Answer::Differs(_))),
        _ => true,
    })
}

/// An entry of `space` written by a device Ann's store has never seen,
/// certified by a throwaway identity: a junk log.
fn junk_log(space: SpaceId, key: &starling_core::SpaceKey, seed: u64) -> Vec<Entry> {
    let id = starling_core::IdentityKey::from_secret_bytes(
        *blake3::hash(&seed.to_le_bytes()).as_bytes(),
    );
    let dev = starling_core::DeviceKey::from_secret_bytes(
        *blake3::hash(&(seed ^ u64::MAX).to_le_bytes()).as_bytes(),
    );
    let cert = starling_core::DeviceCert::issue(&id, dev.id(), 1);
    let first = Entry::create(
        &dev,
        space,
        1,
        None,
        1,
        0,
        key,
        [1; 24],
        &Record::DeviceCert(cert).encode(),
    );
    let second = Entry::create(
        &dev,
        space,
        2,
        Some(first.id()),
        2,
        0,
        key,
        [2; 24],
        &Record::Like {
            target: starling_core::EntryId([0; 32]),
        }
        .encode(),
    );
    vec![first, second]
}

/// What Ann's store holds, to compare: counts, spaces, waiting entries.
fn holdings(r: &Running) -> ((u64, u64, u64), usize, u64) {
    r.with(|n| {
        let s = n.store();
        (
            s.counts().unwrap(),
            s.spaces().unwrap().len(),
            s.waiting().unwrap(),
        )
    })
}

/// A peer in a catch-up session sends what the rules refuse: entries of
/// another space inside a message for a space it may write to, entries
/// with no payload from uncertified devices, a message for a space never
/// agreed on, and 100,000 junk logs. Ann's store is unchanged, and she
/// still syncs with an honest peer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catch_up_peer_cannot_make_a_node_keep_what_the_rules_refuse() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let mut fay = starling_core::synth::SynthAuthor::new(51);
    let mut es = vec![fay.cert(1)];
    for i in 0..5 {
        es.push(fay.post(&format!("fay {i}"), None, 2 + i));
    }
    ann.with(|n| n.follow(&fay.ticket())).unwrap();
    ann.with(|n| n.store().import_entries(es)).unwrap();
    let feed = starling_core::space::feed_space_id(&fay.identity());
    let key = fay.space_key().clone();
    let auth = AuthKey::of(&key);
    let pa = ann.start_catch_up_only().await;
    let before = holdings(&ann);
    let frontier = ann.with(|n| n.store().served_frontier(&feed)).unwrap();
    let client = raw_client().await;
    let named = [(feed, auth.clone())];

    // 1. Entries of another space (a stranger's own feed), sent as Fay's.
    let mut other = starling_core::synth::SynthAuthor::new(52);
    let foreign: Vec<Vec<u8>> = vec![other.cert(1).encode(), other.post("x", None, 2).encode()];
    // 2. Uncertified devices' entries without payload, at seq 1 and later.
    let mut stripped: Vec<Vec<u8>> = Vec::new();
    for seed in 0..20 {
        for e in junk_log(feed, &key, 1_000_000 + seed) {
            stripped.push(e.without_payload().encode());
        }
    }
    // 3. An entry of a space Ann does not hold, sent as Fay's.
    let unknown = SpaceId([77; 32]);
    let mut unheld: Vec<Vec<u8>> = Vec::new();
    for e in junk_log(unknown, &key, 7) {
        unheld.push(e.encode());
    }
    for entries in [foreign, stripped, unheld] {
        let (got, whole) = raw_session(
            &client,
            &pa.addr(),
            &named,
            vec![Message::Entries {
                space: feed,
                entries,
            }],
        )
        .await;
        assert!(whole, "{got:?}");
        assert_eq!(holdings(&ann), before);
    }
    // 4. A message for a space never agreed on: the session is cut.
    let (_, _) = raw_session(
        &client,
        &pa.addr(),
        &named,
        vec![Message::Entries {
            space: unknown,
            entries: vec![vec![1, 2, 3]],
        }],
    )
    .await;
    assert_eq!(holdings(&ann), before);

    // 5. 100,000 junk logs (a certificate from a throwaway identity and an
    // entry after it, each), in messages of about 1 MB: 4,000 logs a
    // session (8,000 refusals, under the cut-off), then one session that
    // tries 25,000 more and is cut off after 10,000 refusals.
    let junk = |from: u64, to: u64| -> Vec<Message> {
        let mut msgs = Vec::new();
        let mut batch = Vec::new();
        for seed in from..to {
            for e in junk_log(feed, &key, seed) {
                batch.push(e.encode());
            }
            if batch.len() >= 3000 {
                msgs.push(Message::Entries {
                    space: feed,
                    entries: std::mem::take(&mut batch),
                });
            }
        }
        if !batch.is_empty() {
            msgs.push(Message::Entries {
                space: feed,
                entries: batch,
            });
        }
        msgs
    };
    let started = std::time::Instant::now();
    for part in 0..25u64 {
        let (_, whole) = raw_session(
            &client,
            &pa.addr(),
            &named,
            junk(part * 4000, (part + 1) * 4000),
        )
        .await;
        assert!(whole, "session {part} was cut off");
    }
    eprintln!(
        "100,000 junk logs (200,000 entries) refused in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let (_, whole) = raw_session(&client, &pa.addr(), &named, junk(100_000, 125_000)).await;
    assert!(!whole, "a flood of refused entries ends the session");
    assert_eq!(holdings(&ann), before, "nothing kept, nothing waiting");
    assert_eq!(
        ann.with(|n| n.store().served_frontier(&feed)).unwrap(),
        frontier,
        "Fay's frontier is what it was"
    );
    assert!(ann.with(|n| n.store().check()).unwrap().problems.is_empty());

    // Ann still serves an honest follower of Fay.
    bob.with(|n| n.follow(&fay.ticket())).unwrap();
    let pb = bob.start_catch_up_only().await;
    let r = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(r.import.accepted, 6, "{r:?}");
    assert_eq!(bob.texts()[0], "fay 4");
    client.close().await;
    pa.shutdown().await;
    pb.shutdown().await;
}

/// A stranger's endpoint that speaks the sync protocol and gossip, and
/// records every sync message it is sent.
#[derive(Debug, Clone, Default)]
struct Recorder {
    seen: std::sync::Arc<std::sync::Mutex<Vec<Message>>>,
}

impl iroh::protocol::ProtocolHandler for Recorder {
    async fn accept(
        &self,
        conn: iroh::endpoint::Connection,
    ) -> Result<(), iroh::protocol::AcceptError> {
        let Ok((mut send, mut recv)) = conn.accept_bi().await else {
            return Ok(());
        };
        while let Some(m) = read_msg(&mut recv).await {
            self.seen.lock().unwrap().push(m.clone());
            let answer = match m {
                Message::Hello { spaces } => Message::Reply {
                    answers: vec![Answer::NotServed; spaces.len()],
                },
                Message::Summary { .. } => Message::NeedHello,
                _ => break,
            };
            if send.write_all(&frame(&answer)).await.is_err() {
                break;
            }
        }
        let _ = send.finish();
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.closed()).await;
        Ok(())
    }
}

/// A stranger who knows only one public feed (Fay's) tries every route to
/// make Ann talk: it joins that feed's gossip topic through her, announces
/// a head she lacks, sends junk, waits for her periodic checks, and dials
/// her naming Fay's feed, her conversation with Bob (whose id anyone can
/// derive, but not its key) and a made-up space. Every catch-up Ann starts
/// with it names Fay's feed alone, and she sends it nothing else: not her
/// other follows, her group, her conversation or her account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_learns_nothing_but_the_public_feed_it_named() {
    use iroh_gossip::{Gossip, TopicId};
    use starling_core::protocol::live::Notice;
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let mut fay = starling_core::synth::SynthAuthor::new(71);
    let mut gil = starling_core::synth::SynthAuthor::new(72);
    for a in [&mut fay, &mut gil] {
        let es = vec![a.cert(1), a.post("hello", None, 2)];
        ann.with(|n| n.follow(&a.ticket())).unwrap();
        ann.with(|n| n.store().import_entries(es)).unwrap();
    }
    // Ann's private side: a conversation with Bob and a group.
    let bob_id = bob.with(|n| n.identity());
    let tb = ticket(&bob);
    ann.with(|n| n.follow(&tb)).unwrap();
    ann.with(|n| n.dm(&bob_id, "psst")).unwrap();
    let group = ann.with(|n| n.group_create("secret", None)).unwrap();
    ann.with(|n| {
        n.post(NewPost {
            text: "in the group".into(),
            group: Some(group),
            ..Default::default()
        })
    })
    .unwrap();
    let pa = ann
        .start_with(NetConfig {
            check_every: Duration::from_millis(300),
            ..NetConfig::loopback()
        })
        .await;
    let ann_addr = pa.addr();
    let ann_device = ann_addr.device;

    // The stranger: sync (recording), gossip.
    let client = raw_client().await;
    let me = DeviceId(*client.id().as_bytes());
    let gossip = Gossip::builder().spawn(client.clone());
    let recorder = Recorder::default();
    let _router = iroh::protocol::Router::builder(client.clone())
        .accept(iroh_gossip::ALPN, gossip.clone())
        .accept(SYNC_ALPN, recorder.clone())
        .spawn();
    let lookup = iroh::address_lookup::memory::MemoryLookup::new();
    lookup.add_endpoint_info(endpoint_addr(&ann_addr));
    client.address_lookup().unwrap().add(lookup);
    let feed = starling_core::space::feed_space_id(&fay.identity());
    let fay_auth = AuthKey::of(fay.space_key());
    let hellos = || -> Vec<Vec<starling_core::space::Handle>> {
        recorder
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter_map(|m| match m {
                Message::Hello { spaces } => Some(spaces.iter().map(|(h, _)| *h).collect()),
                _ => None,
            })
            .collect()
    };

    // Route 1: its gossip topic, through Ann: she meets it and catches up.
    let ann_id = iroh::PublicKey::from_bytes(ann_device.as_bytes()).unwrap();
    let topic = TopicId::from_bytes(fay_auth.topic(&feed));
    let sub = bounded(gossip.subscribe_and_join(topic, vec![ann_id]))
        .await
        .unwrap();
    let (tx, _rx) = sub.split();
    until(|| !hellos().is_empty()).await;
    // Route 2: a head Ann lacks; route 3: junk on the topic.
    let fay_device = fay.device_key().id();
    let before = hellos().len();
    let head = Notice::Head {
        device: fay_device,
        seq: 1_000_000,
    };
    tx.broadcast(head.encode().into()).await.unwrap();
    tx.broadcast(Notice::Entry(vec![9; 40]).encode().into())
        .await
        .unwrap();
    // Route 4: her periodic checks with the peers she saw lately.
    until(|| hellos().len() >= before + 3).await;

    // Every catch-up Ann started named Fay's feed, and only it.
    let expected = fay_auth.handle(&ann_device, &me, &feed);
    let all = hellos();
    assert!(all.len() >= 4, "{} sessions", all.len());
    for h in &all {
        assert_eq!(h, &vec![expected], "Ann named more than Fay's feed");
    }
    let sent: Vec<Message> = recorder.seen.lock().unwrap().clone();
    assert!(
        sent.iter()
            .all(|m| matches!(m, Message::Hello { .. } | Message::Summary { .. })),
        "Ann sent the stranger more than names: {sent:?}"
    );

    // Route 5: the stranger dials Ann and names Fay's feed (served), her
    // conversation with Bob with a guessed key, her account space and a
    // made-up space (not recognised).
    let ann_identity = ann.with(|n| n.identity());
    let dm = starling_core::space::direct_space_id(&ann_identity, &bob_id);
    let guess = AuthKey::of(&starling_core::SpaceKey::from_bytes(dm.0));
    let account = starling_core::space::account_space_id(&ann_identity);
    let named = [
        (feed, fay_auth.clone()),
        (dm, guess.clone()),
        (account, guess.clone()),
        (SpaceId([5; 32]), guess),
    ];
    let (got, _) = raw_session(&client, &ann_addr, &named, vec![]).await;
    let answers: Vec<Answer> = got
        .iter()
        .filter_map(|m| match m {
            Message::Reply { answers } => Some(answers.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(answers.len(), 4);
    assert!(matches!(answers[0], Answer::Differs(_)));
    assert_eq!(
        answers[1..],
        [Answer::NotServed, Answer::NotServed, Answer::NotServed]
    );
    let spaces: std::collections::BTreeSet<SpaceId> = got
        .iter()
        .filter_map(|m| match m {
            Message::Entries { space, .. } => Some(*space),
            _ => None,
        })
        .collect();
    assert_eq!(
        spaces,
        [feed].into_iter().collect(),
        "only Fay's feed was sent"
    );
    client.close().await;
    pa.shutdown().await;
}

/// An author whose post names an image that is, in truth, 200 MiB: a
/// follower's fetch stops at the size the post declared (and never goes
/// past the largest image), after the size header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_fetch_stops_at_the_declared_size() {
    use iroh_blobs::provider::events::{
        EventMask, EventSender, ProviderMessage, RequestMode, RequestUpdate,
    };
    let ann = Running::new("ann");
    let mut eve = starling_core::synth::SynthAuthor::new(81);
    // Eve's device, as an iroh endpoint that serves one 200 MiB blob and
    // counts what it sends.
    let secret = iroh::SecretKey::from_bytes(&eve.device_key().secret_bytes());
    let endpoint = loopback_endpoint(Some(secret)).await;
    let mem = iroh_blobs::store::mem::MemStore::new();
    let huge = vec![7u8; 200 << 20];
    let tag = mem.blobs().add_bytes(huge).temp_tag().await.unwrap();
    let hash = starling_core::Hash(*tag.hash().as_bytes());
    drop(tag);
    let mask = EventMask {
        get: RequestMode::InterceptLog,
        ..EventMask::DEFAULT
    };
    let (events, mut rx) = EventSender::channel(16, mask);
    let sent = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let counted = sent.clone();
    tokio::spawn(async move {
        while let Some(msg) = rx.recv().await {
            if let ProviderMessage::GetRequestReceived(msg) = msg {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut updates = msg.rx;
                    msg.tx.send(Ok(())).await.ok();
                    while let Ok(Some(u)) = updates.recv().await {
                        let bytes = match u {
                            RequestUpdate::Completed(c) => c.stats.payload_bytes_sent,
                            RequestUpdate::Aborted(a) => a.stats.payload_bytes_sent,
                            _ => continue,
                        };
                        counted.lock().unwrap().push(bytes);
                        break;
                    }
                });
            }
        }
    });
    let _router = iroh::protocol::Router::builder(endpoint.clone())
        .accept(
            iroh_blobs::ALPN,
            iroh_blobs::BlobsProtocol::new(&mem, Some(events)),
        )
        .spawn();
    let eve_addr = starling_core::PeerAddr {
        device: eve.device_key().id(),
        addrs: endpoint.bound_sockets(),
        relay: None,
    };
    // Two posts name it: one says 2 KiB, one says 200 MiB.
    let image = |len: u32| starling_core::record::ImageRef {
        hash,
        len,
        mime: "image/png".into(),
        alt: String::new(),
    };
    let post = |len: u32| {
        Record::Post(starling_core::record::Post {
            text: format!("look ({len} bytes)"),
            reply_to: None,
            quote_of: None,
            images: vec![image(len)],
        })
    };
    let es = vec![eve.cert(1), eve.write(&post(2048), 2)];
    let Ticket::Feed(mut t) = eve.ticket() else {
        panic!("a feed ticket")
    };
    t.peer = Some(eve_addr);
    ann.with(|n| n.follow(&Ticket::Feed(t))).unwrap();
    ann.with(|n| n.store().import_entries(es)).unwrap();
    let pa = ann.start_catch_up_only().await;
    pa.notify_local_change();
    // Ann asks (and asks again after a while); every answer is cut short.
    until(|| sent.lock().unwrap().len() >= 2).await;
    let big = u64::from(starling_core::node::MAX_SEALED_IMAGE_LEN);
    ann.with(|n| {
        n.store()
            .import_entries(vec![eve.write(&post(200 << 20), 3)])
    })
    .unwrap();
    pa.notify_local_change();
    until(|| sent.lock().unwrap().len() >= 4).await;
    let counts = sent.lock().unwrap().clone();
    eprintln!("bytes Eve's device sent per request: {counts:?} (the post declared 2,048)");
    for n in &counts {
        assert!(*n < big, "{n} bytes went out for one request");
    }
    assert!(!ann.with(|n| n.store().has_blob(&hash)).unwrap());
    pa.shutdown().await;
    endpoint.close().await;
}

/// Account backups from others: a followed identity that writes backup
/// after backup costs a follower one payload (the newest), and a group
/// member cannot put a backup into the group; none of it touches the
/// follower's own account.
#[test]
fn backups_from_others_are_bounded_and_stay_in_their_feed() {
    let mut ann = TestNode::new("ann");
    let mut eve = TestNode::new("eve");
    let te = eve.node.ticket().unwrap();
    ann.node.follow(&te).unwrap();
    let eve_feed = starling_core::space::feed_space_id(&eve.node.identity());
    share(&mut eve.node, &mut ann.node);
    let (before, _) = fingerprint(&mut ann.node);
    let ann_account = ann.node.account_lists().unwrap();
    // Eve writes 50 backups of 20 KB each (opaque bytes Ann cannot open).
    let records: Vec<Record> = (0..50u8).map(|i| Record::Backup(vec![i; 20_000])).collect();
    let chain = crate::support::forge_chain(&mut eve.node, &eve.home, &eve_feed, &records);
    let r = ann.node.import(&bundle_of(chain.iter())).unwrap();
    assert_eq!(r.accepted, 50, "{r:?}");
    let (after, _) = fingerprint(&mut ann.node);
    // Ann keeps the newest payload only (plus 49 headers).
    assert!(
        after.len() < before.len() + 2 * 20_000 + 49 * 300,
        "{} bytes more",
        after.len() - before.len()
    );
    assert_eq!(
        ann.node
            .store()
            .newest_backup(&eve.node.identity())
            .unwrap(),
        Some(vec![49; 20_000])
    );
    // Ann's own account is untouched: a restore reads only her own backup
    // (one follow, Eve), never Eve's.
    assert_eq!(ann.node.account_lists().unwrap(), ann_account);
    assert_eq!(ann.node.restore_account().unwrap().follows, 1);
    assert_eq!(ann.node.account_lists().unwrap(), ann_account);
    // In a group Eve belongs to, a backup is refused: Ann's store unchanged.
    refused_in_a_group(
        &mut ann,
        &mut eve,
        &Record::Backup(vec![1; 10]),
        "backup belongs in its identity's feed",
    );
}

/// Eve joins a group of Ann's and writes `record`, which belongs in a
/// feed, into it: Ann refuses it for `reason`, her store unchanged.
fn refused_in_a_group(ann: &mut TestNode, eve: &mut TestNode, record: &Record, reason: &str) {
    let group = ann.node.group_create("g", None).unwrap();
    let invite = ann.node.group_invite(&group, 3_600_000).unwrap();
    eve.node.group_join(&invite).unwrap();
    share(&mut eve.node, &mut ann.node);
    let held = fingerprint(&mut ann.node);
    let misplaced = forge(&mut eve.node, &eve.home, &group, record);
    let r = ann.node.import(&bundle_of([&misplaced])).unwrap();
    assert_eq!(r.accepted, 0);
    assert!(r.rejected[0].reason.contains(reason), "{r:?}");
    assert_eq!(fingerprint(&mut ann.node), held);
}

/// Whom someone follows is private until they choose to show it; shown,
/// their followers see "follows you" and who to follow from it; taken
/// back, both go.
#[test]
fn follows_you_and_who_to_follow_come_only_from_a_shown_follow_list() {
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    let mut cat = TestNode::new("cat");
    let mut dan = TestNode::new("dan");
    let (ta, tc, td) = (
        ann.node.ticket().unwrap(),
        cat.node.ticket().unwrap(),
        dan.node.ticket().unwrap(),
    );
    for t in [&ta, &tc, &td] {
        bob.node.follow(t).unwrap();
    }
    ann.node.follow(&bob.node.ticket().unwrap()).unwrap();
    let (bid, cid, did) = (
        bob.node.identity(),
        cat.node.identity(),
        dan.node.identity(),
    );
    // Private by default: nothing in Bob's feed says whom he follows.
    share(&mut bob.node, &mut ann.node);
    assert!(!bob.node.show_follows().unwrap());
    assert!(!ann.node.store().has_follow_list(&bid).unwrap());
    assert!(!ann.node.profile(Some(&bid)).unwrap().follows_you);
    assert!(ann.node.suggestions(10).unwrap().is_empty());
    // Bob shows it.
    assert!(bob.node.set_show_follows(true).unwrap());
    share(&mut bob.node, &mut ann.node);
    assert!(ann.node.profile(Some(&bid)).unwrap().follows_you);
    let s = ann.node.suggestions(10).unwrap();
    let mut who: Vec<_> = s.iter().map(|s| s.profile.identity).collect();
    who.sort();
    let mut want = vec![cid, did];
    want.sort();
    assert_eq!(who, want);
    assert!(
        s.iter()
            .all(|s| s.followers == 1 && s.followed_by == vec!["bob".to_string()] && !s.key_held)
    );
    // Following one of them takes them off the list; Bob's next follow
    // writes his list again.
    ann.node.follow(&tc).unwrap();
    let mut eve = TestNode::new("eve");
    bob.node.follow(&eve.node.ticket().unwrap()).unwrap();
    share(&mut bob.node, &mut ann.node);
    let mut who: Vec<_> = ann
        .node
        .suggestions(10)
        .unwrap()
        .iter()
        .map(|s| s.profile.identity)
        .collect();
    who.sort();
    let mut want = vec![did, eve.node.identity()];
    want.sort();
    assert_eq!(who, want);
    // Someone Ann unfollowed (her key for them is held) is one click away.
    ann.node.unfollow(&cid).unwrap();
    let again = ann.node.suggestions(10).unwrap();
    let cat_again = again.iter().find(|s| s.profile.identity == cid).unwrap();
    assert!(cat_again.key_held);
    ann.node.follow_known(&cid).unwrap();
    // A blocked or muted follower's list suggests no one; blocked people
    // are not suggested.
    ann.node.block(&did).unwrap();
    assert!(
        ann.node
            .suggestions(10)
            .unwrap()
            .iter()
            .all(|s| s.profile.identity != did)
    );
    ann.node.mute(&bid).unwrap();
    assert!(ann.node.suggestions(10).unwrap().is_empty());
    ann.node.unmute(&bid).unwrap();
    // Bob takes it back: an empty list replaces it.
    assert!(bob.node.set_show_follows(false).unwrap());
    share(&mut bob.node, &mut ann.node);
    assert!(!ann.node.profile(Some(&bid)).unwrap().follows_you);
    assert!(ann.node.suggestions(10).unwrap().is_empty());
    assert!(ann.node.store().public_follows_of(&bid).unwrap().is_empty());
}

/// A followed identity's public follow lists: the newest counts (and only
/// it keeps its payload), a list naming its own writer names no one, and
/// a member cannot put one into a group: refused, the store unchanged.
#[test]
fn public_follow_lists_are_the_newest_and_stay_in_their_feed() {
    let mut ann = TestNode::new("ann");
    let mut eve = TestNode::new("eve");
    ann.node.follow(&eve.node.ticket().unwrap()).unwrap();
    let eve_feed = starling_core::space::feed_space_id(&eve.node.identity());
    share(&mut eve.node, &mut ann.node);
    let aid = ann.node.identity();
    let eid = eve.node.identity();
    let other = starling_core::IdentityId([9; 32]);
    // 20 lists, in an order that puts the newest first on the wire: the
    // one that names Ann is the oldest; the newest names Eve and another.
    let mut records = vec![Record::Follows(vec![aid])];
    records.extend((1..19u8).map(|i| Record::Follows(vec![starling_core::IdentityId([i; 32])])));
    records.push(Record::Follows(vec![eid, other]));
    let mut chain = crate::support::forge_chain(&mut eve.node, &eve.home, &eve_feed, &records);
    chain.reverse();
    let r = ann.node.import(&bundle_of(chain.iter())).unwrap();
    assert_eq!(r.accepted, 20, "{r:?}");
    assert_eq!(
        ann.node.store().public_follows_of(&eid).unwrap(),
        vec![other]
    );
    assert!(!ann.node.profile(Some(&eid)).unwrap().follows_you);
    assert!(ann.node.store().check().unwrap().problems.is_empty());
    // In a group Eve belongs to, a follow list is refused.
    refused_in_a_group(
        &mut ann,
        &mut eve,
        &Record::Follows(vec![aid]),
        "public follow list belongs in its identity's feed",
    );
    assert!(!ann.node.profile(Some(&eid)).unwrap().follows_you);
}
