//! Inputs the fuzzers once found trouble with, replayed on every test run.

use std::path::Path;

use starling_core::{Entry, Store, Ticket};

fn each(kind: &str, mut f: impl FnMut(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-crashers")
        .join(kind);
    let mut n = 0;
    for file in std::fs::read_dir(&dir).expect("crasher folder") {
        let bytes = std::fs::read(file.expect("entry").path()).expect("read crasher");
        f(&bytes);
        n += 1;
    }
    assert!(n > 0, "no fixtures in {}", dir.display());
}

#[test]
fn ticket_crashers_are_errors() {
    each("ticket", |b| {
        if let Ok(text) = std::str::from_utf8(b) {
            assert!(Ticket::decode(text).is_err());
        }
    });
}

#[test]
fn bundle_crashers_import_cleanly() {
    each("bundle", |b| {
        let mut s = Store::open_in_memory().expect("store");
        let _ = s.import_bundle(b);
        assert!(s.check().expect("check").problems.is_empty());
        for item in starling_core::bundle::parse(b).unwrap_or_default() {
            if let starling_core::bundle::Item::Entry(e) = item {
                let _ = Entry::decode(e);
            }
        }
    });
}
