use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;
use crate::crypto::SpaceKey;

/// A test space's auth key (derived from its id; real ones from its key).
fn auth(s: &SpaceId) -> AuthKey {
    AuthKey::of(&SpaceKey::from_bytes(s.0))
}

fn keyed(spaces: &[SpaceId]) -> Vec<(SpaceId, AuthKey)> {
    spaces.iter().map(|s| (*s, auth(s))).collect()
}

const PAIR: Pair = Pair {
    initiator: DeviceId([0xa; 32]),
    responder: DeviceId([0xb; 32]),
};

/// A fake entry: its place, encoded. Its id is the hash of its bytes.
fn fake(space: &SpaceId, device: &DeviceId, seq: u64) -> Vec<u8> {
    postcard::to_allocvec(&(space, device, seq)).unwrap()
}

fn id_of(bytes: &[u8]) -> EntryId {
    EntryId(*blake3::hash(bytes).as_bytes())
}

/// In-memory holdings: per space, per device, the log's entries from seq 1.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Mem {
    logs: BTreeMap<SpaceId, BTreeMap<DeviceId, Vec<Vec<u8>>>>,
    hidden: BTreeSet<SpaceId>,
}

impl Mem {
    fn hold(&mut self, space: u8, device: u8, upto: u64) {
        let (s, d) = (SpaceId([space; 32]), DeviceId([device; 32]));
        let log = self.logs.entry(s).or_default().entry(d).or_default();
        while (log.len() as u64) < upto {
            let seq = log.len() as u64 + 1;
            log.push(fake(&s, &d, seq));
        }
    }

    fn apply(&mut self, space: SpaceId, entries: Vec<Vec<u8>>) {
        for e in entries {
            let (s, d, seq): (SpaceId, DeviceId, u64) = postcard::from_bytes(&e).unwrap();
            assert_eq!(s, space);
            let log = self.logs.entry(s).or_default().entry(d).or_default();
            if seq == log.len() as u64 + 1 {
                log.push(e);
            } else {
                assert!(
                    seq <= log.len() as u64,
                    "gap: got {seq} with {} held",
                    log.len()
                );
            }
        }
    }
}

impl Holdings for Mem {
    fn frontier(&self, space: &SpaceId) -> Option<Frontier> {
        if self.hidden.contains(space) {
            return None;
        }
        let logs = self.logs.get(space)?;
        let mut f = Frontier::default();
        for (d, log) in logs {
            if let Some(last) = log.last() {
                f.insert(*d, log.len() as u64, id_of(last));
            }
        }
        Some(f)
    }

    fn entries_after(
        &self,
        space: &SpaceId,
        device: &DeviceId,
        after: u64,
        limit: usize,
    ) -> Vec<Vec<u8>> {
        self.logs
            .get(space)
            .and_then(|l| l.get(device))
            .map(|log| {
                log.iter()
                    .skip(after as usize)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    fn servable(&self) -> Vec<(SpaceId, AuthKey)> {
        self.logs.keys().map(|s| (*s, auth(s))).collect()
    }
}

#[derive(Debug, Default)]
struct Stats {
    messages: usize,
    bytes: usize,
    round_trips: usize,
}

/// Runs a whole session between `a` (initiator) and `b` over an in-memory
/// pipe, applying what each receives, as peers meeting for the first time.
fn run(a: &mut Mem, b: &mut Mem, spaces: &[SpaceId]) -> Result<Stats, SyncError> {
    run_remembering(
        a,
        b,
        spaces,
        &mut Remembering {
            asked: None,
            named: None,
        },
    )
}

#[test]
fn in_sync_spaces_cost_one_round_trip() {
    let mut a = Mem::default();
    for s in 0..50u8 {
        for d in 0..3u8 {
            a.hold(s, d, 100 + u64::from(d));
        }
    }
    let mut b = a.clone();
    let spaces: Vec<SpaceId> = (0..50u8).map(|s| SpaceId([s; 32])).collect();
    let stats = run(&mut a, &mut b, &spaces).unwrap();
    assert_eq!(stats.messages, 2, "Hello and Reply only");
    assert_eq!(stats.round_trips, 1);
    // 50 spaces: a handle and digest out, a one-byte answer back.
    assert!(
        stats.bytes < 50 * (16 + 16 + 1) + 16,
        "{} bytes",
        stats.bytes
    );
    assert_eq!(a, b);
}

#[test]
fn both_sides_get_what_they_lack() {
    let mut a = Mem::default();
    let mut b = Mem::default();
    a.hold(1, 1, 700);
    b.hold(1, 1, 20);
    b.hold(1, 2, 30);
    a.hold(2, 1, 5);
    b.hold(2, 1, 5);
    let spaces = [SpaceId([1; 32]), SpaceId([2; 32])];
    let stats = run(&mut a, &mut b, &spaces).unwrap();
    assert_eq!(a, b);
    assert_eq!(stats.round_trips, 2);
    // Entries are sent in batches, not one message each.
    assert!(stats.messages < 10, "{}", stats.messages);
}

#[test]
fn unserved_spaces_stay_private() {
    let mut a = Mem::default();
    let mut b = Mem::default();
    a.hold(1, 1, 3);
    b.hold(1, 1, 9);
    b.hold(7, 1, 4); // never named: never mentioned
    b.hidden.insert(SpaceId([1; 32]));
    let (mut sa, hello) =
        Session::initiate(&a, PAIR, &keyed(&[SpaceId([1; 32])]), Limits::default());
    let mut sb = Session::respond(PAIR, Limits::default());
    let step = sb.handle(hello, &b).unwrap();
    assert_eq!(
        step.send,
        vec![Message::Reply {
            answers: vec![Answer::NotServed]
        }]
    );
    assert!(step.finished);
    let reply = step.send.into_iter().next().unwrap();
    let step = sa.handle(reply, &a).unwrap();
    assert!(step.finished && step.send.is_empty() && step.outbox.is_empty());
}

#[test]
fn a_handle_means_nothing_without_the_key_or_in_another_pair() {
    let mut a = Mem::default();
    let mut b = Mem::default();
    a.hold(1, 1, 3);
    b.hold(1, 1, 9);
    let s1 = SpaceId([1; 32]);
    // Named with the wrong key: not recognised, nothing learned.
    let wrong = vec![(s1, AuthKey::of(&SpaceKey::from_bytes([0; 32])))];
    let (_, hello) = Session::initiate(&a, PAIR, &wrong, Limits::default());
    let mut sb = Session::respond(PAIR, Limits::default());
    let step = sb.handle(hello, &b).unwrap();
    assert_eq!(
        step.send,
        vec![Message::Reply {
            answers: vec![Answer::NotServed]
        }]
    );
    assert!(matches!(step.remember, Some(Remember::Named(n)) if n.spaces.is_empty()));
    // A Hello made for another responder, replayed: not recognised either.
    let other = Pair {
        initiator: PAIR.initiator,
        responder: DeviceId([0xc; 32]),
    };
    let (_, hello) = Session::initiate(&a, other, &keyed(&[s1]), Limits::default());
    let mut sb = Session::respond(PAIR, Limits::default());
    let step = sb.handle(hello, &b).unwrap();
    assert_eq!(
        step.send,
        vec![Message::Reply {
            answers: vec![Answer::NotServed]
        }]
    );
    // The right key and pair: recognised.
    let (_, hello) = Session::initiate(&a, PAIR, &keyed(&[s1]), Limits::default());
    let mut sb = Session::respond(PAIR, Limits::default());
    let step = sb.handle(hello, &b).unwrap();
    assert!(
        matches!(&step.send[0], Message::Reply { answers } if matches!(answers[0], Answer::Differs(_)))
    );
}

#[test]
fn protocol_violations_are_errors() {
    let a = Mem::default();
    let mut sb = Session::respond(PAIR, Limits::default());
    let err = sb.handle(Message::Done, &a).unwrap_err();
    assert!(matches!(err, SyncError::Unexpected { got: "Done", .. }));
    // More answers than spaces named.
    let (mut sa, _) = Session::initiate(&a, PAIR, &keyed(&[SpaceId([1; 32])]), Limits::default());
    let err = sa
        .handle(
            Message::Reply {
                answers: vec![Answer::InSync, Answer::InSync],
            },
            &a,
        )
        .unwrap_err();
    assert!(matches!(err, SyncError::TooManyAnswers { .. }));
    assert!(Message::decode(&[0xff, 0xff, 0xff]).is_err());
    // Too many spaces.
    let spaces: Vec<(Handle, [u8; DIGEST_LEN])> = (0..=MAX_SPACES as u32)
        .map(|i| {
            let mut h = [0u8; crate::space::HANDLE_LEN];
            h[..4].copy_from_slice(&i.to_le_bytes());
            (Handle(h), [0; DIGEST_LEN])
        })
        .collect();
    let mut sb = Session::respond(PAIR, Limits::default());
    assert!(matches!(
        sb.handle(Message::Hello { spaces }, &a),
        Err(SyncError::TooManySpaces(_))
    ));
    // A Have for a space that was not answered as differing.
    let mut b = Mem::default();
    b.hold(1, 1, 2);
    let mut a2 = Mem::default();
    a2.hold(1, 1, 1);
    let (_, hello) = Session::initiate(&a2, PAIR, &keyed(&[SpaceId([1; 32])]), Limits::default());
    let mut sb = Session::respond(PAIR, Limits::default());
    sb.handle(hello, &b).unwrap();
    let err = sb
        .handle(
            Message::Have {
                spaces: vec![(SpaceId([2; 32]), Frontier::default())],
            },
            &b,
        )
        .unwrap_err();
    assert!(matches!(err, SyncError::UnaskedSpace(_)));
}

#[test]
fn many_large_frontiers_go_in_bounded_messages() {
    let mut a = Mem::default();
    let mut b = Mem::default();
    // 40 spaces, each with 1,000 logs that differ: ~3 MB of frontiers.
    for s in 0..40u8 {
        for d in 0..1000u32 {
            let dev = DeviceId(*blake3::hash(&d.to_le_bytes()).as_bytes());
            let space = SpaceId([s; 32]);
            let log = a.logs.entry(space).or_default().entry(dev).or_default();
            log.push(fake(&space, &dev, 1));
            b.logs.entry(space).or_default();
        }
    }
    let spaces: Vec<SpaceId> = (0..40u8).map(|s| SpaceId([s; 32])).collect();
    let (mut sa, hello) = Session::initiate(&b, PAIR, &keyed(&spaces), Limits::default());
    let mut sr = Session::respond(PAIR, Limits::default());
    let step = sr.handle(hello, &a).unwrap();
    assert!(step.send.len() > 1, "answers split over several replies");
    let mut received = 0;
    for m in step.send {
        assert!(m.encode().len() < 2 * MESSAGE_BYTES);
        let st = sa.handle(m, &b).unwrap();
        for m in &st.send {
            assert!(m.encode().len() < 2 * MESSAGE_BYTES);
        }
        received += 1;
    }
    assert!(received > 1);
}

#[test]
fn an_endless_stream_hits_the_limit() {
    let mut a = Mem::default();
    a.hold(1, 1, 1);
    let mut b = Mem::default();
    b.hold(1, 1, 2);
    let limits = Limits {
        max_entries: 10,
        max_bytes: 1 << 20,
    };
    let (mut sa, hello) = Session::initiate(&a, PAIR, &keyed(&[SpaceId([1; 32])]), limits);
    let mut sb = Session::respond(PAIR, Limits::default());
    let reply = sb.handle(hello, &b).unwrap().send.remove(0);
    sa.handle(reply, &a).unwrap();
    let flood = Message::Entries {
        space: SpaceId([1; 32]),
        entries: vec![vec![0u8; 10]; 11],
    };
    assert!(matches!(
        sa.handle(flood, &a),
        Err(SyncError::LimitExceeded {
            what: "entries",
            ..
        })
    ));
}

proptest! {
    /// Any two holdings that are prefixes of the same logs converge to
    /// their union in one session, and a second session finds them in sync.
    #[test]
    fn sessions_converge(
        a_logs in proptest::collection::vec((0u8..4, 0u8..4, 0u64..40), 0..12),
        b_logs in proptest::collection::vec((0u8..4, 0u8..4, 0u64..40), 0..12),
    ) {
        let mut a = Mem::default();
        let mut b = Mem::default();
        for (s, d, n) in &a_logs { a.hold(*s, *d, *n); }
        for (s, d, n) in &b_logs { b.hold(*s, *d, *n); }
        let mut union = a.clone();
        for (s, d, n) in &b_logs { union.hold(*s, *d, *n); }
        let spaces: Vec<SpaceId> = (0..4u8).map(|s| SpaceId([s; 32])).collect();
        run(&mut a, &mut b, &spaces).unwrap();
        // Spaces neither side holds stay absent; held ones converge.
        let norm = |m: &Mem| -> BTreeMap<SpaceId, BTreeMap<DeviceId, Vec<Vec<u8>>>> {
            m.logs.iter().map(|(s, l)| (*s, l.iter().filter(|(_, v)| !v.is_empty()).map(|(d, v)| (*d, v.clone())).collect())).collect()
        };
        let shared: BTreeSet<SpaceId> = a_logs.iter().map(|x| SpaceId([x.0; 32])).filter(|s| b_logs.iter().any(|y| SpaceId([y.0; 32]) == *s)).collect();
        let (na, nb, nu) = (norm(&a), norm(&b), norm(&union));
        for s in &shared {
            prop_assert_eq!(na.get(s), nu.get(s));
            prop_assert_eq!(nb.get(s), nu.get(s));
        }
        let again = run(&mut a, &mut b, &spaces).unwrap();
        prop_assert_eq!(again.round_trips, 1);
    }
}

/// Runs sessions that remember each other, like two stores would.
struct Remembering {
    asked: Option<Asked>,
    named: Option<Named>,
}

/// Runs a whole session over an in-memory pipe (every message goes through
/// its wire encoding), applying what each side receives and keeping what
/// each side would remember of the other. Bounded.
fn run_remembering(
    a: &mut Mem,
    b: &mut Mem,
    spaces: &[SpaceId],
    mem: &mut Remembering,
) -> Result<Stats, SyncError> {
    let mut stats = Stats::default();
    let (mut sa, first) = Session::initiate_with(
        a,
        PAIR,
        &keyed(spaces),
        Limits::default(),
        mem.asked.as_ref(),
    );
    let mut sb = Session::respond_with(PAIR, Limits::default(), mem.named.clone());
    let mut to_b = vec![first];
    let mut to_a: Vec<Message> = Vec::new();
    for _ in 0..1000 {
        if to_b.is_empty() && to_a.is_empty() {
            break;
        }
        if !to_b.is_empty() {
            stats.round_trips += 1;
        }
        for m in std::mem::take(&mut to_b) {
            stats.messages += 1;
            stats.bytes += m.encode().len();
            let step = sb.handle(Message::decode(&m.encode())?, b)?;
            if let Some(Remember::Named(n)) = step.remember {
                mem.named = Some(n);
            }
            for (s, es) in step.received {
                b.apply(s, es);
            }
            to_a.extend(step.send);
            let mut outbox = step.outbox;
            to_a.extend(outbox.drain(b));
        }
        for m in std::mem::take(&mut to_a) {
            stats.messages += 1;
            stats.bytes += m.encode().len();
            let step = sa.handle(Message::decode(&m.encode())?, a)?;
            if let Some(Remember::Asked(x)) = step.remember {
                mem.asked = Some(x);
            }
            for (s, es) in step.received {
                a.apply(s, es);
            }
            to_b.extend(step.send);
            let mut outbox = step.outbox;
            to_b.extend(outbox.drain(a));
        }
    }
    assert!(sa.is_finished(), "initiator not finished");
    assert!(sb.is_finished(), "responder not finished");
    Ok(stats)
}

#[test]
fn peers_that_met_before_settle_in_sync_with_one_summary() {
    let mut a = Mem::default();
    for s in 0..200u8 {
        a.hold(s, 1, 10);
    }
    let mut b = a.clone();
    b.hidden.insert(SpaceId([7; 32])); // one space b does not serve
    let spaces: Vec<SpaceId> = (0..200u8).map(|s| SpaceId([s; 32])).collect();
    let mut mem = Remembering {
        asked: None,
        named: None,
    };
    let first = run_remembering(&mut a, &mut b, &spaces, &mut mem).unwrap();
    assert!(first.bytes > 200 * 32, "first meeting names every space");
    // Second meeting, nothing changed: a summary and one answer.
    let second = run_remembering(&mut a, &mut b, &spaces, &mut mem).unwrap();
    assert_eq!((second.messages, second.round_trips), (2, 1));
    assert!(second.bytes < 64, "{} bytes", second.bytes);
    // A new entry on one side: the summary no longer matches and the full
    // exchange brings it over.
    b.hold(3, 1, 11);
    let third = run_remembering(&mut a, &mut b, &spaces, &mut mem).unwrap();
    assert!(third.round_trips >= 2);
    assert_eq!(a.frontier(&SpaceId([3; 32])), b.frontier(&SpaceId([3; 32])));
    // b starts serving the hidden space: caught by the summary too.
    b.hidden.clear();
    b.hold(7, 2, 4);
    run_remembering(&mut a, &mut b, &spaces, &mut mem).unwrap();
    assert_eq!(a.frontier(&SpaceId([7; 32])), b.frontier(&SpaceId([7; 32])));
    // A new space wanted: the list differs, so the full Hello goes out.
    let mut more = spaces.clone();
    more.push(SpaceId([250; 32]));
    let s = run_remembering(&mut a, &mut b, &more, &mut mem).unwrap();
    assert!(s.bytes > 200 * 32);
    let again = run_remembering(&mut a, &mut b, &more, &mut mem).unwrap();
    assert_eq!(again.messages, 2);
}

#[test]
fn the_outbox_stops_at_the_frontier_it_told_even_if_the_log_grows() {
    let mut a = Mem::default();
    a.hold(1, 1, 5000);
    let b = Mem::default();
    let (s, d) = (SpaceId([1; 32]), DeviceId([1; 32]));
    let mine = a.frontier(&s).unwrap();
    let mut outbox = Outbox::default();
    outbox.owe(s, &mine, &Frontier::default());
    let first = outbox.next_message(&a).unwrap();
    // The log grows while the entries are being sent.
    a.hold(1, 1, 9000);
    let mut sent = vec![first];
    sent.extend(outbox.drain(&a));
    assert!(outbox.is_empty());
    let mut got = b.clone();
    for m in sent {
        let Message::Entries { space, entries } = m else {
            panic!("only entries were owed");
        };
        assert!(entries.iter().map(Vec::len).sum::<usize>() <= MESSAGE_BYTES);
        got.apply(space, entries);
    }
    assert_eq!(got.logs[&s][&d].len(), 5000);
}
