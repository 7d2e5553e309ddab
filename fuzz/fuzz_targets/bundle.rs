//! Bundle import: any bytes are parsed and imported into a fresh store
//! without a panic, and the store stays consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_core::Store;

fuzz_target!(|data: &[u8]| {
    let mut s = Store::open_in_memory().expect("in-memory store");
    let _ = s.import_bundle(data);
    let report = s.check().expect("check runs");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
});
