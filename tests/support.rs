//! Helpers shared by the test modules.

use starling_core::bundle::BundleWriter;
use starling_core::{Audience, Entry, Node};
use tempfile::TempDir;

/// A node in a fresh temporary home.
pub(crate) struct TestNode {
    pub(crate) node: Node,
    pub(crate) home: std::path::PathBuf,
    _dir: TempDir,
}

impl TestNode {
    pub(crate) fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join(name);
        let node = Node::init(&home, name).expect("init");
        Self {
            node,
            home,
            _dir: dir,
        }
    }

    /// Closes the node; its home stays until the returned folder drops.
    pub(crate) fn close(self) -> (std::path::PathBuf, TempDir) {
        drop(self.node);
        (self.home, self._dir)
    }
}

/// The device key kept in a home (what someone holding the device's files
/// could sign with).
pub(crate) fn device_key(home: &std::path::Path) -> starling_core::DeviceKey {
    use starling_core::node::secrets::{Secret, read};
    let bytes = read(home, Secret::Device)
        .expect("readable")
        .expect("a device key");
    starling_core::DeviceKey::from_secret_bytes(bytes)
}

/// The next entries of `node`'s own log in `space`, one per record,
/// chained one after the other (see [`forge`]). Not stored.
pub(crate) fn forge_chain(
    node: &mut Node,
    home: &std::path::Path,
    space: &starling_core::SpaceId,
    records: &[starling_core::record::Record],
) -> Vec<Entry> {
    let key = device_key(home);
    let head = node.store().log_head(space, &key.id()).expect("log head");
    let (epoch, sealing) = node
        .store()
        .sealing_key(space)
        .expect("key")
        .expect("a key for the space");
    let (mut seq, mut previous, mut ts) = match head {
        Some(h) => (h.seq, Some(h.id), h.timestamp),
        None => (0, None, starling_core::node::now_ms()),
    };
    let mut out = Vec::new();
    for r in records {
        seq += 1;
        ts += 1;
        let e = Entry::create(
            &key,
            *space,
            seq,
            previous,
            ts,
            epoch,
            &sealing,
            [seq as u8; 24],
            &r.encode(),
        );
        previous = Some(e.id());
        out.push(e);
    }
    out
}

/// The next entry of `node`'s own log in `space`, holding `record`, signed
/// with the device key in `home` and sealed with the key new entries use:
/// what the device could write, whatever the rules say. Not stored.
pub(crate) fn forge(
    node: &mut Node,
    home: &std::path::Path,
    space: &starling_core::SpaceId,
    record: &starling_core::record::Record,
) -> Entry {
    forge_chain(node, home, space, std::slice::from_ref(record))
        .pop()
        .expect("one entry")
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

/// The texts of a node's home timeline, newest first.
pub(crate) fn texts(node: &mut Node) -> Vec<String> {
    texts_of(node.timeline(100, None).unwrap())
}

/// The texts of a group's timeline, newest first.
pub(crate) fn group_texts(node: &mut Node, group: &starling_core::SpaceId) -> Vec<String> {
    texts_of(node.group_timeline(group, 100, None).unwrap())
}

fn texts_of(page: starling_core::Page) -> Vec<String> {
    page.posts.into_iter().map(|p| p.text).collect()
}

/// An iroh endpoint on 127.0.0.1 with relays and discovery off, with the
/// given key (or a random one).
pub(crate) async fn loopback_endpoint(secret: Option<iroh::SecretKey>) -> iroh::Endpoint {
    let mut builder = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
        .relay_mode(iroh::RelayMode::Disabled)
        .clear_ip_transports()
        .bind_addr("127.0.0.1:0")
        .unwrap();
    if let Some(secret) = secret {
        builder = builder.secret_key(secret);
    }
    builder.bind().await.unwrap()
}

/// Every byte of every file under `home`.
pub(crate) fn files_under(home: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![home.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len() && hay.windows(needle.len()).any(|w| w == needle)
}
