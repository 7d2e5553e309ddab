//! Reading a ticket from a picture: any bytes give a ticket or a clear
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_core::Ticket;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = Ticket::scan(data) {
        assert_eq!(Ticket::decode(&t.encode()).expect("round trip"), t);
    }
});
