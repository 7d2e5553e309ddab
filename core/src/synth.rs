//! Synthetic authors that write entries without a store: for tests,
//! benchmarks and fuzz seeds. Deterministic from a seed.

use crate::crypto::SpaceKey;
use crate::doc::{Doc, ProfileUpdate};
use crate::entry::Entry;
use crate::id::{EntryId, IdentityId, SpaceId};
use crate::identity::{DeviceCert, DeviceKey, IdentityKey};
use crate::record::{Post, Record};
use crate::space::feed_space_id;
use crate::ticket::{FeedTicket, Ticket};

/// An author with one device writing to their feed.
#[derive(Debug)]
pub struct SynthAuthor {
    identity: IdentityKey,
    device: DeviceKey,
    key: SpaceKey,
    space: SpaceId,
    seq: u64,
    head: Option<EntryId>,
    nonce: u64,
    doc: Doc,
}

fn derive(seed: u64, what: &str) -> [u8; 32] {
    blake3::derive_key(what, &seed.to_le_bytes())
}

impl SynthAuthor {
    /// A new author; everything derives from `seed`. Its first entry (the
    /// device certificate) is returned by the first call to [`SynthAuthor::cert`].
    pub fn new(seed: u64) -> Self {
        let identity = IdentityKey::from_secret_bytes(derive(seed, "synth identity"));
        let space = feed_space_id(&identity.id());
        Self {
            device: DeviceKey::from_secret_bytes(derive(seed, "synth device")),
            key: SpaceKey::from_bytes(derive(seed, "synth key")),
            identity,
            space,
            seq: 0,
            head: None,
            nonce: seed << 32,
            doc: Doc::new(),
        }
    }

    /// The author's identity.
    pub fn identity(&self) -> IdentityId {
        self.identity.id()
    }

    /// The feed ticket.
    pub fn ticket(&self) -> Ticket {
        Ticket::Feed(FeedTicket {
            identity: self.identity.id(),
            key: self.key.to_bytes(),
            peer: None,
        })
    }

    /// Makes `store` hold this author's feed (as following them does), so
    /// that it keeps the author's entries.
    pub fn followed_by(&self, store: &mut crate::Store) -> Result<(), crate::StoreError> {
        store.add_space(
            &self.space,
            crate::space::SpaceKind::Feed,
            &self.identity.id(),
            &self.key,
        )
    }

    /// The device key (to forge entries in tests).
    pub fn device_key(&self) -> &DeviceKey {
        &self.device
    }

    /// The feed key.
    pub fn space_key(&self) -> &SpaceKey {
        &self.key
    }

    /// The next seq this author will write.
    pub fn next_seq(&self) -> u64 {
        self.seq + 1
    }

    /// The id of the last entry written.
    pub fn head(&self) -> Option<EntryId> {
        self.head
    }

    /// Writes the next entry holding `record` at time `ts`.
    pub fn write(&mut self, record: &Record, ts: u64) -> Entry {
        self.write_plain(crate::entry::ENTRY_VERSION, &record.encode(), ts)
    }

    /// Writes the next entry, of header format `version`, sealing
    /// `plaintext` as it is (records of older or newer software).
    pub fn write_plain(&mut self, version: u8, plaintext: &[u8], ts: u64) -> Entry {
        self.nonce += 1;
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&self.nonce.to_le_bytes());
        self.seq += 1;
        let e = Entry::create_as(
            version,
            &self.device,
            self.space,
            self.seq,
            self.head,
            ts,
            0,
            &self.key,
            nonce,
            plaintext,
        );
        self.head = Some(e.id());
        e
    }

    /// The device certificate: must be the first entry.
    pub fn cert(&mut self, ts: u64) -> Entry {
        let cert = DeviceCert::issue(&self.identity, self.device.id(), ts);
        self.write(&Record::DeviceCert(cert), ts)
    }

    /// A profile change setting the name.
    pub fn name(&mut self, name: &str, ts: u64) -> Entry {
        let change = self
            .doc
            .update_profile(
                &self.device.id(),
                &ProfileUpdate {
                    name: Some(name.to_string()),
                    ..Default::default()
                },
                ts,
            )
            .ok()
            .flatten()
            .unwrap_or_default();
        self.write(&Record::DocChange(change), ts)
    }

    /// A post.
    pub fn post(&mut self, text: &str, reply_to: Option<EntryId>, ts: u64) -> Entry {
        self.post_with_images(text, reply_to, Vec::new(), ts)
    }

    /// A post that shows `images` (sealed blobs the caller makes).
    pub fn post_with_images(
        &mut self,
        text: &str,
        reply_to: Option<EntryId>,
        images: Vec<crate::record::ImageRef>,
        ts: u64,
    ) -> Entry {
        self.write(
            &Record::Post(Post {
                text: text.to_string(),
                reply_to,
                quote_of: None,
                images,
            }),
            ts,
        )
    }

    /// The feed space the author writes to.
    pub fn space(&self) -> SpaceId {
        self.space
    }
}

/// Words synthetic posts are made of (so search has something to find).
pub const WORDS: &[&str] = &[
    "starling",
    "murmuration",
    "flock",
    "wing",
    "dusk",
    "reed",
    "marsh",
    "song",
    "nest",
    "feather",
    "sky",
    "river",
    "winter",
    "swirl",
    "roost",
    "field",
    "morning",
    "cloud",
    "orchard",
    "hedge",
];

/// Fills `node`'s store with `authors` followed synthetic authors writing
/// `per_author - 1` posts each (a minute apart, from late 2023), imported
/// as one bundle; returns the entries written and the import's seconds.
pub fn seed_home(
    node: crate::Node,
    authors: u64,
    per_author: u64,
) -> Result<(u64, f64), crate::NodeError> {
    seed_home_from(node, authors, per_author, 1_700_000_000_000)
}

/// [`seed_home`] with the first posts at `first_ms` (a profile the app
/// opens needs recent posts: it keeps others' posts older than its age
/// limit as headers only).
pub fn seed_home_from(
    mut node: crate::Node,
    authors: u64,
    per_author: u64,
    first_ms: u64,
) -> Result<(u64, f64), crate::NodeError> {
    let mut tickets = Vec::new();
    let mut w = crate::bundle::BundleWriter::new();
    let mut n = 0;
    for s in 0..authors {
        let mut a = SynthAuthor::new(10_000 + s);
        tickets.push(a.ticket());
        w.entry(&a.cert(1).encode());
        n += 1;
        for i in 1..per_author {
            let (i_, s_) = (i as usize, s as usize);
            let text = format!(
                "{} {} {} number {i} from author {s}",
                WORDS[(i_ * 7 + s_) % WORDS.len()],
                WORDS[(i_ * 13 + 3) % WORDS.len()],
                WORDS[(s_ * 3 + i_) % WORDS.len()],
            );
            w.entry(&a.post(&text, None, first_ms + i * 60_000 + s * 7).encode());
            n += 1;
        }
    }
    for t in &tickets {
        node.follow(t)?;
    }
    let bundle = w.finish();
    let t = std::time::Instant::now();
    node.import(&bundle)?;
    let secs = t.elapsed().as_secs_f64();
    node.store().checkpoint()?;
    Ok((n, secs))
}

/// A small JPEG with an EXIF segment that holds a GPS position (the text
/// `52.5200 N 13.4050 E`), right after the start marker as cameras write
/// it: for tests that the position never leaves the device.
pub fn gps_jpeg() -> Vec<u8> {
    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(16, 16, image::Rgb([40, 120, 200]))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .expect("encode a JPEG in memory");
    let exif = b"Exif\0\0MM\0\x2a\0\0\0\x08GPS 52.5200 N 13.4050 E";
    let mut photo = jpeg[..2].to_vec();
    photo.extend_from_slice(&[0xFF, 0xE1]);
    photo.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    photo.extend_from_slice(exif);
    photo.extend_from_slice(&jpeg[2..]);
    photo
}
