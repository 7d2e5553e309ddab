//! Bundles: entries and blobs in one file, for sneakernet sync and backups.
//!
//! Layout: the magic `STRLBNDL`, a version byte, then records of
//! `tag (u8) || length (u32 LE) || bytes`: tag 1 an encoded entry, tag 2 a
//! sealed blob (`hash || space || bytes`), and a final tag 0 record holding the
//! number of records before it (u64 LE), so a cut-off file is detected.
//! [`parse`] checks the whole framing before anything is used.

use crate::entry::MAX_ENTRY_LEN;
use crate::id::{Hash, SpaceId};

const MAGIC: &[u8; 8] = b"STRLBNDL";
const VERSION: u8 = 1;
const TAG_END: u8 = 0;
const TAG_ENTRY: u8 = 1;
const TAG_BLOB: u8 = 2;
/// Largest blob carried in a bundle.
pub const MAX_BLOB_LEN: usize = 16 * 1024 * 1024;

/// A bundle's framing is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The file does not start with the bundle magic.
    #[error("not a Starling bundle (bad magic bytes)")]
    BadMagic,
    /// A version this code does not know.
    #[error("unsupported bundle version {0}")]
    BadVersion(u8),
    /// The file ends inside a record or before the end record.
    #[error("bundle is truncated at byte {0}")]
    Truncated(usize),
    /// An unknown record tag.
    #[error("unknown record tag {tag} at byte {offset}")]
    BadTag {
        /// The tag.
        tag: u8,
        /// Where.
        offset: usize,
    },
    /// A record is longer than its kind allows.
    #[error("record at byte {offset} is {len} bytes, over the limit")]
    TooLarge {
        /// Where.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// The end record's count does not match.
    #[error("bundle end record says {expected} records, found {found}")]
    CountMismatch {
        /// The count in the end record.
        expected: u64,
        /// Records found.
        found: u64,
    },
    /// Bytes after the end record.
    #[error("trailing bytes after the end of the bundle")]
    Trailing,
}

/// One record of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// Encoded entry bytes (decode with [`crate::Entry::decode`]).
    Entry(&'a [u8]),
    /// A sealed blob and the hash it claims.
    Blob {
        /// The claimed hash.
        hash: Hash,
        /// The space whose key seals it.
        space: SpaceId,
        /// The sealed bytes.
        data: &'a [u8],
    },
}

/// Writes a bundle into a byte buffer.
#[derive(Debug)]
pub struct BundleWriter {
    out: Vec<u8>,
    count: u64,
}

impl BundleWriter {
    /// A new, empty bundle.
    pub fn new() -> Self {
        let mut out = MAGIC.to_vec();
        out.push(VERSION);
        Self { out, count: 0 }
    }

    fn record(&mut self, tag: u8, parts: &[&[u8]]) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        self.out.push(tag);
        self.out.extend_from_slice(&(len as u32).to_le_bytes());
        for p in parts {
            self.out.extend_from_slice(p);
        }
        self.count += 1;
    }

    /// Adds an encoded entry.
    pub fn entry(&mut self, encoded: &[u8]) {
        self.record(TAG_ENTRY, &[encoded]);
    }

    /// Adds a sealed blob.
    pub fn blob(&mut self, hash: &Hash, space: &SpaceId, data: &[u8]) {
        self.record(TAG_BLOB, &[hash.as_bytes(), space.as_bytes(), data]);
    }

    /// Number of records so far.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Closes the bundle and returns its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        let n = self.count;
        self.out.push(TAG_END);
        self.out.extend_from_slice(&8u32.to_le_bytes());
        self.out.extend_from_slice(&n.to_le_bytes());
        self.out
    }
}

impl Default for BundleWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// Checks a whole bundle's framing and returns its records.
pub fn parse(bytes: &[u8]) -> Result<Vec<Item<'_>>, BundleError> {
    if bytes.len() < MAGIC.len() + 1 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(BundleError::BadMagic);
    }
    if bytes[MAGIC.len()] != VERSION {
        return Err(BundleError::BadVersion(bytes[MAGIC.len()]));
    }
    let mut at = MAGIC.len() + 1;
    let mut items = Vec::new();
    loop {
        let offset = at;
        let head = bytes.get(at..at + 5).ok_or(BundleError::Truncated(at))?;
        let tag = head[0];
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        at += 5;
        let max = match tag {
            TAG_END => 8,
            TAG_ENTRY => MAX_ENTRY_LEN,
            TAG_BLOB => MAX_BLOB_LEN + 64,
            _ => return Err(BundleError::BadTag { tag, offset }),
        };
        if len > max {
            return Err(BundleError::TooLarge { offset, len });
        }
        let body = bytes
            .get(at..at + len)
            .ok_or(BundleError::Truncated(bytes.len()))?;
        at += len;
        match tag {
            TAG_END => {
                let n = u64::from_le_bytes(
                    body.try_into()
                        .map_err(|_| BundleError::TooLarge { offset, len })?,
                );
                if n != items.len() as u64 {
                    return Err(BundleError::CountMismatch {
                        expected: n,
                        found: items.len() as u64,
                    });
                }
                if at != bytes.len() {
                    return Err(BundleError::Trailing);
                }
                return Ok(items);
            }
            TAG_ENTRY => items.push(Item::Entry(body)),
            _ => {
                if body.len() < 64 {
                    return Err(BundleError::Truncated(offset));
                }
                let (h, rest) = body.split_at(32);
                let (s, data) = rest.split_at(32);
                let hash = Hash::from_slice(h).ok_or(BundleError::Truncated(offset))?;
                let space = SpaceId::from_slice(s).ok_or(BundleError::Truncated(offset))?;
                items.push(Item::Blob { hash, space, data });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut w = BundleWriter::new();
        w.entry(b"abc");
        w.blob(&Hash([1; 32]), &SpaceId([2; 32]), b"xyz");
        let bytes = w.finish();
        let items = parse(&bytes).unwrap();
        assert_eq!(
            items,
            vec![
                Item::Entry(b"abc"),
                Item::Blob {
                    hash: Hash([1; 32]),
                    space: SpaceId([2; 32]),
                    data: b"xyz"
                }
            ]
        );
    }

    #[test]
    fn damage_is_detected() {
        let mut w = BundleWriter::new();
        w.entry(b"abc");
        let bytes = w.finish();
        for cut in 0..bytes.len() {
            assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(parse(&extra), Err(BundleError::Trailing));
        assert_eq!(parse(b"garbage garbage"), Err(BundleError::BadMagic));
        let mut bad = bytes.clone();
        bad[9] = 7;
        assert!(matches!(
            parse(&bad),
            Err(BundleError::BadTag { tag: 7, .. })
        ));
    }
}
