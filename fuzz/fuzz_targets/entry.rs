//! Entry decoding: any bytes give an entry or an error, never a panic; a
//! decoded entry re-encodes to the same bytes and its checks do not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_core::record::Record;
use starling_core::{Entry, SpaceKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(e) = Entry::decode(data) {
        assert_eq!(e.encode(), data, "decode is canonical");
        let _ = e.verify_signature();
        if let Ok(plain) = e.open(&SpaceKey::from_bytes([7; 32])) {
            let _ = Record::decode(&plain);
        }
    }
    let _ = Record::decode(data);
});
