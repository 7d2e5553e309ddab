use super::*;

const SPACE: SpaceId = SpaceId([7; 32]);

/// A device: its id and its ratchet.
struct Dev {
    id: DeviceId,
    r: Ratchet,
}

fn dev(n: u8) -> Dev {
    Dev {
        id: DeviceId([n; 32]),
        r: Ratchet::new(),
    }
}

fn members(of: &[&Dev]) -> BTreeSet<DeviceId> {
    of.iter().map(|d| d.id).collect()
}

/// `to` takes the share `from` made.
fn take(to: &mut Dev, from: &Dev, rk: &RoomKey, now: u64) -> Result<bool> {
    let id = to.id;
    to.r.receive(&SPACE, (from.id, from.r.curve25519()), &id, rk, now)
}

#[test]
fn a_thief_of_both_stores_opens_nothing_read_before_the_theft() {
    let (mut ann, mut bob) = (dev(1), dev(2));
    let (ann_keys, bob_keys) = (ann.r.publish(), bob.r.publish());
    // Everything that crosses the network, as an eavesdropper keeps it.
    let rk = ann.r.start(&SPACE, &[(bob.id, bob_keys)], 0).unwrap();
    let sent: Vec<Ratcheted> = ["one", "two", "three"]
        .iter()
        .map(|t| ann.r.seal(&SPACE, t.as_bytes()).unwrap())
        .collect();
    assert!(take(&mut bob, &ann, &rk, 1).unwrap());
    for (m, want) in sent.iter().zip(["one", "two", "three"]) {
        assert_eq!(bob.r.open(&SPACE, &ann.id, m).unwrap(), want.as_bytes());
    }
    let back = bob.r.start(&SPACE, &[(ann.id, ann_keys)], 2).unwrap();
    let reply = bob.r.seal(&SPACE, b"hi ann").unwrap();
    assert!(take(&mut ann, &bob, &back, 3).unwrap());
    assert_eq!(ann.r.open(&SPACE, &bob.id, &reply).unwrap(), b"hi ann");
    // Within the grace for shared one-time keys, a copy of Bob's state
    // would still open Ann's share (the documented window)...
    let key = SpaceKey::from_bytes([9; 32]);
    let mut early = Ratchet::unseal(&bob.r.seal_state(&key, [3; 24]), &key).unwrap();
    assert!(
        early
            .receive(&SPACE, (ann.id, ann.r.curve25519()), &bob.id, &rk, 4)
            .unwrap()
    );
    // ...then the grace passes, and both devices are stolen: their whole
    // state, and the key it is sealed with.
    let later = 3 + USED_KEY_GRACE_MS;
    assert_eq!(ann.r.forget_used_keys(later), 1);
    assert_eq!(bob.r.forget_used_keys(later), 1);
    let mut thief_ann = Ratchet::unseal(&ann.r.seal_state(&key, [1; 24]), &key).unwrap();
    let mut thief_bob = Ratchet::unseal(&bob.r.seal_state(&key, [2; 24]), &key).unwrap();
    // The shares do not open again, nor do the messages.
    assert!(
        thief_bob
            .receive(&SPACE, (ann.id, ann.r.curve25519()), &bob.id, &rk, later)
            .is_err()
    );
    assert!(
        thief_ann
            .receive(&SPACE, (bob.id, bob.r.curve25519()), &ann.id, &back, later)
            .is_err()
    );
    for m in &sent {
        assert!(thief_bob.open(&SPACE, &ann.id, m).is_err());
    }
    assert!(thief_ann.open(&SPACE, &bob.id, &reply).is_err());
    // Nor does what the senders still hold: their sessions moved on.
    for (thief, m) in [(&thief_ann, &sent[0]), (&thief_bob, &reply)] {
        let mut from_sender = InboundGroupSession::from(&thief.outbound[&SPACE].session);
        let message = MegolmMessage::from_bytes(&m.message).unwrap();
        assert!(from_sender.decrypt(&message).is_err());
    }
}

#[test]
fn a_message_opens_once() {
    let (mut ann, mut bob) = (dev(1), dev(2));
    let bob_keys = bob.r.publish();
    let rk = ann.r.start(&SPACE, &[(bob.id, bob_keys)], 0).unwrap();
    let m = ann.r.seal(&SPACE, b"once").unwrap();
    take(&mut bob, &ann, &rk, 0).unwrap();
    assert_eq!(bob.r.open(&SPACE, &ann.id, &m).unwrap(), b"once");
    assert!(matches!(
        bob.r.open(&SPACE, &ann.id, &m),
        Err(RatchetError::Open(_))
    ));
}

#[test]
fn a_removed_member_opens_nothing_sent_after_the_sender_saw_the_removal() {
    let (mut ann, mut bob, mut cat) = (dev(1), dev(2), dev(3));
    let (bob_keys, cat_keys) = (bob.r.publish(), cat.r.publish());
    let all = members(&[&bob, &cat]);
    assert!(ann.r.needs_session(&SPACE, &all, 0));
    let rk = ann
        .r
        .start(&SPACE, &[(bob.id, bob_keys.clone()), (cat.id, cat_keys)], 0)
        .unwrap();
    assert!(!ann.r.needs_session(&SPACE, &all, 1));
    let before = ann.r.seal(&SPACE, b"before").unwrap();
    for d in [&mut bob, &mut cat] {
        assert!(take(d, &ann, &rk, 1).unwrap());
        assert_eq!(d.r.open(&SPACE, &ann.id, &before).unwrap(), b"before");
    }
    // Ann sees Cat removed: the members changed, so a new session, shared
    // with Bob only.
    let left = members(&[&bob]);
    assert!(ann.r.needs_session(&SPACE, &left, 2));
    let rk2 = ann.r.start(&SPACE, &[(bob.id, bob_keys)], 2).unwrap();
    let after = ann.r.seal(&SPACE, b"after").unwrap();
    assert!(!take(&mut cat, &ann, &rk2, 3).unwrap(), "no share for Cat");
    assert!(matches!(
        cat.r.open(&SPACE, &ann.id, &after),
        Err(RatchetError::NoSession(_))
    ));
    assert!(take(&mut bob, &ann, &rk2, 3).unwrap());
    assert_eq!(bob.r.open(&SPACE, &ann.id, &after).unwrap(), b"after");
}

#[test]
fn two_devices_starting_at_the_same_moment_both_read() {
    let (mut ann, mut bob) = (dev(1), dev(2));
    let (ann_keys, bob_keys) = (ann.r.publish(), bob.r.publish());
    // Apart, each starts a session to the other and writes.
    let from_ann = ann.r.start(&SPACE, &[(bob.id, bob_keys)], 0).unwrap();
    let from_bob = bob.r.start(&SPACE, &[(ann.id, ann_keys)], 0).unwrap();
    let a = ann.r.seal(&SPACE, b"from ann").unwrap();
    let b = bob.r.seal(&SPACE, b"from bob").unwrap();
    // Then they meet.
    assert!(take(&mut bob, &ann, &from_ann, 1).unwrap());
    assert!(take(&mut ann, &bob, &from_bob, 1).unwrap());
    assert_eq!(bob.r.open(&SPACE, &ann.id, &a).unwrap(), b"from ann");
    assert_eq!(ann.r.open(&SPACE, &bob.id, &b).unwrap(), b"from bob");
}

#[test]
fn two_senders_picking_the_same_one_time_key_are_both_read() {
    let (mut ann, mut bob, mut cat) = (dev(1), dev(2), dev(3));
    let mut ann_keys = ann.r.publish();
    // Both see only Ann's first one-time key, and both take it.
    ann_keys.one_time_keys.truncate(1);
    let from_bob = bob
        .r
        .start(&SPACE, &[(ann.id, ann_keys.clone())], 0)
        .unwrap();
    let from_cat = cat
        .r
        .start(&SPACE, &[(ann.id, ann_keys.clone())], 0)
        .unwrap();
    let one_time = |rk: &RoomKey| {
        let (_, kind, bytes) = &rk.shares[0];
        match OlmMessage::from_parts(usize::from(*kind), bytes).unwrap() {
            OlmMessage::PreKey(m) => m.one_time_key().to_bytes(),
            OlmMessage::Normal(_) => panic!("a pre-key message"),
        }
    };
    assert_eq!(one_time(&from_bob), one_time(&from_cat));
    assert_eq!(one_time(&from_bob), ann_keys.one_time_keys[0]);
    let b = bob.r.seal(&SPACE, b"bob").unwrap();
    let c = cat.r.seal(&SPACE, b"cat").unwrap();
    assert!(take(&mut ann, &bob, &from_bob, 1).unwrap());
    assert!(take(&mut ann, &cat, &from_cat, 2).unwrap());
    assert_eq!(ann.r.open(&SPACE, &bob.id, &b).unwrap(), b"bob");
    assert_eq!(ann.r.open(&SPACE, &cat.id, &c).unwrap(), b"cat");
    // Past the grace the key is gone: a third sender's share with it no
    // longer opens.
    ann.r.forget_used_keys(2 + USED_KEY_GRACE_MS);
    let mut dan = dev(4);
    let from_dan = dan.r.start(&SPACE, &[(ann.id, ann_keys)], 0).unwrap();
    assert!(take(&mut ann, &dan, &from_dan, 3 + USED_KEY_GRACE_MS).is_err());
}

#[test]
fn a_sender_uses_each_one_time_key_once_then_the_fallback() {
    let (mut ann, mut bob) = (dev(1), dev(2));
    let mut bob_keys = bob.r.publish();
    bob_keys.one_time_keys.truncate(1);
    let first = ann
        .r
        .start(&SPACE, &[(bob.id, bob_keys.clone())], 0)
        .unwrap();
    let second = ann
        .r
        .start(&SPACE, &[(bob.id, bob_keys.clone())], 1)
        .unwrap();
    assert!(take(&mut bob, &ann, &first, 2).unwrap());
    assert!(
        take(&mut bob, &ann, &second, 2).unwrap(),
        "the fallback key"
    );
    bob_keys.fallback = None;
    assert!(matches!(
        ann.r.start(&SPACE, &[(bob.id, bob_keys)], 3),
        Err(RatchetError::NoKeys(_))
    ));
}

#[test]
fn sessions_move_on_after_many_messages_or_a_week() {
    let (mut ann, mut bob) = (dev(1), dev(2));
    let bob_keys = bob.r.publish();
    let to = members(&[&bob]);
    ann.r.start(&SPACE, &[(bob.id, bob_keys)], 0).unwrap();
    assert!(!ann.r.needs_session(&SPACE, &to, MAX_SESSION_AGE_MS - 1));
    assert!(ann.r.needs_session(&SPACE, &to, MAX_SESSION_AGE_MS));
    for _ in 0..MAX_SESSION_MESSAGES {
        ann.r.seal(&SPACE, b"x").unwrap();
    }
    assert!(ann.r.needs_session(&SPACE, &to, 1));
}

#[test]
fn bad_bytes_and_keys_are_clear_errors() {
    let (mut ann, mut bob) = (dev(1), dev(2));
    let bob_keys = bob.r.publish();
    let mut rk = ann.r.start(&SPACE, &[(bob.id, bob_keys)], 0).unwrap();
    let mut m = ann.r.seal(&SPACE, b"x").unwrap();
    // A share from someone else than its maker does not open.
    let mallory = dev(5);
    assert!(take(&mut bob, &mallory, &rk, 0).is_err());
    rk.shares[0].2.truncate(10);
    assert!(take(&mut bob, &ann, &rk, 0).is_err());
    rk.shares[0].1 = 9;
    assert!(take(&mut bob, &ann, &rk, 0).is_err());
    m.message[5] ^= 1;
    assert!(bob.r.open(&SPACE, &ann.id, &m).is_err());
    assert!(
        bob.r
            .open(
                &SPACE,
                &ann.id,
                &Ratcheted {
                    session: "?".into(),
                    message: vec![]
                }
            )
            .is_err()
    );
    assert!(ann.r.seal(&SpaceId([1; 32]), b"x").is_err());
    let key = SpaceKey::from_bytes([1; 32]);
    let sealed = ann.r.seal_state(&key, [0; 24]);
    assert!(Ratchet::unseal(&sealed, &SpaceKey::from_bytes([2; 32])).is_err());
    assert!(Ratchet::unseal(&sealed[..20], &key).is_err());
    let back = Ratchet::unseal(&sealed, &key).unwrap();
    assert_eq!(back.curve25519(), ann.r.curve25519());
}
