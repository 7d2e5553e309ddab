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
        self.nonce += 1;
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&self.nonce.to_le_bytes());
        self.seq += 1;
        let e = Entry::create(
            &self.device,
            self.space,
            self.seq,
            self.head,
            ts,
            0,
            &self.key,
            nonce,
            &record.encode(),
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
        self.write(
            &Record::Post(Post {
                text: text.to_string(),
                reply_to,
                quote_of: None,
                images: vec![],
            }),
            ts,
        )
    }
}
