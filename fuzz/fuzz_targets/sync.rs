//! A sync session fed arbitrary messages: the state machine, the store it
//! serves from and the store it imports into never panic, whatever a peer
//! sends, in whatever order.
//!
//! Input: one flags byte (bit 0: this side initiated; bit 1: a genuine
//! Hello naming the followed feed comes first), then frames of
//! `u16 LE length ‖ bytes`, each decoded as a sync message and handled;
//! entries the session accepts are imported into the store.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use starling_core::space::AuthKey;
use starling_core::protocol::catchup::{Limits, Message, Pair, Session};
use starling_core::synth::SynthAuthor;
use starling_core::{DeviceId, Entry, Store, Ticket};

struct World {
    store: Store,
    feed: starling_core::SpaceId,
    auth: AuthKey,
}

fn world() -> World {
    let mut store = Store::open_in_memory().expect("in-memory store");
    let mut author = SynthAuthor::new(1);
    let Ticket::Feed(t) = author.ticket() else {
        unreachable!("a synthetic author has a feed ticket")
    };
    store
        .add_space(
            &t.space(),
            starling_core::space::SpaceKind::Feed,
            &t.identity,
            &t.space_key(),
        )
        .expect("follow");
    let mut es = vec![author.cert(1)];
    for i in 0..5 {
        es.push(author.post(&format!("post {i}"), None, 2 + i));
    }
    store.import_entries(es).expect("import");
    World {
        store,
        feed: t.space(),
        auth: AuthKey::of(&t.space_key()),
    }
}

thread_local! {
    static WORLD: RefCell<World> = RefCell::new(world());
}

const PAIR: Pair = Pair {
    initiator: DeviceId([0xa; 32]),
    responder: DeviceId([0xb; 32]),
};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    WORLD.with(|w| {
        let w = &mut *w.borrow_mut();
        let initiator = flags & 1 == 1;
        let me = if initiator {
            PAIR.initiator
        } else {
            PAIR.responder
        };
        let peer = if initiator {
            PAIR.responder
        } else {
            PAIR.initiator
        };
        let mut session = if initiator {
            let served = w.store.served_to(peer);
            Session::initiate(
                &served,
                PAIR,
                &[(w.feed, w.auth.clone())],
                Limits::default(),
            )
            .0
        } else {
            Session::respond(PAIR, Limits::default())
        };
        let _ = me;
        let mut messages = Vec::new();
        if !initiator && flags & 2 == 2 {
            messages.push(Message::Hello {
                spaces: vec![(w.auth.handle(&PAIR.initiator, &PAIR.responder, &w.feed), [0; 16])],
            });
        }
        while rest.len() >= 2 {
            let len = u16::from_le_bytes([rest[0], rest[1]]) as usize;
            rest = &rest[2..];
            let take = len.min(rest.len());
            if let Ok(m) = Message::decode(&rest[..take]) {
                messages.push(m);
            }
            rest = &rest[take..];
        }
        for m in messages {
            let step = {
                let served = w.store.served_to(peer);
                match session.handle(m, &served) {
                    Ok(step) => step,
                    Err(_) => return,
                }
            };
            let mut outbox = step.outbox;
            let served = w.store.served_to(peer);
            let _ = outbox.drain(&served);
            let entries: Vec<Entry> = step
                .received
                .into_iter()
                .flat_map(|(space, es)| {
                    es.into_iter()
                        .filter_map(|b| Entry::decode(&b).ok())
                        .filter(move |e| e.header().space == space)
                })
                .collect();
            if !entries.is_empty() {
                w.store.import_entries(entries).expect("import never fails on bad entries");
            }
            if session.is_finished() {
                return;
            }
        }
    });
});
