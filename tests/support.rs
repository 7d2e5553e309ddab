//! Helpers shared by the test modules.

use starling_core::bundle::BundleWriter;
use starling_core::{Audience, Entry, Node};
use tempfile::TempDir;

/// A node in a fresh temporary home.
pub(crate) struct TestNode {
    pub(crate) node: Node,
    _dir: TempDir,
}

impl TestNode {
    pub(crate) fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let node = Node::init(&dir.path().join(name), name).expect("init");
        Self { node, _dir: dir }
    }
}

/// A bundle holding exactly these entries, in this order.
pub(crate) fn bundle_of<'a>(entries: impl IntoIterator<Item = &'a Entry>) -> Vec<u8> {
    let mut w = BundleWriter::new();
    for e in entries {
        w.entry(&e.encode());
    }
    w.finish()
}

/// A bundle of raw entry records.
pub(crate) fn bundle_of_raw<'a>(records: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut w = BundleWriter::new();
    for r in records {
        w.entry(r);
    }
    w.finish()
}

/// What a store holds, to compare before and after: every entry it would
/// export (with payload presence) and its row counts.
pub(crate) fn fingerprint(node: &mut Node) -> (Vec<u8>, (u64, u64, u64)) {
    let bundle = node
        .export(Audience::Identity(node.identity()))
        .expect("export");
    let counts = node.store().counts().expect("counts");
    (bundle, counts)
}

/// A small deterministic random generator for shuffles (xorshift64*).
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A small PNG whose pixels depend on `seed`.
pub(crate) fn png(seed: u8, side: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([x as u8 ^ seed, y as u8, seed.wrapping_mul(7)])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode png");
    out.into_inner()
}
