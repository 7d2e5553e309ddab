//! The signed, content-addressed log entry.
//!
//! An [`Entry`] is a [`Header`], the author device's ed25519 signature over
//! the header's canonical (postcard) encoding, and an optional sealed payload.
//! Its id is the BLAKE3 hash of the signed header (header bytes followed by the
//! signature). The header names the payload by hash and length, so a payload
//! can be dropped later (a deleted post) and the log still verifies.
//!
//! Everything here is pure: decoding, field validation and signature checks.
//! Chain checks against what a store already holds live in the store.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::crypto::{SEAL_OVERHEAD, SpaceKey};
use crate::id::{DeviceId, EntryId, Hash, SpaceId};
use crate::identity::DeviceKey;
use crate::signature::{self, PublicKey};

/// The entry format version this code writes: version 2 seals a record
/// envelope ([`crate::record`]); version 1, the first record format, is
/// still read.
pub const ENTRY_VERSION: u8 = 2;

/// The oldest entry format version this code reads.
pub const OLDEST_ENTRY_VERSION: u8 = 1;
/// Largest sealed payload accepted, in bytes.
pub const MAX_PAYLOAD_LEN: u32 = 64 * 1024;
/// Largest encoded entry accepted (header, signature and payload), in bytes.
pub const MAX_ENTRY_LEN: usize = MAX_PAYLOAD_LEN as usize + 512;
/// Largest sequence number accepted (2^48).
pub const MAX_SEQ: u64 = 1 << 48;
/// Largest key epoch accepted.
pub const MAX_EPOCH: u32 = 1 << 20;
/// Largest timestamp accepted (ms since the Unix epoch, about 140,000
/// years ahead): every stored number fits SQLite's signed 64 bits.
pub const MAX_TIMESTAMP: u64 = 1 << 52;

const SIGN_CONTEXT: &[u8] = b"starling/entry/v1\0";
const SEAL_CONTEXT: &[u8] = b"starling/payload/v1\0";

/// Why an entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The bytes do not decode as an entry.
    #[error("malformed entry: {0}")]
    Malformed(String),
    /// The bytes decode but are not the canonical encoding of what they hold.
    #[error("entry is not canonically encoded")]
    NotCanonical,
    /// The entry is larger than [`MAX_ENTRY_LEN`].
    #[error("entry of {len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// Encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A header field is out of range.
    #[error("bad header field {field}: {reason}")]
    BadField {
        /// Which field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The payload's BLAKE3 hash is not the one the header signs.
    #[error("payload does not match the signed payload hash")]
    PayloadHashMismatch,
    /// The payload's length is not the one the header signs.
    #[error("payload is {got} bytes but the header says {expected}")]
    PayloadLenMismatch {
        /// Length the header signs.
        expected: u32,
        /// Length received.
        got: usize,
    },
    /// The author key is not a valid ed25519 point.
    #[error("author device key is invalid")]
    BadAuthorKey,
    /// The signature does not verify under the author device key.
    #[error("bad signature by device {device}")]
    BadSignature {
        /// The author device, short form.
        device: String,
    },
}

/// What an author device signs for each entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Format version, [`ENTRY_VERSION`].
    pub version: u8,
    /// The space the entry belongs to.
    pub space: SpaceId,
    /// The device that wrote and signed it.
    pub author: DeviceId,
    /// Position in the author's log in this space, from 1.
    pub seq: u64,
    /// Id of the author's entry at `seq - 1`; `None` exactly when `seq == 1`.
    pub previous: Option<EntryId>,
    /// Author's clock, milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// The key epoch the payload is sealed under.
    pub key_epoch: u32,
    /// BLAKE3 hash of the sealed payload.
    pub payload_hash: Hash,
    /// Length of the sealed payload in bytes.
    pub payload_len: u32,
}

impl Header {
    /// The canonical encoding that is signed.
    pub fn encode(&self) -> Vec<u8> {
        // Encoding plain structs of integers and arrays into a Vec cannot fail.
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Checks every field's range and the seq/previous rule.
    pub fn validate(&self) -> Result<(), EntryError> {
        let bad = |field, reason: &str| EntryError::BadField {
            field,
            reason: reason.to_string(),
        };
        if !(OLDEST_ENTRY_VERSION..=ENTRY_VERSION).contains(&self.version) {
            return Err(bad("version", &format!("unknown version {}", self.version)));
        }
        if self.seq == 0 || self.seq > MAX_SEQ {
            return Err(bad(
                "seq",
                &format!("{} is out of range 1..=2^48", self.seq),
            ));
        }
        match (self.seq, self.previous) {
            (1, Some(_)) => return Err(bad("previous", "the first entry must not name one")),
            (s, None) if s > 1 => return Err(bad("previous", "missing for seq > 1")),
            _ => {}
        }
        if self.payload_len > MAX_PAYLOAD_LEN {
            return Err(bad(
                "payload_len",
                &format!("{} is over {MAX_PAYLOAD_LEN}", self.payload_len),
            ));
        }
        if (self.payload_len as usize) < SEAL_OVERHEAD {
            return Err(bad("payload_len", "shorter than a sealed empty payload"));
        }
        if self.key_epoch > MAX_EPOCH {
            return Err(bad("key_epoch", "out of range"));
        }
        if self.timestamp > MAX_TIMESTAMP {
            return Err(bad("timestamp", "out of range"));
        }
        Ok(())
    }

    /// The associated data a payload is sealed with: binds it to its place.
    pub fn seal_context(space: &SpaceId, author: &DeviceId, seq: u64, key_epoch: u32) -> Vec<u8> {
        let mut aad = Vec::with_capacity(SEAL_CONTEXT.len() + 76);
        aad.extend_from_slice(SEAL_CONTEXT);
        aad.extend_from_slice(space.as_bytes());
        aad.extend_from_slice(author.as_bytes());
        aad.extend_from_slice(&seq.to_le_bytes());
        aad.extend_from_slice(&key_epoch.to_le_bytes());
        aad
    }
}

/// A signed entry, with its payload if this copy holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct Entry {
    header: Header,
    header_bytes: Vec<u8>,
    signature: [u8; 64],
    id: EntryId,
    payload: Option<Vec<u8>>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("space", &self.header.space)
            .field("author", &self.header.author)
            .field("seq", &self.header.seq)
            .field("has_payload", &self.payload.is_some())
            .finish()
    }
}

/// The wire form: header bytes, signature, payload.
#[derive(Serialize, Deserialize)]
struct Wire<'a> {
    header: &'a [u8],
    #[serde(with = "crate::identity::sig_bytes")]
    signature: [u8; 64],
    payload: Option<&'a [u8]>,
}

impl Entry {
    /// Seals `plaintext` under `key` and signs a new entry with `device`.
    ///
    /// `nonce` must be fresh random bytes; `timestamp` is the author's clock.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        device: &DeviceKey,
        space: SpaceId,
        seq: u64,
        previous: Option<EntryId>,
        timestamp: u64,
        key_epoch: u32,
        key: &SpaceKey,
        nonce: [u8; 24],
        plaintext: &[u8],
    ) -> Self {
        Self::create_as(
            ENTRY_VERSION,
            device,
            space,
            seq,
            previous,
            timestamp,
            key_epoch,
            key,
            nonce,
            plaintext,
        )
    }

    /// [`Entry::create`] with a header of format `version` (for tests of
    /// older and newer formats).
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    pub fn create_as(
        version: u8,
        device: &DeviceKey,
        space: SpaceId,
        seq: u64,
        previous: Option<EntryId>,
        timestamp: u64,
        key_epoch: u32,
        key: &SpaceKey,
        nonce: [u8; 24],
        plaintext: &[u8],
    ) -> Self {
        let author = device.id();
        let aad = Header::seal_context(&space, &author, seq, key_epoch);
        let sealed = key.seal(nonce, &aad, plaintext);
        let header = Header {
            version,
            space,
            author,
            seq,
            previous,
            timestamp,
            key_epoch,
            payload_hash: Hash::of(&sealed),
            payload_len: sealed.len() as u32,
        };
        let header_bytes = header.encode();
        let signature = device.sign(&sign_message(&header_bytes));
        let id = entry_id(&header_bytes, &signature);
        Self {
            header,
            header_bytes,
            signature,
            id,
            payload: Some(sealed),
        }
    }

    /// Rebuilds an entry from stored parts, checking the payload against the header.
    pub fn from_parts(
        header: Header,
        signature: [u8; 64],
        payload: Option<Vec<u8>>,
    ) -> Result<Self, EntryError> {
        let header_bytes = header.encode();
        let id = entry_id(&header_bytes, &signature);
        let e = Self {
            header,
            header_bytes,
            signature,
            id,
            payload,
        };
        e.check_payload()?;
        Ok(e)
    }

    /// Decodes the wire form and checks everything that needs no key or store:
    /// size limits, canonical encoding, header fields and payload hash.
    /// The signature is checked separately ([`Entry::verify_signature`] or
    /// [`verify_batch`]) so that many can be checked at once.
    pub fn decode(bytes: &[u8]) -> Result<Self, EntryError> {
        if bytes.len() > MAX_ENTRY_LEN {
            return Err(EntryError::TooLarge {
                len: bytes.len(),
                max: MAX_ENTRY_LEN,
            });
        }
        let wire: Wire<'_> =
            postcard::from_bytes(bytes).map_err(|e| EntryError::Malformed(e.to_string()))?;
        let header: Header = postcard::from_bytes(wire.header)
            .map_err(|e| EntryError::Malformed(format!("header: {e}")))?;
        let header_bytes = header.encode();
        if header_bytes != wire.header {
            return Err(EntryError::NotCanonical);
        }
        let id = entry_id(&header_bytes, &wire.signature);
        let e = Self {
            header,
            header_bytes,
            signature: wire.signature,
            id,
            payload: wire.payload.map(<[u8]>::to_vec),
        };
        e.header.validate()?;
        e.check_payload()?;
        if e.encode().len() != bytes.len() {
            return Err(EntryError::NotCanonical);
        }
        Ok(e)
    }

    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let wire = Wire {
            header: &self.header_bytes,
            signature: self.signature,
            payload: self.payload.as_deref(),
        };
        postcard::to_allocvec(&wire).unwrap_or_default()
    }

    fn check_payload(&self) -> Result<(), EntryError> {
        if let Some(p) = &self.payload {
            if p.len() != self.header.payload_len as usize {
                return Err(EntryError::PayloadLenMismatch {
                    expected: self.header.payload_len,
                    got: p.len(),
                });
            }
            if Hash::of(p) != self.header.payload_hash {
                return Err(EntryError::PayloadHashMismatch);
            }
        }
        Ok(())
    }

    /// Checks the author's signature on its own (the same verdict as
    /// [`verify_batch`]: see [`crate::signature`]).
    pub fn verify_signature(&self) -> Result<(), EntryError> {
        let key =
            PublicKey::from_bytes(self.header.author.as_bytes()).ok_or(EntryError::BadAuthorKey)?;
        self.verify_with(&key)
    }

    fn verify_with(&self, key: &PublicKey) -> Result<(), EntryError> {
        if signature::verify(key, &sign_message(&self.header_bytes), &self.signature) {
            Ok(())
        } else {
            Err(EntryError::BadSignature {
                device: self.header.author.fmt_short(),
            })
        }
    }

    /// The entry's id: BLAKE3 of the signed header.
    pub fn id(&self) -> EntryId {
        self.id
    }

    /// The signed header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The signature over the header.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The sealed payload, if this copy holds it.
    pub fn payload(&self) -> Option<&[u8]> {
        self.payload.as_deref()
    }

    /// Drops the payload (a deleted post); the header still verifies.
    pub fn without_payload(mut self) -> Self {
        self.payload = None;
        self
    }

    /// Opens the payload with the space key of its epoch.
    pub fn open(&self, key: &SpaceKey) -> Result<Vec<u8>, crate::crypto::CryptoError> {
        let h = &self.header;
        let aad = Header::seal_context(&h.space, &h.author, h.seq, h.key_epoch);
        key.open(&aad, self.payload.as_deref().unwrap_or_default())
    }

    /// A test hook: replace the raw signature (to build tampered fixtures).
    #[doc(hidden)]
    pub fn with_signature(mut self, signature: [u8; 64]) -> Self {
        self.signature = signature;
        self.id = entry_id(&self.header_bytes, &signature);
        self
    }

    /// A test hook: replace the payload without re-signing.
    #[doc(hidden)]
    pub fn with_raw_payload(mut self, payload: Option<Vec<u8>>) -> Self {
        self.payload = payload;
        self
    }
}

fn sign_message(header_bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGN_CONTEXT.len() + header_bytes.len());
    m.extend_from_slice(SIGN_CONTEXT);
    m.extend_from_slice(header_bytes);
    m
}

fn entry_id(header_bytes: &[u8], signature: &[u8; 64]) -> EntryId {
    let mut h = blake3::Hasher::new();
    h.update(header_bytes);
    h.update(signature);
    EntryId(*h.finalize().as_bytes())
}

/// Decompressed author keys, cached across batches (decompression costs
/// about a tenth of a verification).
#[derive(Debug, Default)]
pub struct KeyCache {
    keys: HashMap<DeviceId, Option<PublicKey>>,
}

impl KeyCache {
    fn get(&mut self, device: &DeviceId) -> Option<PublicKey> {
        *self
            .keys
            .entry(*device)
            .or_insert_with(|| PublicKey::from_bytes(device.as_bytes()))
    }
}

/// Verifies the signatures of many entries at once with one ed25519 batch
/// check; on a failed batch, finds the bad ones one by one. Returns one
/// result per entry, in order: exactly what [`Entry::verify_signature`]
/// says of each (see [`crate::signature`]).
pub fn verify_batch(entries: &[Entry], cache: &mut KeyCache) -> Vec<Result<(), EntryError>> {
    let mut results: Vec<Result<(), EntryError>> = Vec::with_capacity(entries.len());
    let mut msgs = Vec::with_capacity(entries.len());
    let mut keys = Vec::with_capacity(entries.len());
    let mut idx = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        match cache.get(&e.header.author) {
            Some(key) => {
                msgs.push(sign_message(&e.header_bytes));
                keys.push(key);
                idx.push(i);
                results.push(Ok(()));
            }
            None => results.push(Err(EntryError::BadAuthorKey)),
        }
    }
    let items: Vec<signature::Item<'_>> = idx
        .iter()
        .enumerate()
        .map(|(k, &i)| signature::Item {
            key: &keys[k],
            msg: &msgs[k],
            sig: &entries[i].signature,
        })
        .collect();
    if !items.is_empty() && !signature::verify_batch(&items) {
        for (k, &i) in idx.iter().enumerate() {
            results[i] = entries[i].verify_with(&keys[k]);
        }
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u64, prev: Option<EntryId>) -> Entry {
        let dev = DeviceKey::from_secret_bytes([3; 32]);
        let key = SpaceKey::from_bytes([4; 32]);
        Entry::create(
            &dev,
            SpaceId([5; 32]),
            seq,
            prev,
            1000,
            0,
            &key,
            [6; 24],
            b"hello",
        )
    }

    #[test]
    fn encode_decode_round_trip() {
        let e = sample(1, None);
        let bytes = e.encode();
        let back = Entry::decode(&bytes).unwrap();
        assert_eq!(back, e);
        back.verify_signature().unwrap();
        assert_eq!(back.open(&SpaceKey::from_bytes([4; 32])).unwrap(), b"hello");
    }

    #[test]
    fn header_only_entry_still_verifies() {
        let e = sample(1, None).without_payload();
        let back = Entry::decode(&e.encode()).unwrap();
        assert!(back.payload().is_none());
        back.verify_signature().unwrap();
    }

    #[test]
    fn tampered_payload_is_refused() {
        let e = sample(1, None);
        let mut p = e.payload().unwrap().to_vec();
        p[0] ^= 1;
        let bad = e.clone().with_raw_payload(Some(p));
        assert_eq!(
            Entry::decode(&bad.encode()),
            Err(EntryError::PayloadHashMismatch)
        );
        let bad = e.with_raw_payload(Some(vec![0; 3]));
        assert!(matches!(
            Entry::decode(&bad.encode()),
            Err(EntryError::PayloadLenMismatch { .. })
        ));
    }

    #[test]
    fn tampered_signature_is_refused() {
        let e = sample(1, None);
        let mut sig = *e.signature();
        sig[10] ^= 1;
        let bad = Entry::decode(&e.with_signature(sig).encode()).unwrap();
        assert!(matches!(
            bad.verify_signature(),
            Err(EntryError::BadSignature { .. })
        ));
    }

    #[test]
    fn truncated_and_garbage_bytes_are_malformed() {
        let bytes = sample(1, None).encode();
        for cut in [0, 1, 10, 100, bytes.len() - 1] {
            assert!(Entry::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        assert!(Entry::decode(&[0xff; 300]).is_err());
        let huge = vec![0u8; MAX_ENTRY_LEN + 1];
        assert!(matches!(
            Entry::decode(&huge),
            Err(EntryError::TooLarge { .. })
        ));
    }

    #[test]
    fn header_rules() {
        let e = sample(1, None);
        let mut h = e.header().clone();
        h.seq = 2;
        assert!(matches!(
            h.validate(),
            Err(EntryError::BadField {
                field: "previous",
                ..
            })
        ));
        h.seq = 0;
        assert!(h.validate().is_err());
        let mut h = e.header().clone();
        h.previous = Some(EntryId([1; 32]));
        assert!(h.validate().is_err());
        let mut h = e.header().clone();
        h.payload_len = MAX_PAYLOAD_LEN + 1;
        assert!(matches!(
            h.validate(),
            Err(EntryError::BadField {
                field: "payload_len",
                ..
            })
        ));
        let mut h = e.header().clone();
        h.version = 9;
        assert!(h.validate().is_err());
        h.version = 0;
        assert!(h.validate().is_err());
        h.version = 1;
        assert!(h.validate().is_ok());
    }

    #[test]
    fn batch_finds_the_bad_one() {
        let good: Vec<Entry> = (1..=5)
            .map(|i| sample(i, (i > 1).then_some(EntryId([0; 32]))))
            .collect();
        let mut all = good.clone();
        let mut sig = *all[2].signature();
        sig[0] ^= 0x40;
        all[2] = all[2].clone().with_signature(sig);
        let mut cache = KeyCache::default();
        assert!(verify_batch(&good, &mut cache).iter().all(Result::is_ok));
        let r = verify_batch(&all, &mut cache);
        assert!(r[2].is_err());
        assert_eq!(r.iter().filter(|r| r.is_ok()).count(), 4);
    }
}
