//! The identity key stays home: a linked phone holds its own key and a
//! certificate, not the identity's secret. What its files alone can do
//! before and after it is revoked, and how it still reads the
//! conversations and groups its trusted device opens.

use starling_core::identity::RevocationProof;
use starling_core::node::secrets::{Secret, read};
use starling_core::record::Record;
use starling_core::space::{account_space_id, feed_space_id};
use starling_core::{DeviceCert, DeviceKey, Entry, NodeError};

use crate::net::{Running, bounded, post, ticket};
use crate::support::{bundle_of, contains, device_key, forge, group_texts};

/// Every byte of every file under `dir`.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

/// Ann's laptop links her phone (not trusted); Bob follows Ann. The phone
/// posts as Ann, but its files hold no identity secret. A hostile phone
/// cannot revoke the laptop nor certify a device. Once the laptop revokes
/// it, nothing the phone's files can make is accepted by Bob, and the
/// phone reads no account change made afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_alone_writes_nothing_accepted_and_reads_nothing_new() {
    let laptop = Running::new("ann");
    let phone = laptop.link_new("ann-phone").await;
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    bob.with(|n| n.follow(&ticket(&laptop))).unwrap();
    let me = laptop.with(|n| n.identity());
    let (feed, account) = (feed_space_id(&me), account_space_id(&me));
    let (phone_dev, laptop_dev) = (phone.with(|n| n.device()), laptop.with(|n| n.device()));

    // The phone holds no identity secret, in any form, in any file.
    let secret = read(&laptop.home, Secret::Identity).unwrap().unwrap();
    assert!(read(&phone.home, Secret::Identity).unwrap().is_none());
    let files = all_bytes(&phone.home);
    assert!(!contains(&files, &secret));
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!contains(&files, hex.as_bytes()));
    assert!(!phone.with(|n| n.holds_identity_key()));
    assert!(matches!(
        phone.with(|n| n.phrase()),
        Err(NodeError::NotTrusted)
    ));
    assert!(matches!(
        phone.with(|n| n.link_grant(&starling_core::DeviceId([9; 32]), false)),
        Err(NodeError::NotTrusted)
    ));
    assert!(matches!(
        phone.with(|n| n.device_revoke(&laptop_dev)),
        Err(NodeError::NotTrusted)
    ));

    let pl = laptop.start_catch_up_only().await;
    let pp = phone.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    // It posts as Ann, and Bob takes it.
    post(&phone, "from the phone");
    bounded(pb.sync_with(&pp.addr())).await.unwrap();
    assert_eq!(bob.texts(), ["from the phone"]);

    // A hostile phone (still certified) revokes the laptop with a proof
    // signed by its own key, and certifies a device of its own making.
    let forged_heads = vec![(feed, 1)];
    // (What the phone can sign: with its own key, not the identity's.)
    let proof_by_device = RevocationProof::sign(
        &starling_core::IdentityKey::from_secret_bytes(device_key(&phone.home).secret_bytes()),
        &laptop_dev,
        &forged_heads,
    );
    let fake_revocation = phone.with(|n| {
        forge(
            n,
            &phone.home,
            &feed,
            &Record::Revocation {
                device: laptop_dev,
                heads: forged_heads.clone(),
                proof: Some(proof_by_device),
            },
        )
    });
    let sidekick = DeviceKey::from_secret_bytes([42; 32]);
    let sidekick_cert = DeviceCert {
        identity: me,
        device: sidekick.id(),
        issued_at: starling_core::node::now_ms(),
        // What the phone can sign: with its own key.
        signature: [0; 64],
    };
    let sidekick_entry = Entry::create(
        &sidekick,
        feed,
        1,
        None,
        starling_core::node::now_ms(),
        0,
        &laptop
            .with(|n| n.store().space_key(&feed, 0))
            .unwrap()
            .unwrap(),
        [1; 24],
        &Record::DeviceCert(sidekick_cert).encode(),
    );
    let bob_before = bob.with(|n| n.store().served_frontier(&feed)).unwrap();
    let r = bob
        .with(|n| n.import(&bundle_of([&fake_revocation, &sidekick_entry])))
        .unwrap();
    assert_eq!(r.accepted, 0, "{r:?}");
    assert!(!bob.with(|n| n.store().is_revoked(&laptop_dev)).unwrap());
    assert_eq!(
        bob.with(|n| n.store().served_frontier(&feed)).unwrap(),
        bob_before
    );

    // The laptop (which saw the phone's post) revokes the phone; Bob
    // hears of it.
    bounded(pl.sync_with(&pp.addr())).await.unwrap();
    laptop.with(|n| n.device_revoke(&phone_dev)).unwrap();
    bounded(pb.sync_with(&pl.addr())).await.unwrap();
    assert!(bob.with(|n| n.store().is_revoked(&phone_dev)).unwrap());
    // Whatever the phone writes now, with its own key, is refused: a post
    // through the node, and a forged entry past its last accepted one.
    post(&phone, "posted by a thief");
    let r = bounded(pb.sync_with(&pp.addr())).await.unwrap();
    assert_eq!(r.import.accepted, 0, "{r:?}");
    let late = phone.with(|n| {
        forge(
            n,
            &phone.home,
            &feed,
            &Record::Post(starling_core::record::Post {
                text: "forged after the revocation".into(),
                reply_to: None,
                quote_of: None,
                images: vec![],
            }),
        )
    });
    let r = bob.with(|n| n.import(&bundle_of([&late]))).unwrap();
    assert_eq!(r.accepted, 0, "{r:?}");
    assert_eq!(bob.texts(), ["from the phone"]);

    // The laptop follows Cat after the revocation. The phone syncs with the
    // laptop and receives the account's new entries, but they are sealed
    // with a key it was never given.
    laptop.with(|n| n.follow(&ticket(&cat))).unwrap();
    let cat_id = cat.with(|n| n.identity());
    let _ = bounded(pp.sync_with(&pl.addr())).await;
    let phone_account = phone.with(|n| n.store().doc(&account)).unwrap().account();
    assert!(!phone_account.follows.iter().any(|(who, _)| *who == cat_id));
    let laptop_epoch = laptop
        .with(|n| n.store().space_keys(&account))
        .unwrap()
        .last()
        .map(|(e, _)| *e);
    assert_eq!(
        laptop_epoch,
        Some(1),
        "the revocation moved the account key"
    );
    let phone_epochs: Vec<u32> = phone
        .with(|n| n.store().space_keys(&account))
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(phone_epochs, [0], "the phone holds no key of the new epoch");
    // (It holds the laptop's account entries, sealed: it just cannot open
    // them.)
    let head = |r: &Running| {
        r.with(|n| n.store().log_head(&account, &laptop_dev))
            .unwrap()
    };
    assert_eq!(head(&phone).map(|h| h.seq), head(&laptop).map(|h| h.seq));
    let laptop_account = laptop.with(|n| n.store().doc(&account)).unwrap().account();
    assert!(laptop_account.follows.iter().any(|(who, _)| *who == cat_id));
    for p in [pl, pp, pb] {
        p.shutdown().await;
    }
}

/// A phone without the identity key reads the conversations and groups
/// that Ann's laptop opens (their keys travel in the account space), and
/// keeps reading the account after another device's revocation, which
/// wraps the account's new key for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_without_the_identity_key_reads_what_the_laptop_opens() {
    let laptop = Running::new("ann");
    let phone = laptop.link_new("ann-phone").await;
    let tablet = laptop.link_new("ann-tablet").await;
    let bob = Running::new("bob");
    let ann_id = laptop.with(|n| n.identity());
    let bob_id = bob.with(|n| n.identity());
    // Ann follows Bob on the laptop; Bob follows Ann and writes to her.
    laptop.with(|n| n.follow(&ticket(&bob))).unwrap();
    bob.with(|n| n.follow(&ticket(&laptop))).unwrap();
    bob.with(|n| n.dm(&ann_id, "hello ann")).unwrap();
    let group = laptop.with(|n| n.group_create("roost", None)).unwrap();
    let tg = laptop.with(|n| n.group_invite(&group, 600_000)).unwrap();
    bob.with(|n| n.group_join(&tg)).unwrap();
    let pl = laptop.start_catch_up_only().await;
    let pp = phone.start_catch_up_only().await;
    let pt = tablet.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    for _ in 0..3 {
        bounded(pp.sync_with(&pl.addr())).await.unwrap();
        bounded(pp.sync_with(&pb.addr())).await.unwrap();
    }
    // The laptop writes in the group once it knows the phone's keys (a
    // sender shares its session with the devices it knows).
    crate::groups::group_post(&laptop, group, "x");
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    // The conversation with Bob, opened on the laptop, reads on the phone.
    let page = phone.with(|n| n.dm_show(&bob_id, 10, None)).unwrap();
    let texts: Vec<_> = page.posts.iter().map(|p| p.text.clone()).collect();
    assert_eq!(texts, ["hello ann"]);
    // The phone answers in it, and Bob reads the answer.
    phone
        .with(|n| n.dm(&bob_id, "hi bob, from my phone"))
        .unwrap();
    bounded(pb.sync_with(&pp.addr())).await.unwrap();
    let page = bob.with(|n| n.dm_show(&ann_id, 10, None)).unwrap();
    assert_eq!(page.posts[0].text, "hi bob, from my phone");
    // The group too.
    assert_eq!(phone.with(|n| group_texts(n, &group)), ["x"]);

    // The laptop revokes the tablet: the account moves to a key wrapped
    // for the laptop and the phone. The phone reads a later follow.
    let tablet_dev = tablet.with(|n| n.device());
    bounded(pl.sync_with(&pt.addr())).await.unwrap();
    laptop.with(|n| n.device_revoke(&tablet_dev)).unwrap();
    let carol = Running::new("carol");
    laptop.with(|n| n.follow(&ticket(&carol))).unwrap();
    let carol_id = carol.with(|n| n.identity());
    bounded(pp.sync_with(&pl.addr())).await.unwrap();
    let account = account_space_id(&ann_id);
    let follows = phone
        .with(|n| n.store().doc(&account))
        .unwrap()
        .account()
        .follows;
    assert!(follows.iter().any(|(who, _)| *who == carol_id));
    bounded(pt.sync_with(&pl.addr())).await.ok();
    let follows = tablet
        .with(|n| n.store().doc(&account))
        .unwrap()
        .account()
        .follows;
    assert!(!follows.iter().any(|(who, _)| *who == carol_id));
    for p in [pl, pp, pt, pb] {
        p.shutdown().await;
    }
}
