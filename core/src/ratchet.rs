//! Forward-secret messages for conversations and groups: one device's
//! Olm and Megolm state (the audited `vodozemac` crate), sans I/O, time
//! passed in.
//!
//! Each device keeps an Olm account and publishes [`DeviceKeys`]: its
//! Curve25519 identity key, a batch of one-time keys and a fallback key.
//! To write in a space, a device keeps its own outbound Megolm session
//! (a sender ratchet) there and shares the session's key, as a
//! [`RoomKey`], with each member device over a fresh Olm session (a
//! pre-key message to one of that device's one-time keys). Every message
//! then advances the sender's ratchet; a receiver advances its copy past
//! each message it reads ([`Ratchet::open`]), so a stolen store holds no
//! key of what was read. A sender starts a new session whenever the
//! member devices change (a join, a removal), after
//! [`MAX_SESSION_MESSAGES`] messages or after [`MAX_SESSION_AGE_MS`].
//!
//! Nothing orders two senders: both may pick the same one-time key of a
//! receiver. So that both shares open, a receiver keeps a one-time key it
//! used for [`USED_KEY_GRACE_MS`] before it forgets it (sessions are made
//! on a copy of the account); that grace is the only window in which a
//! thief of the receiver's store could open a session key already read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use vodozemac::Curve25519PublicKey;
use vodozemac::megolm::{
    GroupSession, GroupSessionPickle, InboundGroupSession, InboundGroupSessionPickle,
    MegolmMessage, SessionConfig as MegolmConfig, SessionKey,
};
use vodozemac::olm::{Account, AccountPickle, OlmMessage, SessionConfig};

use crate::crypto::SpaceKey;
use crate::id::{DeviceId, SpaceId};

/// Messages one outbound session carries before a new one starts.
pub const MAX_SESSION_MESSAGES: u32 = 100;
/// Age after which a new outbound session starts: a week.
pub const MAX_SESSION_AGE_MS: u64 = 7 * 24 * 3600 * 1000;
/// How long a used one-time key is kept, so that a second sender who
/// picked it too is still read: ten minutes.
pub const USED_KEY_GRACE_MS: u64 = 10 * 60 * 1000;
/// One-time keys a device publishes in one batch.
pub const ONE_TIME_KEYS: usize = 20;
/// Most one-time keys one [`DeviceKeys`] may list.
pub const MAX_ONE_TIME_KEYS: usize = 100;
/// Most recipient devices one [`RoomKey`] shares with.
pub const MAX_SHARES: usize = 5_000;
/// Longest share (an Olm pre-key message carrying a session key).
pub const MAX_SHARE_LEN: usize = 2_048;
/// Longest session id (unpadded base64 of an Ed25519 key: 43).
pub const MAX_SESSION_ID_LEN: usize = 64;

/// Associated data of the sealed state.
const PICKLE_CONTEXT: &[u8] = b"starling/ratchet-state/v1\0";

/// What failed in the ratchet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RatchetError {
    /// No session this device holds opens the message.
    #[error("no key held for this message (session {0})")]
    NoSession(String),
    /// The message or share does not open (tampered, replayed, or its
    /// key is gone).
    #[error("the message does not open: {0}")]
    Open(String),
    /// Bytes that are not a ratchet message, share or key.
    #[error("malformed ratchet data: {0}")]
    Malformed(String),
    /// A recipient published no key to share with.
    #[error("device {0} published no key to share with")]
    NoKeys(String),
}

type Result<T, E = RatchetError> = std::result::Result<T, E>;

fn malformed(e: impl std::fmt::Display) -> RatchetError {
    RatchetError::Malformed(e.to_string())
}

/// The keys a device publishes so that others can share session keys
/// with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceKeys {
    /// The device's Olm (Curve25519) identity key.
    pub curve25519: [u8; 32],
    /// One-time keys, each for one Olm session.
    pub one_time_keys: Vec<[u8; 32]>,
    /// The key used when every one-time key is taken.
    pub fallback: Option<[u8; 32]>,
}

impl DeviceKeys {
    /// Checks the sizes a decoder must bound.
    pub fn within_limits(&self) -> std::result::Result<(), String> {
        if self.one_time_keys.len() > MAX_ONE_TIME_KEYS {
            return Err(format!(
                "{} one-time keys, at most {MAX_ONE_TIME_KEYS}",
                self.one_time_keys.len()
            ));
        }
        Ok(())
    }
}

/// One sender's session key, shared with each recipient device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomKey {
    /// The Megolm session it opens.
    pub session: String,
    /// Per recipient device: the Olm message type and bytes that carry
    /// the session key to it.
    pub shares: Vec<(DeviceId, u8, Vec<u8>)>,
}

impl RoomKey {
    /// Checks the sizes a decoder must bound.
    pub fn within_limits(&self) -> std::result::Result<(), String> {
        if self.session.len() > MAX_SESSION_ID_LEN {
            return Err("session id too long".into());
        }
        if self.shares.len() > MAX_SHARES {
            return Err(format!(
                "{} shares, at most {MAX_SHARES}",
                self.shares.len()
            ));
        }
        if self.shares.iter().any(|(_, _, b)| b.len() > MAX_SHARE_LEN) {
            return Err(format!("a share longer than {MAX_SHARE_LEN} bytes"));
        }
        Ok(())
    }

    /// The Olm identity key of the device that made the share for `me`
    /// (named inside the pre-key message), if there is one.
    pub fn sender_key(&self, me: &DeviceId) -> Result<Option<[u8; 32]>> {
        let Some((_, kind, bytes)) = self.shares.iter().find(|(d, _, _)| d == me) else {
            return Ok(None);
        };
        match OlmMessage::from_parts(usize::from(*kind), bytes).map_err(malformed)? {
            OlmMessage::PreKey(m) => Ok(Some(m.identity_key().to_bytes())),
            OlmMessage::Normal(_) => Err(malformed("a session key share is a pre-key message")),
        }
    }
}

/// A message sealed by a sender's ratchet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ratcheted {
    /// The Megolm session that sealed it.
    pub session: String,
    /// The Megolm message.
    pub message: Vec<u8>,
}

impl Ratcheted {
    /// Checks the sizes a decoder must bound (the message is bounded by
    /// the entry's payload).
    pub fn within_limits(&self) -> std::result::Result<(), String> {
        if self.session.len() > MAX_SESSION_ID_LEN {
            return Err("session id too long".into());
        }
        Ok(())
    }
}

/// A sender's current session in one space.
struct Outbound {
    session: GroupSession,
    /// The devices its key was shared with.
    shared_with: BTreeSet<DeviceId>,
    started_at: u64,
}

/// A one-time key this device used, and when.
#[derive(Clone, Serialize, Deserialize)]
struct UsedKey {
    key: [u8; 32],
    used_at: u64,
}

/// The state of one device's ratchets.
pub struct Ratchet {
    account: Account,
    outbound: HashMap<SpaceId, Outbound>,
    /// Inbound sessions by space, sender device and session id.
    inbound: BTreeMap<(SpaceId, DeviceId, String), InboundGroupSession>,
    used: Vec<UsedKey>,
    /// One-time keys of others this device used (never twice).
    taken: BTreeSet<[u8; 32]>,
    /// Own one-time keys others used since the last [`Ratchet::publish`].
    spent: usize,
}

impl std::fmt::Debug for Ratchet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ratchet")
            .field("outbound", &self.outbound.len())
            .field("inbound", &self.inbound.len())
            .finish_non_exhaustive()
    }
}

/// The state as kept at rest (sealed, see [`Ratchet::seal`]).
#[derive(Serialize, Deserialize)]
struct Pickle {
    account: AccountPickle,
    outbound: Vec<(SpaceId, GroupSessionPickle, Vec<DeviceId>, u64)>,
    inbound: Vec<(SpaceId, DeviceId, String, InboundGroupSessionPickle)>,
    used: Vec<UsedKey>,
    taken: Vec<[u8; 32]>,
    #[serde(default)]
    spent: usize,
}

impl Default for Ratchet {
    fn default() -> Self {
        Self::new()
    }
}

impl Ratchet {
    /// A new device's state.
    pub fn new() -> Self {
        Self {
            account: Account::new(),
            outbound: HashMap::new(),
            inbound: BTreeMap::new(),
            used: Vec::new(),
            taken: BTreeSet::new(),
            spent: 0,
        }
    }

    /// This device's Olm identity key.
    pub fn curve25519(&self) -> [u8; 32] {
        self.account.curve25519_key().to_bytes()
    }

    /// New keys to publish: a batch of one-time keys and a new fallback
    /// key (the previous one stays until the next batch, for shares
    /// already on their way).
    pub fn publish(&mut self) -> DeviceKeys {
        self.account.generate_one_time_keys(ONE_TIME_KEYS);
        self.account.generate_fallback_key();
        let one_time_keys = self
            .account
            .one_time_keys()
            .values()
            .map(|k| k.to_bytes())
            .collect();
        let fallback = self
            .account
            .fallback_key()
            .values()
            .next()
            .map(|k| k.to_bytes());
        self.account.mark_keys_as_published();
        self.spent = 0;
        DeviceKeys {
            curve25519: self.curve25519(),
            one_time_keys,
            fallback,
        }
    }

    /// Own one-time keys others used since the last
    /// [`Ratchet::publish`]: time for a new batch when it reaches half.
    pub fn spent(&self) -> usize {
        self.spent
    }

    /// Whether a message in `space` to `members` (the member devices but
    /// this one) needs a new session first: none yet, members changed,
    /// or the session is old or long.
    pub fn needs_session(&self, space: &SpaceId, members: &BTreeSet<DeviceId>, now: u64) -> bool {
        match self.outbound.get(space) {
            None => true,
            Some(o) => {
                o.shared_with != *members
                    || o.session.message_index() >= MAX_SESSION_MESSAGES
                    || now.saturating_sub(o.started_at) >= MAX_SESSION_AGE_MS
            }
        }
    }

    /// Starts a new session in `space` and shares its key with each
    /// recipient (a member device and the keys it published). A
    /// recipient's one-time key is used once by this device; when all are
    /// taken, its fallback key.
    pub fn start(
        &mut self,
        space: &SpaceId,
        recipients: &[(DeviceId, DeviceKeys)],
        now: u64,
    ) -> Result<RoomKey> {
        let session = GroupSession::new(MegolmConfig::version_1());
        let key = session.session_key().to_bytes();
        let mut shares = Vec::with_capacity(recipients.len());
        for (device, keys) in recipients {
            // Senders start where their own key points, so that two of
            // them rarely pick the same one-time key of a device.
            let free: Vec<&[u8; 32]> = keys
                .one_time_keys
                .iter()
                .filter(|k| !self.taken.contains(*k))
                .collect();
            let start_at = usize::from(self.curve25519()[0]);
            let one_time = free
                .get(start_at % free.len().max(1))
                .copied()
                .or(keys.fallback.as_ref())
                .copied()
                .ok_or_else(|| RatchetError::NoKeys(device.fmt_short()))?;
            self.taken.insert(one_time);
            let mut olm = self
                .account
                .create_outbound_session(
                    SessionConfig::version_1(),
                    Curve25519PublicKey::from_bytes(keys.curve25519),
                    Curve25519PublicKey::from_bytes(one_time),
                )
                .map_err(malformed)?;
            let (kind, bytes) = olm.encrypt(&key).map_err(malformed)?.to_parts();
            shares.push((*device, kind as u8, bytes));
        }
        let id = session.session_id();
        // (No inbound copy for this device: what it sent, it knows; a copy
        // from index 0 would let a thief of its store open all of it.)
        self.outbound.insert(
            *space,
            Outbound {
                session,
                shared_with: recipients.iter().map(|(d, _)| *d).collect(),
                started_at: now,
            },
        );
        Ok(RoomKey {
            session: id,
            shares,
        })
    }

    /// Seals `plain` with this device's session in `space` (see
    /// [`Ratchet::start`]).
    pub fn seal(&mut self, space: &SpaceId, plain: &[u8]) -> Result<Ratcheted> {
        let o = self
            .outbound
            .get_mut(space)
            .ok_or_else(|| RatchetError::NoSession(space.fmt_short()))?;
        Ok(Ratcheted {
            session: o.session.session_id(),
            message: o.session.encrypt(plain).to_bytes(),
        })
    }

    /// Takes the session key `from` (a device whose Olm identity key is
    /// `from_key`) shared with this device in `space`; `me` is this
    /// device. A share for another device is ignored.
    pub fn receive(
        &mut self,
        space: &SpaceId,
        (from, from_key): (DeviceId, [u8; 32]),
        me: &DeviceId,
        room_key: &RoomKey,
        now: u64,
    ) -> Result<bool> {
        let Some((_, kind, bytes)) = room_key.shares.iter().find(|(d, _, _)| d == me) else {
            return Ok(false);
        };
        let message = OlmMessage::from_parts(usize::from(*kind), bytes).map_err(malformed)?;
        let OlmMessage::PreKey(pre_key) = message else {
            return Err(malformed("a session key share is a pre-key message"));
        };
        let one_time = pre_key.one_time_key().to_bytes();
        // On a copy, so that a second sender who picked the same one-time
        // key is still read during the grace (the copy loses the key).
        let mut copy = Account::from_pickle(self.account.pickle());
        let created = copy
            .create_inbound_session(
                SessionConfig::version_1(),
                Curve25519PublicKey::from_bytes(from_key),
                &pre_key,
            )
            .map_err(|e| RatchetError::Open(e.to_string()))?;
        let key = SessionKey::from_bytes(&created.plaintext).map_err(malformed)?;
        let inbound = InboundGroupSession::new(&key, MegolmConfig::version_1());
        if inbound.session_id() != room_key.session {
            return Err(malformed("the share opens another session than it names"));
        }
        // (A fallback key is in this list too; forgetting it later is a
        // no-op: it goes when the fallback key moves.)
        if !self.used.iter().any(|u| u.key == one_time) {
            self.spent += 1;
            self.used.push(UsedKey {
                key: one_time,
                used_at: now,
            });
        }
        self.inbound
            .insert((*space, from, room_key.session.clone()), inbound);
        Ok(true)
    }

    /// Opens a message `from` sealed in `space`, then forgets its key and
    /// every earlier one of that session: it opens only once.
    pub fn open(&mut self, space: &SpaceId, from: &DeviceId, m: &Ratcheted) -> Result<Vec<u8>> {
        let message = MegolmMessage::from_bytes(&m.message).map_err(malformed)?;
        let key = (*space, *from, m.session.clone());
        let session = self
            .inbound
            .get_mut(&key)
            .ok_or_else(|| RatchetError::NoSession(m.session.clone()))?;
        let opened = session
            .decrypt(&message)
            .map_err(|e| RatchetError::Open(e.to_string()))?;
        session.advance_to(opened.message_index.saturating_add(1));
        Ok(opened.plaintext)
    }

    /// Forgets one-time keys used longer than the grace ago. Returns how
    /// many it forgot.
    pub fn forget_used_keys(&mut self, now: u64) -> usize {
        let (old, keep): (Vec<_>, Vec<_>) = self
            .used
            .drain(..)
            .partition(|u| now.saturating_sub(u.used_at) >= USED_KEY_GRACE_MS);
        self.used = keep;
        for u in &old {
            self.account
                .remove_one_time_key(Curve25519PublicKey::from_bytes(u.key));
        }
        old.len()
    }

    /// The state sealed under `key` (kept at rest, see
    /// [`Ratchet::unseal`]); `nonce` must be fresh.
    pub fn seal_state(&self, key: &SpaceKey, nonce: [u8; 24]) -> Vec<u8> {
        let pickle = Pickle {
            account: self.account.pickle(),
            outbound: self
                .outbound
                .iter()
                .map(|(s, o)| {
                    (
                        *s,
                        o.session.pickle(),
                        o.shared_with.iter().copied().collect(),
                        o.started_at,
                    )
                })
                .collect(),
            inbound: self
                .inbound
                .iter()
                .map(|((s, d, id), i)| (*s, *d, id.clone(), i.pickle()))
                .collect(),
            used: self.used.clone(),
            taken: self.taken.iter().copied().collect(),
            spent: self.spent,
        };
        let plain = serde_json::to_vec(&pickle).unwrap_or_default();
        key.seal(nonce, PICKLE_CONTEXT, &plain)
    }

    /// The state [`Ratchet::seal_state`] sealed under `key`.
    pub fn unseal(sealed: &[u8], key: &SpaceKey) -> Result<Self> {
        let plain = key
            .open(PICKLE_CONTEXT, sealed)
            .map_err(|e| RatchetError::Open(e.to_string()))?;
        let p: Pickle = serde_json::from_slice(&plain).map_err(malformed)?;
        Ok(Self {
            account: Account::from_pickle(p.account),
            outbound: p
                .outbound
                .into_iter()
                .map(|(s, g, with, started_at)| {
                    (
                        s,
                        Outbound {
                            session: GroupSession::from_pickle(g),
                            shared_with: with.into_iter().collect(),
                            started_at,
                        },
                    )
                })
                .collect(),
            inbound: p
                .inbound
                .into_iter()
                .map(|(s, d, id, i)| ((s, d, id), InboundGroupSession::from_pickle(i)))
                .collect(),
            used: p.used,
            taken: p.taken.into_iter().collect(),
            spent: p.spent,
        })
    }
}

#[cfg(test)]
mod tests;
