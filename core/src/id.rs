//! Fixed-size identifiers: identities, devices, spaces, entries and blobs.
//!
//! All of them are 32 bytes, print as lowercase hex and parse from hex.
//! Serialized, they are 32 raw bytes in binary formats (postcard: entries,
//! records, sync messages) and hex strings in text formats (JSON), where
//! TypeScript sees them as `string`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 32-byte identifier could not be parsed from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The text is not 64 hexadecimal characters.
    #[error("expected 64 hex characters for {what}, got {got:?}")]
    BadHex {
        /// What kind of id was expected.
        what: &'static str,
        /// The text that was given (cut to 80 characters).
        got: String,
    },
}

macro_rules! id32 {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; 32]);

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&hex(&self.0))
                } else {
                    s.serialize_newtype_struct(stringify!($name), &self.0)
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = String::deserialize(d)?;
                    text.parse().map_err(serde::de::Error::custom)
                } else {
                    Raw::deserialize(d).map(|r| Self(r.0))
                }
            }
        }

        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &ts_rs::Config) -> String {
                "string".into()
            }
            fn inline(_: &ts_rs::Config) -> String {
                "string".into()
            }
        }

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Builds the id from a 32-byte slice, if it has that length.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                <[u8; 32]>::try_from(bytes).ok().map(Self)
            }

            /// The first five bytes in hex, for logs.
            pub fn fmt_short(&self) -> String {
                hex(&self.0[..5])
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex(&self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.fmt_short())
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                parse_hex32(s.trim()).map(Self).ok_or_else(|| IdError::BadHex {
                    what: $what,
                    got: s.chars().take(80).collect(),
                })
            }
        }
    };
}

/// The binary form of every id: a newtype of 32 bytes, as the derived
/// impls encoded it.
#[derive(Deserialize)]
#[serde(rename = "Id")]
struct Raw([u8; 32]);

id32!(
    /// The public key of an identity: who a person is across all their devices.
    IdentityId,
    "an identity id"
);
id32!(
    /// The public key of one device; it signs that device's entries.
    DeviceId,
    "a device id"
);
id32!(
    /// The id of a space (a feed, an account space, a group).
    SpaceId,
    "a space id"
);
id32!(
    /// The BLAKE3 hash of an entry's signed header: the entry's id.
    EntryId,
    "an entry id"
);
id32!(
    /// The BLAKE3 hash of some bytes (a sealed payload or a sealed blob).
    Hash,
    "a hash"
);

impl Hash {
    /// Hashes `bytes` with BLAKE3.
    pub fn of(bytes: &[u8]) -> Self {
        Self(*blake3::hash(bytes).as_bytes())
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let v = data_encoding::HEXLOWER_PERMISSIVE
        .decode(s.as_bytes())
        .ok()?;
    <[u8; 32]>::try_from(v.as_slice()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = EntryId([7u8; 32]);
        let text = id.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<EntryId>().unwrap(), id);
        assert_eq!(text.to_uppercase().parse::<EntryId>().unwrap(), id);
    }

    #[test]
    fn binary_and_text_forms() {
        let id = SpaceId([9u8; 32]);
        let bin = postcard::to_allocvec(&id).unwrap();
        assert_eq!(bin, [9u8; 32]);
        assert_eq!(postcard::from_bytes::<SpaceId>(&bin).unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", "09".repeat(32)));
        assert_eq!(serde_json::from_str::<SpaceId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<SpaceId>("\"ab\"").is_err());
    }

    #[test]
    fn bad_hex_is_an_error() {
        assert!("xyz".parse::<IdentityId>().is_err());
        assert!("ab".repeat(31).parse::<IdentityId>().is_err());
        assert!("zz".repeat(32).parse::<IdentityId>().is_err());
    }
}
