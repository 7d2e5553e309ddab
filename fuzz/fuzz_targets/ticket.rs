//! Ticket parsing: any text gives a ticket or an error; a ticket re-encodes
//! to text that parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_core::Ticket;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(t) = Ticket::decode(text) {
            assert_eq!(Ticket::decode(&t.encode()).expect("round trip"), t);
        }
    }
});
