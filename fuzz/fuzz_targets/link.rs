//! Device-link messages from a peer: any bytes give a message or an error;
//! a message re-encodes to bytes that decode back to it, and a grant that
//! arrives under the wrong agreement never opens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_core::id::DeviceId;
use starling_core::protocol::link::{Ephemeral, LinkMessage};

fuzz_target!(|data: &[u8]| {
    let Ok(m) = LinkMessage::decode(data) else {
        return;
    };
    assert_eq!(LinkMessage::decode(&m.encode()).expect("round trip"), m);
    match m {
        LinkMessage::Hello { ephemeral, .. } => {
            // Any key a peer sends gives an agreement or a clean refusal.
            let mine = Ephemeral::new([7; 32]);
            let _ = mine.agree(
                &ephemeral,
                (&DeviceId([1; 32]), &mine.public),
                (&DeviceId([2; 32]), &ephemeral),
            );
        }
        LinkMessage::Grant(sealed) => {
            let mine = Ephemeral::new([7; 32]);
            let theirs = Ephemeral::new([8; 32]);
            let a = mine
                .agree(
                    &theirs.public,
                    (&DeviceId([1; 32]), &mine.public),
                    (&DeviceId([2; 32]), &theirs.public),
                )
                .expect("good keys agree");
            // Only what this agreement sealed opens.
            if let Some(plain) = a.open(&sealed) {
                assert!(plain.len() + 40 <= sealed.len());
            }
        }
        _ => {}
    }
});
