//! Writes seed inputs for the `sync` fuzz target (`fuzz/fuzz_targets/sync.rs`):
//! sessions that go somewhere, for the fuzzer to mutate.
//!
//! Run: `cargo run -p starling-core --features test-utils --example sync_seeds -- fuzz/seeds/sync`

use starling_core::protocol::catchup::{Answer, Frontier, Message};
use starling_core::space::AuthKey;
use starling_core::synth::SynthAuthor;
use starling_core::{DeviceId, Ticket};

/// One frame of the fuzz input: `u16 LE length ‖ message`.
fn frame(out: &mut Vec<u8>, m: &Message) {
    let b = m.encode();
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(&b);
}

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/seeds/sync".into());
    std::fs::create_dir_all(&dir)?;
    // The fuzz target's world: author 1 with a certificate and 5 posts.
    let mut author = SynthAuthor::new(1);
    let Ticket::Feed(t) = author.ticket() else {
        unreachable!("a synthetic author has a feed ticket")
    };
    let feed = t.space();
    // Written only to move the author's log on to where the world's ends.
    let _ = author.cert(1);
    for i in 0..5 {
        let _ = author.post(&format!("post {i}"), None, 2 + i);
    }
    let more: Vec<Vec<u8>> = (0..4)
        .map(|i| author.post(&format!("new {i}"), None, 20 + i).encode())
        .collect();
    let (initiator, responder) = (DeviceId([0xa; 32]), DeviceId([0xb; 32]));
    let handle = AuthKey::of(&t.space_key()).handle(&initiator, &responder, &feed);

    // Responder, a genuine Hello first (flag 2): the peer sends its
    // frontier and entries the store lacks.
    let mut s = vec![2u8];
    frame(
        &mut s,
        &Message::Have {
            spaces: vec![(feed, Frontier::default())],
        },
    );
    frame(
        &mut s,
        &Message::Entries {
            space: feed,
            entries: more.clone(),
        },
    );
    frame(&mut s, &Message::Done);
    std::fs::write(format!("{dir}/responder-entries"), &s)?;

    // Responder, the Hello in the input.
    let mut s = vec![0u8];
    frame(
        &mut s,
        &Message::Hello {
            spaces: vec![(handle, [0; 16])],
        },
    );
    frame(
        &mut s,
        &Message::Summary {
            list: [0; 16],
            state: [0; 16],
        },
    );
    std::fs::write(format!("{dir}/responder-hello"), &s)?;

    // Initiator: the peer answers that it differs and sends entries.
    let mut peer = Frontier::default();
    peer.insert(author.device_key().id(), 9, starling_core::EntryId([1; 32]));
    let mut s = vec![1u8];
    frame(
        &mut s,
        &Message::Reply {
            answers: vec![Answer::Differs(peer)],
        },
    );
    frame(
        &mut s,
        &Message::Entries {
            space: feed,
            entries: more,
        },
    );
    frame(&mut s, &Message::Done);
    std::fs::write(format!("{dir}/initiator-reply"), &s)?;
    println!("wrote 3 seeds to {dir}");
    Ok(())
}
