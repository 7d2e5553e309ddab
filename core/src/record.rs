//! What a decrypted payload holds: an immutable record or an automerge change.

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    },
    /// A change to a group's membership: see [`crate::membership`].
    Group(GroupOp),
}

/// Most members a key rotation wraps the key for.
pub const MAX_WRAPPED: usize = 5_000;

/// The new key of a group, wrapped for each member who keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The new epoch.
    pub epoch: u32,
    /// Members removed by this rotation.
    pub removed: Vec<IdentityId>,
    /// For each remaining member, the new key wrapped with
    /// [`crate::crypto::wrap_key`] by the rotation's author.
    pub wrapped: Vec<(IdentityId, Vec<u8>)>,
}

impl Record {
    /// Encodes the record.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Decodes and checks limits.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let r: Record =
            postcard::from_bytes(bytes).map_err(|e| RecordError::Malformed(e.to_string()))?;
        r.validate()?;
        Ok(r)
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
                if r.wrapped
                    .iter()
                    .any(|(_, w)| w.len() != crate::crypto::WRAPPED_LEN)
                {
                    return bad("a wrapped key has the wrong length".into());
                }
                Ok(())
            }
            _ => Ok(()),
        }
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
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let r = Record::Post(Post {
            text: "hi".into(),
            reply_to: Some(EntryId([1; 32])),
            quote_of: None,
            images: vec![],
        });
        assert_eq!(Record::decode(&r.encode()).unwrap(), r);
        let long = Record::Edit {
            target: EntryId([1; 32]),
            text: "x".repeat(MAX_TEXT_LEN + 1),
        };
        assert!(matches!(
            Record::decode(&long.encode()),
            Err(RecordError::BadField { field: "text", .. })
        ));
        assert!(Record::decode(&[0xff, 0xff]).is_err());
    }
}
