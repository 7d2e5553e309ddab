//! What a decrypted payload holds: an immutable record or an automerge change.
//!
//! # Format
//!
//! Entries of header version 2 ([`crate::entry::ENTRY_VERSION`]) seal a
//! record *envelope* that an older reader can always take apart:
//!
//! ```text
//! kind (varint) ‖ version (varint) ‖ fields (postcard) ‖ extensions
//! extensions = (tag (varint) ‖ length (varint) ‖ bytes)*
//! ```
//!
//! - A reader that does not know a record's kind, or knows only older
//!   versions of it, gets [`Record::Unknown`]: the entry is verified,
//!   stored and passed on like any other, and shows nothing.
//! - A new field of an existing record is an extension with a new tag:
//!   older readers skip it (and keep it, in [`Envelope::extensions`]).
//!   The entry's payload is stored and relayed as it came, so the field
//!   reaches newer readers through older ones.
//! - A kind's `version` goes up only for a change older readers cannot
//!   skip; they then see the record as unknown.
//!
//! Entries of header version 1 hold the first format: `kind ‖ fields`, no
//! version and no extensions (bytes after the fields ignored). They are
//! read with the same kind numbers and field layouts, so the same bytes
//! give the same record as before.

use serde::{Deserialize, Serialize};

use crate::id::{EntryId, Hash, IdentityId};
use crate::identity::DeviceCert;
pub use crate::membership::GroupOp;

/// Largest post or edit text, in bytes of UTF-8.
pub const MAX_TEXT_LEN: usize = 4096;
/// Most images on one post.
pub const MAX_IMAGES: usize = 4;
/// Longest media type string.
pub const MAX_MIME_LEN: usize = 64;
/// Longest description of one image, in bytes of UTF-8 (1,000 characters
/// of any script fit).
pub const MAX_ALT_LEN: usize = 4000;

/// A payload could not be decoded or breaks a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The bytes are not a record.
    #[error("malformed record: {0}")]
    Malformed(String),
    /// A field breaks a limit.
    #[error("record field {field} is invalid: {reason}")]
    BadField {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// An image attached to a post: a sealed blob named by its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRef {
    /// BLAKE3 hash of the sealed blob.
    pub hash: Hash,
    /// Length of the sealed blob.
    pub len: u32,
    /// Media type, e.g. `image/png`.
    pub mime: String,
    /// What the image shows, in words, for those who cannot see it (empty:
    /// not described). Not among the post's first-format fields: carried
    /// as extension [`ALT_TAG`], so older readers skip it.
    #[serde(skip)]
    pub alt: String,
}

/// A post: text with optional reply, quote and images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// The text, rendered as plain text.
    pub text: String,
    /// The post this replies to.
    pub reply_to: Option<EntryId>,
    /// The post this quotes.
    pub quote_of: Option<EntryId>,
    /// Attached images.
    pub images: Vec<ImageRef>,
}

/// The plaintext of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The identity vouches for the author device; the first entry of every log.
    DeviceCert(DeviceCert),
    /// A new post.
    Post(Post),
    /// A like of a post.
    Like {
        /// The liked post.
        target: EntryId,
    },
    /// A repost of a post.
    Repost {
        /// The reposted post.
        target: EntryId,
    },
    /// Takes back the author's like of a post: of the author's likes and
    /// unlikes of it, the latest (by timestamp; an unlike on a tie) wins.
    Unlike {
        /// The post no longer liked.
        target: EntryId,
    },
    /// Takes back the author's repost of a post (the latest wins, as for
    /// [`Record::Unlike`]).
    Unrepost {
        /// The post no longer reposted.
        target: EntryId,
    },
    /// New text for one of the author's own posts.
    Edit {
        /// The edited post.
        target: EntryId,
        /// Its new text.
        text: String,
    },
    /// Deletes one of the author's own posts.
    Delete {
        /// The deleted post.
        target: EntryId,
    },
    /// One automerge change to the space's document.
    DocChange(Vec<u8>),
    /// A group's key moves to a new epoch (after members were removed):
    /// the new key, wrapped for each remaining member. Sealed with the
    /// previous epoch's key; only the group's admin may write one.
    KeyRotation(KeyRotation),
    /// Retires one of the identity's devices (lost or stolen): what it
    /// signs past the given seq in each space is refused. Written in the
    /// identity's feed, so every follower learns it.
    Revocation {
        /// The retired device.
        device: crate::id::DeviceId,
        /// Its highest accepted seq per space; in any other space, none.
        heads: Vec<(crate::id::SpaceId, u64)>,
        /// The identity's signature over device and heads
        /// ([`crate::identity::RevocationProof`]): a revocation counts only
        /// with it, so a device without the identity key (a stolen phone)
        /// cannot retire the others. Carried as extension [`PROOF_TAG`].
        proof: Option<[u8; 64]>,
    },
    /// A change to a group's membership: see [`crate::membership`].
    Group(GroupOp),
    /// The identity's account (follows, mutes, blocks, groups and their
    /// first keys), sealed for the identity's own devices
    /// ([`crate::backup`]): written in its feed so that followers keep it,
    /// and a device recovered from the phrase finds it there.
    Backup(Vec<u8>),
    /// A device's keys for forward-secret messages ([`crate::ratchet`]):
    /// its Olm identity key, one-time keys and fallback key. Written in
    /// the identity's feed and in each group the device writes in.
    DeviceKeys(crate::ratchet::DeviceKeys),
    /// A sender device's new session key in a conversation or group,
    /// shared over Olm with each member device it knew of.
    RoomKey(crate::ratchet::RoomKey),
    /// A post, like, unlike, edit or delete of a conversation or group,
    /// sealed by the sender's session ([`Record::RoomKey`]) inside the
    /// space's own seal: it opens once per device, then its key is gone.
    Ratcheted(crate::ratchet::Ratcheted),
    /// Whom the identity says, in its feed, that it follows: the whole
    /// list, which replaces the one before (the newest by timestamp wins).
    /// Written only when the user chooses to show it; an empty list takes
    /// it back. Its followers read it ("follows you", "who to follow").
    Follows(Vec<IdentityId>),
    /// A record of a kind (or a version of a kind) this code does not
    /// know, written by newer software: kept and passed on, not shown.
    Unknown {
        /// Its kind number.
        kind: u32,
        /// Its version.
        version: u32,
    },
}

/// Most identities one public follow list names (32 bytes each: the
/// list fits one entry with room to spare).
pub const MAX_PUBLIC_FOLLOWS: usize = 1000;

/// Most members a key rotation wraps the key for.
pub const MAX_WRAPPED: usize = 5_000;

/// The new key of a group, wrapped for each member who keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The new epoch.
    pub epoch: u32,
    /// Members removed by this rotation.
    pub removed: Vec<IdentityId>,
    /// For each recipient, the new key wrapped with
    /// [`crate::crypto::wrap_key`]: in a group each remaining member
    /// (by identity), in an account space each of the identity's devices
    /// that remain (by device key, in the same 32 bytes).
    pub wrapped: Vec<(IdentityId, Vec<u8>)>,
}

/// Kind numbers (the same in both formats).
mod kind {
    pub(super) const DEVICE_CERT: u32 = 0;
    pub(super) const POST: u32 = 1;
    pub(super) const LIKE: u32 = 2;
    pub(super) const REPOST: u32 = 3;
    pub(super) const EDIT: u32 = 4;
    pub(super) const DELETE: u32 = 5;
    pub(super) const DOC_CHANGE: u32 = 6;
    pub(super) const KEY_ROTATION: u32 = 7;
    pub(super) const REVOCATION: u32 = 8;
    pub(super) const GROUP: u32 = 9;
    pub(super) const BACKUP: u32 = 10;
    pub(super) const UNLIKE: u32 = 11;
    pub(super) const UNREPOST: u32 = 12;
    pub(super) const DEVICE_KEYS: u32 = 13;
    pub(super) const ROOM_KEY: u32 = 14;
    pub(super) const RATCHETED: u32 = 15;
    pub(super) const FOLLOWS: u32 = 16;
    /// The highest kind this code reads.
    pub(super) const LAST: u32 = FOLLOWS;
}

/// The version of every kind this code writes and reads.
const VERSION: u32 = 1;

/// Fields a newer writer added to a record, by tag, that this code does
/// not read: kept so that the record encodes back to the same bytes.
pub type Extensions = Vec<(u32, Vec<u8>)>;

/// A decoded record envelope: the record and the extensions this code
/// does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The record.
    pub record: Record,
    /// Extension fields by tag, in the order they came.
    pub extensions: Extensions,
}

impl Envelope {
    /// Encodes the envelope (the format of header version 2).
    pub fn encode(&self) -> Vec<u8> {
        let (kind, version, mut out) = match &self.record {
            Record::Unknown { kind, version } => (*kind, *version, Vec::new()),
            r => (r.kind(), VERSION, r.fields()),
        };
        let mut head = Vec::with_capacity(out.len() + 4);
        push_varint(&mut head, kind);
        push_varint(&mut head, version);
        head.append(&mut out);
        if let Record::Revocation {
            proof: Some(proof), ..
        } = &self.record
        {
            push_varint(&mut head, PROOF_TAG);
            push_varint(&mut head, proof.len() as u32);
            head.extend_from_slice(proof);
        }
        if let Record::Post(p) = &self.record
            && p.images.iter().any(|i| !i.alt.is_empty())
        {
            let alts: Vec<&str> = p.images.iter().map(|i| i.alt.as_str()).collect();
            let bytes = fields(&alts);
            push_varint(&mut head, ALT_TAG);
            push_varint(&mut head, bytes.len() as u32);
            head.extend_from_slice(&bytes);
        }
        for (tag, bytes) in &self.extensions {
            push_varint(&mut head, *tag);
            push_varint(&mut head, bytes.len() as u32);
            head.extend_from_slice(bytes);
        }
        head
    }

    /// Decodes a payload of an entry of header version `entry_version`
    /// and checks its limits.
    pub fn decode(entry_version: u8, bytes: &[u8]) -> Result<Self, RecordError> {
        let (kind, rest) = take_varint(bytes)?;
        if entry_version < 2 {
            // The first format: the fields follow the kind, and whatever
            // follows them was always ignored.
            if kind > kind::GROUP {
                return Err(RecordError::Malformed(format!(
                    "unknown record kind {kind}"
                )));
            }
            let (record, _) = Record::take_fields(kind, rest)?;
            record.validate()?;
            return Ok(Self {
                record,
                extensions: Vec::new(),
            });
        }
        let (version, rest) = take_varint(rest)?;
        if kind > kind::LAST || version > VERSION || version == 0 {
            // Newer software's record: its layout is not ours to read.
            return Ok(Self {
                record: Record::Unknown { kind, version },
                extensions: Vec::new(),
            });
        }
        let (mut record, mut rest) = Record::take_fields(kind, rest)?;
        record.validate()?;
        let mut extensions = Vec::new();
        while !rest.is_empty() {
            if extensions.len() >= MAX_EXTENSIONS {
                return Err(RecordError::Malformed("too many extension fields".into()));
            }
            let (tag, r) = take_varint(rest)?;
            let (len, r) = take_varint(r)?;
            let len = len as usize;
            if r.len() < len {
                return Err(RecordError::Malformed("extension field cut short".into()));
            }
            extensions.push((tag, r[..len].to_vec()));
            rest = &r[len..];
        }
        if let Record::Revocation { proof, .. } = &mut record
            && let Some(at) = extensions.iter().position(|(t, _)| *t == PROOF_TAG)
        {
            let (_, bytes) = extensions.remove(at);
            *proof = Some(<[u8; 64]>::try_from(bytes.as_slice()).map_err(|_| {
                RecordError::BadField {
                    field: "revocation",
                    reason: "the identity's signature is not 64 bytes".into(),
                }
            })?);
        }
        if let Record::Post(p) = &mut record
            && let Some(at) = extensions.iter().position(|(t, _)| *t == ALT_TAG)
        {
            let (_, bytes) = extensions.remove(at);
            let (alts, _): (Vec<String>, _) = take(&bytes)?;
            if alts.len() > p.images.len() || alts.iter().any(|a| a.len() > MAX_ALT_LEN) {
                return Err(RecordError::BadField {
                    field: "alt",
                    reason: format!(
                        "more descriptions than images, or one over {MAX_ALT_LEN} bytes"
                    ),
                });
            }
            for (image, alt) in p.images.iter_mut().zip(alts) {
                image.alt = alt;
            }
        }
        Ok(Self { record, extensions })
    }
}

/// The extension tag that carries a revocation's identity signature.
pub const PROOF_TAG: u32 = 1;
/// The extension tag that carries a post's image descriptions (alt text):
/// a postcard list of strings, one per image in order.
pub const ALT_TAG: u32 = 2;

/// Most extension fields one record may carry.
pub const MAX_EXTENSIONS: usize = 64;

fn push_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a LEB128 `u32` (postcard's varint), refusing overlong or
/// oversized encodings.
fn take_varint(bytes: &[u8]) -> Result<(u32, &[u8]), RecordError> {
    postcard::take_from_bytes::<u32>(bytes).map_err(|e| RecordError::Malformed(e.to_string()))
}

fn take<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<(T, &'a [u8]), RecordError> {
    postcard::take_from_bytes(bytes).map_err(|e| RecordError::Malformed(e.to_string()))
}

fn fields<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap_or_default()
}

impl Record {
    /// Encodes the record (the format of header version 2, no extensions).
    pub fn encode(&self) -> Vec<u8> {
        Envelope {
            record: self.clone(),
            extensions: Vec::new(),
        }
        .encode()
    }

    /// Decodes the payload of an entry of header version `entry_version`
    /// and checks limits (extensions this code does not know are skipped).
    pub fn decode(entry_version: u8, bytes: &[u8]) -> Result<Self, RecordError> {
        Envelope::decode(entry_version, bytes).map(|e| e.record)
    }

    /// Whether this code knows what the record means.
    pub fn is_known(&self) -> bool {
        !matches!(self, Record::Unknown { .. })
    }

    fn kind(&self) -> u32 {
        match self {
            Record::DeviceCert(_) => kind::DEVICE_CERT,
            Record::Post(_) => kind::POST,
            Record::Like { .. } => kind::LIKE,
            Record::Repost { .. } => kind::REPOST,
            Record::Unlike { .. } => kind::UNLIKE,
            Record::Unrepost { .. } => kind::UNREPOST,
            Record::Edit { .. } => kind::EDIT,
            Record::Delete { .. } => kind::DELETE,
            Record::DocChange(_) => kind::DOC_CHANGE,
            Record::KeyRotation(_) => kind::KEY_ROTATION,
            Record::Revocation { .. } => kind::REVOCATION,
            Record::Group(_) => kind::GROUP,
            Record::Backup(_) => kind::BACKUP,
            Record::DeviceKeys(_) => kind::DEVICE_KEYS,
            Record::RoomKey(_) => kind::ROOM_KEY,
            Record::Ratcheted(_) => kind::RATCHETED,
            Record::Follows(_) => kind::FOLLOWS,
            Record::Unknown { kind, .. } => *kind,
        }
    }

    /// The record's fields, postcard-encoded as the first format laid
    /// them out.
    fn fields(&self) -> Vec<u8> {
        match self {
            Record::DeviceCert(c) => fields(c),
            Record::Post(p) => fields(p),
            Record::Like { target }
            | Record::Repost { target }
            | Record::Unlike { target }
            | Record::Unrepost { target }
            | Record::Delete { target } => fields(target),
            Record::Edit { target, text } => fields(&(target, text)),
            Record::DocChange(change) => fields(change),
            Record::KeyRotation(r) => fields(r),
            Record::Revocation { device, heads, .. } => fields(&(device, heads)),
            Record::Group(op) => fields(op),
            Record::Backup(sealed) => fields(sealed),
            Record::DeviceKeys(k) => fields(k),
            Record::RoomKey(k) => fields(k),
            Record::Ratcheted(m) => fields(m),
            Record::Follows(list) => fields(list),
            Record::Unknown { .. } => Vec::new(),
        }
    }

    /// Reads the fields of a record of a known `kind`; returns the rest.
    fn take_fields(kind: u32, bytes: &[u8]) -> Result<(Self, &[u8]), RecordError> {
        Ok(match kind {
            kind::DEVICE_CERT => {
                let (c, r) = take(bytes)?;
                (Record::DeviceCert(c), r)
            }
            kind::POST => {
                let (p, r) = take(bytes)?;
                (Record::Post(p), r)
            }
            kind::LIKE => {
                let (target, r) = take(bytes)?;
                (Record::Like { target }, r)
            }
            kind::REPOST => {
                let (target, r) = take(bytes)?;
                (Record::Repost { target }, r)
            }
            kind::UNLIKE => {
                let (target, r) = take(bytes)?;
                (Record::Unlike { target }, r)
            }
            kind::UNREPOST => {
                let (target, r) = take(bytes)?;
                (Record::Unrepost { target }, r)
            }
            kind::EDIT => {
                let ((target, text), r) = take(bytes)?;
                (Record::Edit { target, text }, r)
            }
            kind::DELETE => {
                let (target, r) = take(bytes)?;
                (Record::Delete { target }, r)
            }
            kind::DOC_CHANGE => {
                let (change, r) = take(bytes)?;
                (Record::DocChange(change), r)
            }
            kind::KEY_ROTATION => {
                let (k, r) = take(bytes)?;
                (Record::KeyRotation(k), r)
            }
            kind::REVOCATION => {
                let ((device, heads), r) = take(bytes)?;
                (
                    Record::Revocation {
                        device,
                        heads,
                        proof: None,
                    },
                    r,
                )
            }
            kind::GROUP => {
                let (op, r) = take(bytes)?;
                (Record::Group(op), r)
            }
            kind::BACKUP => {
                let (sealed, r) = take(bytes)?;
                (Record::Backup(sealed), r)
            }
            kind::DEVICE_KEYS => {
                let (k, r) = take(bytes)?;
                (Record::DeviceKeys(k), r)
            }
            kind::ROOM_KEY => {
                let (k, r) = take(bytes)?;
                (Record::RoomKey(k), r)
            }
            kind::RATCHETED => {
                let (m, r) = take(bytes)?;
                (Record::Ratcheted(m), r)
            }
            kind::FOLLOWS => {
                let (list, r) = take(bytes)?;
                (Record::Follows(list), r)
            }
            other => {
                return Err(RecordError::Malformed(format!(
                    "unknown record kind {other}"
                )));
            }
        })
    }

    /// Checks the limits on text and images.
    pub fn validate(&self) -> Result<(), RecordError> {
        match self {
            Record::Post(p) => {
                check_text(&p.text)?;
                if p.images.len() > MAX_IMAGES {
                    return Err(RecordError::BadField {
                        field: "images",
                        reason: format!("{} images, at most {MAX_IMAGES}", p.images.len()),
                    });
                }
                if p.images.iter().any(|i| i.mime.len() > MAX_MIME_LEN) {
                    return Err(RecordError::BadField {
                        field: "images",
                        reason: "media type too long".into(),
                    });
                }
                Ok(())
            }
            Record::Edit { text, .. } => check_text(text),
            Record::Revocation { heads, .. } if heads.len() > MAX_WRAPPED => {
                Err(RecordError::BadField {
                    field: "revocation",
                    reason: format!("more than {MAX_WRAPPED} spaces"),
                })
            }
            Record::Revocation { heads, .. }
                if heads.iter().any(|(_, s)| *s > crate::entry::MAX_SEQ) =>
            {
                Err(RecordError::BadField {
                    field: "revocation",
                    reason: "a seq out of range".into(),
                })
            }
            Record::Group(op) if !op.within_limits() => Err(RecordError::BadField {
                field: "group",
                reason: format!("more than {} devices named", crate::membership::MAX_HEADS),
            }),
            Record::KeyRotation(r) => {
                let bad = |reason: String| {
                    Err(RecordError::BadField {
                        field: "key rotation",
                        reason,
                    })
                };
                if r.epoch == 0 {
                    return bad("epoch 0 is the group's first key, not a rotation".into());
                }
                if r.wrapped.len() > MAX_WRAPPED || r.removed.len() > MAX_WRAPPED {
                    return bad(format!("more than {MAX_WRAPPED} members"));
                }
                if r.wrapped.iter().any(|(_, w)| {
                    w.len() != crate::crypto::WRAPPED_LEN
                        && w.len() != crate::crypto::STATIC_WRAPPED_LEN
                }) {
                    return bad("a wrapped key has the wrong length".into());
                }
                Ok(())
            }
            Record::DeviceKeys(k) => k.within_limits().map_err(|reason| RecordError::BadField {
                field: "device keys",
                reason,
            }),
            Record::RoomKey(k) => k.within_limits().map_err(|reason| RecordError::BadField {
                field: "room key",
                reason,
            }),
            Record::Ratcheted(m) => m.within_limits().map_err(|reason| RecordError::BadField {
                field: "ratcheted",
                reason,
            }),
            Record::Follows(list) if list.len() > MAX_PUBLIC_FOLLOWS => {
                Err(RecordError::BadField {
                    field: "follows",
                    reason: format!("{} identities, at most {MAX_PUBLIC_FOLLOWS}", list.len()),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether a conversation or group may carry this record sealed by a
    /// sender's ratchet ([`Record::Ratcheted`]): what people say and do
    /// there, never what the space's rules are made of.
    pub fn may_be_ratcheted(&self) -> bool {
        matches!(
            self,
            Record::Post(_)
                | Record::Like { .. }
                | Record::Unlike { .. }
                | Record::Edit { .. }
                | Record::Delete { .. }
        )
    }
}

fn check_text(text: &str) -> Result<(), RecordError> {
    if text.len() > MAX_TEXT_LEN {
        return Err(RecordError::BadField {
            field: "text",
            reason: format!("{} bytes, at most {MAX_TEXT_LEN}", text.len()),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::id::{DeviceId, SpaceId};

    fn samples() -> Vec<Record> {
        let id = EntryId([1; 32]);
        vec![
            Record::Post(Post {
                text: "hi".into(),
                reply_to: Some(id),
                quote_of: None,
                images: vec![
                    ImageRef {
                        hash: Hash([2; 32]),
                        len: 99,
                        mime: "image/png".into(),
                        alt: "a starling on a wire".into(),
                    },
                    ImageRef {
                        hash: Hash([3; 32]),
                        len: 9,
                        mime: "image/gif".into(),
                        alt: String::new(),
                    },
                ],
            }),
            Record::Like { target: id },
            Record::Repost { target: id },
            Record::Edit {
                target: id,
                text: "new".into(),
            },
            Record::Delete { target: id },
            Record::DocChange(vec![1, 2, 3]),
            Record::KeyRotation(KeyRotation {
                epoch: 2,
                removed: vec![IdentityId([3; 32])],
                wrapped: vec![],
            }),
            Record::Revocation {
                device: DeviceId([4; 32]),
                heads: vec![(SpaceId([5; 32]), 7)],
                proof: None,
            },
            Record::Revocation {
                device: DeviceId([4; 32]),
                heads: vec![(SpaceId([5; 32]), 7)],
                proof: Some([9; 64]),
            },
            Record::Group(GroupOp::Leave {
                heads: vec![(DeviceId([6; 32]), 3)],
            }),
        ]
    }

    #[test]
    fn round_trip_and_limits() {
        let id = EntryId([1; 32]);
        let later = [
            Record::Unlike { target: id },
            Record::Unrepost { target: id },
        ];
        for r in samples().into_iter().chain(later) {
            assert_eq!(Record::decode(2, &r.encode()).unwrap(), r);
        }
        let long = Record::Edit {
            target: EntryId([1; 32]),
            text: "x".repeat(MAX_TEXT_LEN + 1),
        };
        assert!(matches!(
            Record::decode(2, &long.encode()),
            Err(RecordError::BadField { field: "text", .. })
        ));
        assert!(Record::decode(2, &[0xff, 0xff]).is_err());
        assert!(Record::decode(1, &[0xff, 0xff]).is_err());
    }

    /// The serde enum `Record` was before records had an envelope (the
    /// first format is its postcard encoding).
    #[derive(Serialize)]
    enum FirstFormat {
        DeviceCert(DeviceCert),
        Post(Post),
        Like {
            target: EntryId,
        },
        Repost {
            target: EntryId,
        },
        Edit {
            target: EntryId,
            text: String,
        },
        Delete {
            target: EntryId,
        },
        DocChange(Vec<u8>),
        KeyRotation(KeyRotation),
        Revocation {
            device: DeviceId,
            heads: Vec<(SpaceId, u64)>,
        },
        Group(GroupOp),
    }

    fn first_format(r: &Record) -> Vec<u8> {
        let old = match r.clone() {
            Record::DeviceCert(c) => FirstFormat::DeviceCert(c),
            Record::Post(p) => FirstFormat::Post(p),
            Record::Like { target } => FirstFormat::Like { target },
            Record::Repost { target } => FirstFormat::Repost { target },
            Record::Edit { target, text } => FirstFormat::Edit { target, text },
            Record::Delete { target } => FirstFormat::Delete { target },
            Record::DocChange(c) => FirstFormat::DocChange(c),
            Record::KeyRotation(k) => FirstFormat::KeyRotation(k),
            Record::Revocation { device, heads, .. } => FirstFormat::Revocation { device, heads },
            Record::Group(op) => FirstFormat::Group(op),
            Record::Backup(_)
            | Record::Unlike { .. }
            | Record::Unrepost { .. }
            | Record::DeviceKeys(_)
            | Record::RoomKey(_)
            | Record::Ratcheted(_)
            | Record::Follows(_)
            | Record::Unknown { .. } => unreachable!("not in the first format"),
        };
        postcard::to_allocvec(&old).unwrap()
    }

    /// The records of forward-secret messages (kinds 13 to 15) round-trip,
    /// and an older reader that knows kinds up to 12 sees them as unknown.
    #[test]
    fn ratchet_records_round_trip_and_are_bounded() {
        let records = [
            Record::DeviceKeys(crate::ratchet::DeviceKeys {
                curve25519: [7; 32],
                one_time_keys: vec![[8; 32]],
                fallback: Some([9; 32]),
            }),
            Record::RoomKey(crate::ratchet::RoomKey {
                session: "session".into(),
                shares: vec![(DeviceId([1; 32]), 0, vec![1, 2, 3])],
            }),
            Record::Ratcheted(crate::ratchet::Ratcheted {
                session: "session".into(),
                message: vec![3; 10],
            }),
        ];
        for (r, kind) in records.iter().zip(13u8..) {
            let bytes = r.encode();
            assert_eq!(bytes[0], kind);
            assert_eq!(Record::decode(2, &bytes).unwrap(), *r);
        }
        let too_many = Record::DeviceKeys(crate::ratchet::DeviceKeys {
            curve25519: [7; 32],
            one_time_keys: vec![[8; 32]; crate::ratchet::MAX_ONE_TIME_KEYS + 1],
            fallback: None,
        });
        assert!(matches!(
            Record::decode(2, &too_many.encode()),
            Err(RecordError::BadField { .. })
        ));
        let long_share = Record::RoomKey(crate::ratchet::RoomKey {
            session: "s".into(),
            shares: vec![(
                DeviceId([1; 32]),
                0,
                vec![0; crate::ratchet::MAX_SHARE_LEN + 1],
            )],
        });
        assert!(Record::decode(2, &long_share.encode()).is_err());
        assert!(
            Record::Post(Post {
                text: String::new(),
                reply_to: None,
                quote_of: None,
                images: vec![],
            })
            .may_be_ratcheted()
        );
        assert!(!records[2].may_be_ratcheted());
    }

    /// A public follow list (kind 16) round-trips, is bounded, is never
    /// ratcheted, and an older reader sees it as unknown (and keeps it).
    #[test]
    fn public_follow_lists_round_trip_and_are_bounded() {
        let list = Record::Follows(vec![IdentityId([1; 32]), IdentityId([2; 32])]);
        let bytes = list.encode();
        assert_eq!(bytes[0], 16);
        assert_eq!(Record::decode(2, &bytes).unwrap(), list);
        assert!(!list.may_be_ratcheted());
        let full = Record::Follows(vec![IdentityId([3; 32]); MAX_PUBLIC_FOLLOWS]);
        assert!(full.encode().len() < 33 * MAX_PUBLIC_FOLLOWS + 8);
        assert!(Record::decode(2, &full.encode()).is_ok());
        let over = Record::Follows(vec![IdentityId([3; 32]); MAX_PUBLIC_FOLLOWS + 1]);
        assert!(matches!(
            Record::decode(2, &over.encode()),
            Err(RecordError::BadField {
                field: "follows",
                ..
            })
        ));
        // What a reader of kinds up to 15 made of it: unknown, kept whole.
        let mut older = bytes.clone();
        older[1] = VERSION as u8 + 1;
        assert!(matches!(
            Envelope::decode(2, &older).unwrap().record,
            Record::Unknown { kind: 16, .. }
        ));
    }

    /// The first format's bytes read as the same records, trailing bytes
    /// ignored as they always were; and its layout is the envelope's
    /// fields after the kind.
    #[test]
    fn the_first_format_reads_as_before() {
        // (The first format had no extensions, so no revocation proofs.)
        let first = samples()
            .into_iter()
            .filter(|r| !matches!(r, Record::Revocation { proof: Some(_), .. }))
            .map(|r| match r {
                // (Nor image descriptions.)
                Record::Post(mut p) => {
                    p.images.iter_mut().for_each(|i| i.alt.clear());
                    Record::Post(p)
                }
                r => r,
            });
        for r in first {
            let mut legacy = first_format(&r);
            let mut ours = vec![r.kind() as u8];
            ours.extend(r.fields());
            assert_eq!(legacy, ours, "{r:?}");
            assert_eq!(Record::decode(1, &legacy).unwrap(), r);
            legacy.extend([9, 9, 9]);
            assert_eq!(Record::decode(1, &legacy).unwrap(), r);
        }
        // A like, byte by byte: kind 2, then the target's 32 bytes.
        let mut like = vec![2];
        like.extend([7; 32]);
        assert_eq!(
            Record::decode(1, &like).unwrap(),
            Record::Like {
                target: EntryId([7; 32])
            }
        );
        // Kinds the first format never had are malformed there.
        assert!(Record::decode(1, &[10, 0]).is_err());
    }

    #[test]
    fn newer_kinds_and_versions_are_unknown_not_wrong() {
        // A kind this code never heard of, with any body.
        let mut poll = vec![];
        push_varint(&mut poll, 200);
        push_varint(&mut poll, 1);
        poll.extend(b"which bird sings first?");
        assert_eq!(
            Record::decode(2, &poll).unwrap(),
            Record::Unknown {
                kind: 200,
                version: 1
            }
        );
        // A post in a layout older readers cannot skip.
        let mut v2 = vec![kind::POST as u8];
        push_varint(&mut v2, 2);
        v2.extend([0xde, 0xad]);
        assert_eq!(
            Record::decode(2, &v2).unwrap(),
            Record::Unknown {
                kind: kind::POST,
                version: 2
            }
        );
        // Extension fields must be whole.
        let mut cut = Record::Like {
            target: EntryId([1; 32]),
        }
        .encode();
        cut.extend([5, 10, 1, 2]);
        assert!(Record::decode(2, &cut).is_err());
    }

    /// Image descriptions ride in an extension: an older reader (the
    /// first-format fields alone) reads the same post without them, a
    /// newer one gets them back, and descriptions that break the limits
    /// make the record invalid.
    #[test]
    fn image_descriptions_are_an_extension() {
        let Record::Post(post) = samples().swap_remove(0) else {
            panic!("the first sample is a post")
        };
        let bytes = Record::Post(post.clone()).encode();
        let (kind, rest) = take_varint(&bytes).unwrap();
        let (_, rest) = take_varint(rest).unwrap();
        let (older, ext) = Record::take_fields(kind, rest).unwrap();
        let Record::Post(older) = older else { panic!() };
        assert!(older.images.iter().all(|i| i.alt.is_empty()));
        assert_eq!(older.images.len(), post.images.len());
        assert_eq!(ext[0] as u32, ALT_TAG);
        assert_eq!(
            Record::decode(2, &bytes).unwrap(),
            Record::Post(post.clone())
        );
        // No description, no extension: the bytes of before.
        let mut plain = post.clone();
        plain.images.iter_mut().for_each(|i| i.alt.clear());
        assert_eq!(
            Record::Post(plain.clone()).encode().len(),
            bytes.len() - ext.len()
        );
        // Too long, or more descriptions than images.
        let mut long = post.clone();
        long.images[0].alt = "x".repeat(MAX_ALT_LEN + 1);
        assert!(matches!(
            Record::decode(2, &Record::Post(long).encode()),
            Err(RecordError::BadField { field: "alt", .. })
        ));
        let mut extra = Record::Post(plain).encode();
        let three = fields(&vec!["a", "b", "c"]);
        push_varint(&mut extra, ALT_TAG);
        push_varint(&mut extra, three.len() as u32);
        extra.extend(three);
        assert!(matches!(
            Record::decode(2, &extra),
            Err(RecordError::BadField { field: "alt", .. })
        ));
    }

    fn any_record() -> impl Strategy<Value = Record> {
        (0..samples().len(), any::<[u8; 32]>(), ".{0,40}").prop_map(|(i, b, text)| {
            match samples().swap_remove(i) {
                Record::Post(mut p) => {
                    p.text = text;
                    p.reply_to = Some(EntryId(b));
                    Record::Post(p)
                }
                Record::Like { .. } => Record::Like { target: EntryId(b) },
                Record::Edit { .. } => Record::Edit {
                    target: EntryId(b),
                    text,
                },
                r => r,
            }
        })
    }

    proptest! {
        /// Whatever fields a newer writer added, a record decodes to
        /// itself and its extensions, and encodes back to the same bytes.
        #[test]
        fn extensions_survive_a_round_trip(
            record in any_record(),
            extensions in proptest::collection::vec(
                (3u32.., proptest::collection::vec(any::<u8>(), 0..300)),
                0..6,
            ),
        ) {
            let e = Envelope { record, extensions };
            let bytes = e.encode();
            let back = Envelope::decode(2, &bytes).unwrap();
            prop_assert_eq!(&back, &e);
            prop_assert_eq!(back.encode(), bytes);
        }

        /// Decoding never panics, in either format.
        #[test]
        fn decoding_any_bytes_is_an_answer(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Record::decode(1, &bytes);
            let _ = Record::decode(2, &bytes);
        }
    }
}
