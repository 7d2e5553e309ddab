//! The facade the CLI and the app use: a device profile on disk, with its
//! keys and store, and the operations a person performs.
//!
//! This is the I/O edge of the engine: it reads the clock, draws random
//! nonces and keys, and touches files. Everything below it is pure or
//! confined to the store.

use std::fs;
use std::path::{Path, PathBuf};

use crate::crypto::SpaceKey;
use crate::doc::{DocError, ProfileUpdate};
use crate::entry::Entry;
use crate::id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
use crate::identity::{DeviceCert, DeviceKey, IdentityKey};
use crate::record::{ImageRef, MAX_ALT_LEN, MAX_IMAGES, MAX_TEXT_LEN, Post, Record};
use crate::space::{SpaceKind, account_space_id, feed_space_id};
use crate::store::{ImportReport, LogHead, Page, PostView, ProfileView, Store, StoreError};
use crate::ticket::{FeedTicket, Ticket, TicketError};

mod device_keys;
mod devices;
mod direct;
mod group;
mod home_lock;
mod keyring;
mod recovery;
mod rotation;
pub mod secrets;
pub use devices::LINK_VALID_MS;
pub use group::INVITE_VALID_MS;
pub use home_lock::{HomeLock, LOCK_FILE};

/// Largest image accepted for a post or avatar, in bytes.
pub const MAX_IMAGE_LEN: usize = 5 * 1024 * 1024;
/// Largest sealed image: [`MAX_IMAGE_LEN`] with the blob header, nonce
/// and tag. A fetch never takes more than this, or than its post declared.
pub const MAX_SEALED_IMAGE_LEN: u32 =
    (MAX_IMAGE_LEN + BLOB_HEADER_LEN + crate::crypto::SEAL_OVERHEAD) as u32;
/// A sealed blob starts with this and its key epoch (u32, little endian).
const BLOB_MAGIC: &[u8; 3] = b"SB\x02";
const BLOB_HEADER_LEN: usize = 7;
const DB_FILE: &str = "starling.db";
const BLOB_CONTEXT: &[u8] = b"starling/blob/v1\0";

/// A node operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// `init` on a home that already has an identity.
    #[error("{0} already holds a Starling identity")]
    AlreadyInitialized(PathBuf),
    /// A command that needs an identity on a home without one.
    #[error("no Starling identity in {0}; run `starling init --name NAME` first")]
    NotInitialized(PathBuf),
    /// A file could not be read or written.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A key file is damaged.
    #[error("key file {0} is damaged")]
    BadKeyFile(PathBuf),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A ticket did not parse.
    #[error(transparent)]
    Ticket(#[from] TicketError),
    /// A document edit was refused.
    #[error(transparent)]
    Doc(#[from] DocError),
    /// The input breaks a rule (empty post, text too long, not an image…).
    #[error("{0}")]
    Invalid(String),
    /// The rules do not let this identity do it (not the group's owner,
    /// not a member…).
    #[error("{0}")]
    NotAllowed(String),
    /// The post is not in this store.
    #[error("post {0} not found")]
    PostNotFound(EntryId),
    /// Editing or deleting someone else's post.
    #[error("post {0} is not yours: only its author can edit or delete it")]
    NotYours(EntryId),
    /// The system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
    /// The OS keychain did not keep or give back a secret.
    #[error("the keychain: {0}")]
    Keychain(String),
    /// Only a device that holds the identity key may do this.
    #[error(
        "this device does not hold your identity key: do this on a trusted device (the first one, one linked as trusted, or one recovered from the phrase)"
    )]
    NotTrusted,
    /// Another process runs this home's network.
    #[error(
        "{holder} runs the network for {home}: stop it first, or let it send what you write here"
    )]
    InUse {
        /// The home.
        home: PathBuf,
        /// Which process holds it (as it described itself).
        holder: String,
    },
}

impl NodeError {
    /// The error as a command returns it: a kind to branch on and the
    /// message.
    pub fn view(&self) -> crate::view::ErrorView {
        use crate::view::ErrorKind as K;
        let kind = match self {
            NodeError::Store(e) => return e.view(),
            NodeError::AlreadyInitialized(_) => K::AlreadyExists,
            NodeError::NotInitialized(_) => K::NoIdentity,
            NodeError::Io { .. }
            | NodeError::BadKeyFile(_)
            | NodeError::Random(_)
            | NodeError::Keychain(_) => K::Storage,
            NodeError::Ticket(_) | NodeError::Doc(_) | NodeError::Invalid(_) => K::Invalid,
            NodeError::NotAllowed(_) | NodeError::NotYours(_) | NodeError::NotTrusted => {
                K::NotAllowed
            }
            NodeError::PostNotFound(_) => K::NotFound,
            NodeError::InUse { .. } => K::InUse,
        };
        crate::view::ErrorView::new(kind, self)
    }
}

type Result<T, E = NodeError> = std::result::Result<T, E>;

/// A new post.
#[derive(Debug, Clone, Default)]
pub struct NewPost {
    /// Text (may be empty when there is an image).
    pub text: String,
    /// The post it replies to.
    pub reply_to: Option<EntryId>,
    /// The post it quotes.
    pub quote_of: Option<EntryId>,
    /// Images: raw bytes of PNG, JPEG, GIF or WebP files.
    pub images: Vec<Vec<u8>>,
    /// What each image shows, in words (alt text), in the order of
    /// `images`; missing or empty: not described.
    pub alts: Vec<String>,
    /// The group to post in (a reply goes where the post it answers is).
    pub group: Option<SpaceId>,
}

/// Who an export is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Anyone: every feed held here, never the private account space.
    Anyone,
    /// A given identity; when it is this user (another of their devices,
    /// or a backup), the account space is included.
    Identity(IdentityId),
}

use crate::view::{TrendingTag, WhoAmI};

/// What a new home is made from.
pub(crate) struct HomeKeys {
    pub(crate) identity: IdentityId,
    pub(crate) identity_key: Option<IdentityKey>,
    pub(crate) device: DeviceKey,
    /// The identity's certificate for `device`.
    pub(crate) cert: DeviceCert,
    pub(crate) feed_key: SpaceKey,
    /// The account space's keys by epoch (epoch 0 among them).
    pub(crate) account_keys: Vec<(u32, SpaceKey)>,
}

/// A device profile: keys and store.
#[derive(Debug)]
pub struct Node {
    /// The profile folder.
    home: PathBuf,
    store: Store,
    identity: IdentityId,
    /// Signs device certificates and revocations; as X25519, unwraps group
    /// keys. Held only by the first device, a recovered one and devices
    /// linked as trusted.
    identity_key: Option<IdentityKey>,
    device: DeviceKey,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> NodeError + '_ {
    move |e| NodeError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| NodeError::Random(e.to_string()))?;
    Ok(b)
}

/// 32 fresh random bytes (a new device key's secret, say).
pub fn fresh_secret() -> Result<[u8; 32]> {
    random()
}

/// Milliseconds since the Unix epoch, by the system clock.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The entry that follows `head` in this device's log: the next seq, naming
/// the head, with a timestamp that never goes backwards.
fn next_entry(
    device: &DeviceKey,
    space: &SpaceId,
    head: Option<LogHead>,
    (key, epoch): (&SpaceKey, u32),
    now: u64,
    nonce: [u8; 24],
    plain: &[u8],
) -> Entry {
    let (seq, prev, ts) = match head {
        // Strictly after the previous entry, so a device's own posts keep the
        // order it made them in even within one millisecond.
        Some(h) => (
            h.seq + 1,
            Some(h.id),
            now.max(h.timestamp.saturating_add(1)),
        ),
        None => (1, None, now),
    };
    Entry::create(device, *space, seq, prev, ts, epoch, key, nonce, plain)
}

/// The associated data a blob of `space` is sealed with (blobs sealed
/// before they named their epoch have none).
fn blob_context(space: &SpaceId, epoch: Option<u32>) -> Vec<u8> {
    let mut aad = BLOB_CONTEXT.to_vec();
    aad.extend_from_slice(space.as_bytes());
    if let Some(e) = epoch {
        aad.extend_from_slice(&e.to_le_bytes());
    }
    aad
}

fn image_mime(bytes: &[u8]) -> Result<&'static str> {
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Png) => Ok("image/png"),
        Ok(image::ImageFormat::Jpeg) => Ok("image/jpeg"),
        Ok(image::ImageFormat::Gif) => Ok("image/gif"),
        Ok(image::ImageFormat::WebP) => Ok("image/webp"),
        _ => Err(NodeError::Invalid(
            "not a supported image (PNG, JPEG, GIF or WebP)".into(),
        )),
    }
}

impl Node {
    /// Whether `home` holds an identity.
    pub fn exists(home: &Path) -> bool {
        secrets::exist(home)
    }

    /// Creates a new identity and device in `home`, named `name`.
    pub fn init(home: &Path, name: &str) -> Result<Self> {
        if name.trim().is_empty() {
            return Err(NodeError::Invalid("a name must not be empty".into()));
        }
        let identity_key = IdentityKey::from_secret_bytes(random()?);
        // The phrase alone finds the feed and the account again.
        let keys = crate::backup::derived_keys(&identity_key);
        Self::create(home, identity_key, keys, |node| {
            node.set_profile(
                ProfileUpdate {
                    name: Some(name.trim().to_string()),
                    ..Default::default()
                },
                None,
            )?;
            Ok(())
        })
    }

    /// Makes a home for `identity_key` with a new device: its feed and
    /// account spaces with `(feed, account)` keys and this device's
    /// certificate in each; `then` runs before the key files are written.
    fn create(
        home: &Path,
        identity_key: IdentityKey,
        keys: (SpaceKey, SpaceKey),
        then: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<Self> {
        let device = DeviceKey::from_secret_bytes(random()?);
        Self::create_with(home, identity_key, device, keys, then)
    }

    /// [`Node::create`] with a given device key.
    fn create_with(
        home: &Path,
        identity_key: IdentityKey,
        device: DeviceKey,
        (feed_key, account_key): (SpaceKey, SpaceKey),
        then: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<Self> {
        let cert = DeviceCert::issue(&identity_key, device.id(), now_ms());
        let home_keys = HomeKeys {
            identity: identity_key.id(),
            identity_key: Some(identity_key),
            device,
            cert,
            feed_key,
            account_keys: vec![(0, account_key)],
        };
        Self::create_home(home, home_keys, then)
    }

    /// Makes a home from its keys: the feed and account spaces, the
    /// device's certificate in each, `then`, and the secrets last.
    fn create_home(
        home: &Path,
        keys: HomeKeys,
        then: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<Self> {
        let HomeKeys {
            identity,
            identity_key,
            device,
            cert,
            feed_key,
            account_keys,
        } = keys;
        if cert.identity != identity || cert.device != device.id() || cert.verify().is_err() {
            return Err(NodeError::Invalid(
                "the device certificate does not name this identity and device".into(),
            ));
        }
        let Some((_, account_key)) = account_keys.iter().find(|(e, _)| *e == 0).cloned() else {
            return Err(NodeError::Invalid(
                "the account's first key is missing".into(),
            ));
        };
        if Self::exists(home) {
            return Err(NodeError::AlreadyInitialized(home.to_path_buf()));
        }
        fs::create_dir_all(home).map_err(io_err(home))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(home, fs::Permissions::from_mode(0o700)).map_err(io_err(home))?;
        }
        let store = Store::open(&home.join(DB_FILE))?;
        store.set_meta("self", identity.as_bytes())?;
        store.set_self(&identity)?;
        let mut node = Self {
            home: home.to_path_buf(),
            store,
            identity,
            identity_key: identity_key.clone(),
            device,
        };
        node.store
            .set_keys(identity_key.clone(), node.device.clone());
        let account = account_space_id(&identity);
        for (space, kind, key) in [
            (feed_space_id(&identity), SpaceKind::Feed, feed_key),
            (account, SpaceKind::Account, account_key),
        ] {
            node.store.add_space(&space, kind, &identity, &key)?;
        }
        let later: Vec<_> = account_keys.into_iter().filter(|(e, _)| *e > 0).collect();
        if !later.is_empty() {
            node.store.add_epoch_keys(&account, &later)?;
        }
        for space in [feed_space_id(&identity), account] {
            node.append(&space, Record::DeviceCert(cert.clone()))?;
        }
        then(&mut node)?;
        node.publish_device_keys()?;
        // Keys last: a crash before this leaves a home that `init` can redo.
        let mut kept = vec![(secrets::Secret::Device, node.device.secret_bytes())];
        if let Some(k) = &identity_key {
            kept.push((secrets::Secret::Identity, k.secret_bytes()));
        }
        secrets::keep(home, secrets::KeychainChoice::from_env(), &kept)?;
        Ok(node)
    }

    /// Opens the profile in `home`.
    pub fn open(home: &Path) -> Result<Self> {
        if !secrets::exist(home) {
            return Err(NodeError::NotInitialized(home.to_path_buf()));
        }
        if secrets::KeychainChoice::from_env() == secrets::KeychainChoice::On {
            secrets::move_to_keychain(home)?;
        }
        let missing = || NodeError::NotInitialized(home.to_path_buf());
        // A device linked without trust holds no identity key: its
        // identity is the one its store names.
        let identity_key =
            secrets::read(home, secrets::Secret::Identity)?.map(IdentityKey::from_secret_bytes);
        let device = DeviceKey::from_secret_bytes(
            secrets::read(home, secrets::Secret::Device)?.ok_or_else(missing)?,
        );
        let mut store = Store::open(&home.join(DB_FILE))?;
        let identity = match store.meta("self")? {
            Some(b) => IdentityId(<[u8; 32]>::try_from(b.as_slice()).map_err(|_| missing())?),
            None => return Err(missing()),
        };
        if identity_key.as_ref().is_some_and(|k| k.id() != identity) {
            return Err(NodeError::Invalid(
                "the identity key in this home is not the identity its store names".into(),
            ));
        }
        store.set_keys(identity_key.clone(), device.clone());
        let mut node = Self {
            home: home.to_path_buf(),
            store,
            identity,
            identity_key,
            device,
        };
        // A home made before forward-secret messages: its device publishes
        // its keys once.
        if node.store.device_keys(&node.device())?.is_none() {
            node.publish_device_keys()?;
        }
        Ok(node)
    }

    /// The profile folder this node lives in.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The store's database file (for a second connection that reads
    /// without holding this node, as the storage check plans).
    pub fn store_path(&self) -> PathBuf {
        self.home.join(DB_FILE)
    }

    /// Whether this device holds the identity key (the first device, a
    /// recovered one, or one linked as trusted): only such a device shows
    /// the phrase, revokes devices and links trusted ones.
    pub fn holds_identity_key(&self) -> bool {
        self.identity_key.is_some()
    }

    /// The identity key, or a clear error on a device without it.
    pub(crate) fn identity_key(&self) -> Result<&IdentityKey> {
        self.identity_key.as_ref().ok_or(NodeError::NotTrusted)
    }

    /// The store (for queries and maintenance).
    pub fn store(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The store, read only.
    pub fn store_ref(&self) -> &Store {
        &self.store
    }

    /// The device's secret key bytes (its iroh endpoint key).
    pub(crate) fn device_secret(&self) -> [u8; 32] {
        self.device.secret_bytes()
    }

    /// Records where this device can be reached (addresses it listens on,
    /// its home relay), for its tickets.
    pub fn set_reachable_at(&mut self, at: &crate::ticket::PeerAddr) -> Result<()> {
        Ok(self.store.set_meta("listen_addrs", &at.encode_reach())?)
    }

    /// This identity.
    pub fn identity(&self) -> IdentityId {
        self.identity
    }

    /// This device.
    pub fn device(&self) -> DeviceId {
        self.device.id()
    }

    fn feed(&self) -> SpaceId {
        feed_space_id(&self.identity)
    }

    fn account(&self) -> SpaceId {
        account_space_id(&self.identity)
    }

    fn append(&mut self, space: &SpaceId, record: Record) -> Result<Entry> {
        // A former member's store would keep what they write (hidden, like
        // anything written past a removal): say no instead. Joining is how
        // one gets in.
        let joining = matches!(
            record,
            Record::DeviceCert(_) | Record::Group(crate::membership::GroupOp::Join { .. })
        );
        if !joining
            && self.store.space_kind(space)? == Some(SpaceKind::Group)
            && !self
                .store
                .group_membership(space)?
                .is_member(&self.identity)
        {
            return Err(NodeError::NotAllowed(
                "you are no longer a member of this group".into(),
            ));
        }
        let now = now_ms();
        let device = self.device.clone();
        if record.may_be_ratcheted()
            && matches!(
                self.store.space_kind(space)?,
                Some(SpaceKind::Group | SpaceKind::Direct)
            )
        {
            // Sealed by this device's sender session too (forward secret):
            // at most a session key share and the message.
            // One fresh seed; each entry's nonce is keyed from it and the
            // entry's place in this append (a large group's shares take
            // several entries).
            let seed: [u8; 32] = random()?;
            let mut made: u64 = 0;
            return Ok(self.store.append_ratcheted(
                space,
                &self.identity,
                &record,
                now,
                |head, key, epoch, plain| {
                    let hash = blake3::keyed_hash(&seed, &made.to_le_bytes());
                    let mut nonce = [0u8; 24];
                    nonce.copy_from_slice(&hash.as_bytes()[..24]);
                    made += 1;
                    next_entry(&device, space, head, (key, epoch), now, nonce, plain)
                },
            )?);
        }
        let seal = self.seal_for(space, &record)?;
        let nonce = random()?;
        let plain = record.encode();
        let e = self
            .store
            .append(space, &device.id(), seal, |head, key, epoch| {
                next_entry(&device, space, head, (key, epoch), now, nonce, &plain)
            })?;
        Ok(e)
    }

    /// In a group, what every member must be able to check — who joined,
    /// left or was removed, the certificates that open logs, the group's
    /// name — is sealed with epoch 0 (see [`crate::store::Seal`]); the rest
    /// with the newest key.
    fn seal_for(&self, space: &SpaceId, record: &Record) -> Result<crate::store::Seal> {
        let metadata = matches!(
            record,
            Record::DeviceCert(_) | Record::Group(_) | Record::DocChange(_)
        );
        Ok(
            if metadata && self.store.space_kind(space)? == Some(SpaceKind::Group) {
                crate::store::Seal::First
            } else {
                crate::store::Seal::Newest
            },
        )
    }

    /// Applies an edit to a space's document and appends the change.
    /// Changes the account document (follows, mutes, blocks) and, if it
    /// changed, backs the account up in the feed.
    fn change_account(
        &mut self,
        edit: impl FnOnce(&mut crate::doc::Doc, &DeviceId, u64) -> Result<Option<Vec<u8>>, DocError>,
    ) -> Result<bool> {
        let account = self.account();
        let changed = self.change_doc(&account, edit)?;
        if changed {
            self.back_up_account()?;
        }
        Ok(changed)
    }

    fn change_doc(
        &mut self,
        space: &SpaceId,
        edit: impl FnOnce(&mut crate::doc::Doc, &DeviceId, u64) -> Result<Option<Vec<u8>>, DocError>,
    ) -> Result<bool> {
        let seal = self.seal_for(space, &Record::DocChange(Vec::new()))?;
        let nonce = random()?;
        let now = now_ms();
        let device = self.device.clone();
        let made = self.store.append_change(
            space,
            &device.id(),
            seal,
            |doc| edit(doc, &device.id(), now),
            |head, key, epoch, plain| {
                next_entry(&device, space, head, (key, epoch), now, nonce, plain)
            },
        )?;
        Ok(made.is_some())
    }

    /// Seals an image for `space` with the key new entries are sealed with
    /// (a group's current epoch: a removed member cannot open it) and
    /// keeps it.
    fn seal_blob(&mut self, space: &SpaceId, bytes: &[u8]) -> Result<ImageRef> {
        if bytes.len() > MAX_IMAGE_LEN {
            return Err(NodeError::Invalid(format!(
                "image is {} bytes, at most {MAX_IMAGE_LEN}",
                bytes.len()
            )));
        }
        let mime = image_mime(bytes)?;
        // No GPS position, camera serial or hidden preview leaves this
        // device inside a photo.
        let cleaned =
            crate::photo::strip_metadata(bytes).map_err(|e| NodeError::Invalid(e.to_string()))?;
        let bytes = cleaned.as_slice();
        let space = *space;
        let (epoch, key) = self
            .store
            .sealing_key(&space)?
            .ok_or_else(|| StoreError::NoKey(space.fmt_short()))?;
        let mut sealed = BLOB_MAGIC.to_vec();
        sealed.extend_from_slice(&epoch.to_le_bytes());
        sealed.extend_from_slice(&key.seal(random()?, &blob_context(&space, Some(epoch)), bytes));
        let hash = Hash::of(&sealed);
        self.store.put_blob(&space, &hash, &sealed)?;
        Ok(ImageRef {
            hash,
            len: sealed.len() as u32,
            mime: mime.to_string(),
            alt: String::new(),
        })
    }

    /// Opens a sealed blob (an image or avatar) of `owner`'s feed, or of
    /// the group it was posted in, with the key of the epoch it names.
    pub fn open_blob(&mut self, owner: &IdentityId, hash: &Hash) -> Result<Option<Vec<u8>>> {
        let Some(sealed) = self.store.blob(hash)? else {
            // Evicted from the media cache: shown again once fetched.
            self.store.want_evicted(hash)?;
            return Ok(None);
        };
        // The space it was stored for, and the owner's feed (where someone
        // else's post named the same image first, it is kept under theirs).
        let mut spaces = vec![feed_space_id(owner)];
        if let Some(s) = self.store.blob_space(hash)? {
            spaces.insert(0, s);
        }
        for space in spaces {
            if let Some(plain) = self.open_blob_in(&space, &sealed)? {
                return Ok(Some(plain));
            }
        }
        Ok(None)
    }

    fn open_blob_in(&mut self, space: &SpaceId, sealed: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(rest) = sealed.strip_prefix(BLOB_MAGIC.as_slice())
            && rest.len() >= 4
        {
            let (epoch, body) = rest.split_at(4);
            let epoch = u32::from_le_bytes([epoch[0], epoch[1], epoch[2], epoch[3]]);
            let aad = blob_context(space, Some(epoch));
            for key in self.store.epoch_keys(space, epoch)? {
                if let Ok(plain) = key.open(&aad, body) {
                    return Ok(Some(plain));
                }
            }
        }
        // Images sealed before blobs named their epoch: epoch 0.
        let Some(key) = self.store.space_key(space, 0)? else {
            return Ok(None);
        };
        Ok(key.open(&blob_context(space, None), sealed).ok())
    }

    fn require_post(&mut self, id: &EntryId) -> Result<PostView> {
        self.store.post(id)?.ok_or(NodeError::PostNotFound(*id))
    }

    /// Publishes a post; returns its id.
    pub fn post(&mut self, new: NewPost) -> Result<EntryId> {
        if new.text.len() > MAX_TEXT_LEN {
            return Err(NodeError::Invalid(format!(
                "post text is {} bytes, at most {MAX_TEXT_LEN}",
                new.text.len()
            )));
        }
        if new.text.trim().is_empty() && new.images.is_empty() {
            return Err(NodeError::Invalid("a post needs text or an image".into()));
        }
        if new.images.len() > MAX_IMAGES {
            return Err(NodeError::Invalid(format!(
                "at most {MAX_IMAGES} images per post"
            )));
        }
        if new.alts.len() > new.images.len() {
            return Err(NodeError::Invalid(
                "more image descriptions than images".into(),
            ));
        }
        if let Some(a) = new.alts.iter().find(|a| a.len() > MAX_ALT_LEN) {
            return Err(NodeError::Invalid(format!(
                "an image description is {} bytes, at most {MAX_ALT_LEN}",
                a.len()
            )));
        }
        for target in [new.reply_to, new.quote_of].into_iter().flatten() {
            self.require_post(&target)?;
        }
        let mut space = match new.group {
            Some(g) => {
                self.group(&g)?;
                g
            }
            None => self.feed(),
        };
        if let Some(target) = &new.reply_to {
            let theirs = self.space_for(target)?;
            if theirs != self.feed() || new.group.is_some() {
                if new.group.is_some_and(|g| g != theirs) {
                    return Err(NodeError::Invalid(
                        "a reply goes in the space of the post it answers".into(),
                    ));
                }
                space = theirs;
            }
        }
        let mut images = new
            .images
            .iter()
            .map(|b| self.seal_blob(&space, b))
            .collect::<Result<Vec<_>>>()?;
        for (image, alt) in images.iter_mut().zip(new.alts) {
            image.alt = alt.trim().to_string();
        }
        let e = self.append(
            &space,
            Record::Post(Post {
                text: new.text,
                reply_to: new.reply_to,
                quote_of: new.quote_of,
                images,
            }),
        )?;
        Ok(e.id())
    }

    /// Likes a post (in the group it was posted in, if any).
    pub fn like(&mut self, target: &EntryId) -> Result<EntryId> {
        self.require_post(target)?;
        let space = self.space_for(target)?;
        Ok(self.append(&space, Record::Like { target: *target })?.id())
    }

    /// Reposts a post.
    pub fn repost(&mut self, target: &EntryId) -> Result<EntryId> {
        self.require_post(target)?;
        let feed = self.feed();
        if matches!(
            self.store.space_of_entry(target)?,
            Some((_, Some(SpaceKind::Group | SpaceKind::Direct)))
        ) {
            return Err(NodeError::NotAllowed(
                "a group's or conversation's posts stay there: they cannot be reposted".into(),
            ));
        }
        Ok(self.append(&feed, Record::Repost { target: *target })?.id())
    }

    /// Takes back this identity's like of a post (made on any of its
    /// devices). Returns false when it was not liked.
    pub fn unlike(&mut self, target: &EntryId) -> Result<bool> {
        let post = self.require_post(target)?;
        if !post.liked_by_me {
            return Ok(false);
        }
        let space = self.space_for(target)?;
        self.append(&space, Record::Unlike { target: *target })?;
        Ok(true)
    }

    /// Takes back this identity's repost of a post. Returns false when it
    /// was not reposted.
    pub fn unrepost(&mut self, target: &EntryId) -> Result<bool> {
        let post = self.require_post(target)?;
        if !post.reposted_by_me {
            return Ok(false);
        }
        let feed = self.feed();
        self.append(&feed, Record::Unrepost { target: *target })?;
        Ok(true)
    }

    /// Where reactions to `target` go: the group it was posted in, or this
    /// user's feed.
    /// Where a like, edit, delete or reply of `target` goes: the group or
    /// conversation it was said in (never out of it: an edit of a direct
    /// message written to the feed would show it to every follower; this
    /// device's log there is opened first if it has none), or this
    /// identity's feed for a feed post.
    fn space_for(&mut self, target: &EntryId) -> Result<SpaceId> {
        Ok(match self.store.space_of_entry(target)? {
            Some((space, Some(SpaceKind::Group | SpaceKind::Direct))) => {
                self.open_log(&space)?;
                space
            }
            _ => self.feed(),
        })
    }

    fn require_own(&mut self, target: &EntryId) -> Result<()> {
        let p = self.require_post(target)?;
        if p.author != self.identity {
            return Err(NodeError::NotYours(*target));
        }
        Ok(())
    }

    /// Replaces the text of one of this user's posts.
    pub fn edit(&mut self, target: &EntryId, text: &str) -> Result<EntryId> {
        if text.len() > MAX_TEXT_LEN {
            return Err(NodeError::Invalid(format!(
                "text is {} bytes, at most {MAX_TEXT_LEN}",
                text.len()
            )));
        }
        self.require_own(target)?;
        let space = self.space_for(target)?;
        Ok(self
            .append(
                &space,
                Record::Edit {
                    target: *target,
                    text: text.to_string(),
                },
            )?
            .id())
    }

    /// Deletes one of this user's posts; its payload is dropped from the store.
    pub fn delete(&mut self, target: &EntryId) -> Result<EntryId> {
        self.require_own(target)?;
        let space = self.space_for(target)?;
        let id = self
            .append(&space, Record::Delete { target: *target })?
            .id();
        // The post's bytes are zeroed in the database; out of the WAL too.
        self.store.scrub()?;
        Ok(id)
    }

    /// Updates this user's profile; `avatar` is an image file's bytes.
    pub fn set_profile(
        &mut self,
        mut update: ProfileUpdate,
        avatar: Option<&[u8]>,
    ) -> Result<bool> {
        if let Some(bytes) = avatar {
            let feed = self.feed();
            update.avatar = Some(self.seal_blob(&feed, bytes)?.hash);
        }
        let feed = self.feed();
        self.change_doc(&feed, |doc, dev, now| doc.update_profile(dev, &update, now))
    }

    /// A profile as known here.
    pub fn profile(&mut self, identity: Option<&IdentityId>) -> Result<ProfileView> {
        let id = identity.copied().unwrap_or(self.identity);
        Ok(self.store.profile(&id)?)
    }

    /// Who to follow: people those followed here follow publicly.
    pub fn suggestions(&mut self, limit: usize) -> Result<Vec<crate::view::Suggestion>> {
        Ok(self.store.suggestions(limit)?)
    }

    /// The tags the people followed here used most this past week.
    pub fn trending_tags(&mut self, limit: usize) -> Result<Vec<TrendingTag>> {
        const WEEK_MS: u64 = 7 * 24 * 3600 * 1000;
        Ok(self
            .store
            .trending_tags(now_ms().saturating_sub(WEEK_MS), limit)?)
    }

    /// The profile of whoever goes by `name` here (for a mention: this
    /// identity first, then someone followed), if anyone does.
    pub fn profile_named(&mut self, name: &str) -> Result<Option<ProfileView>> {
        match self.store.identity_named(name)? {
            Some(id) => Ok(Some(self.store.profile(&id)?)),
            None => Ok(None),
        }
    }

    /// Who this is.
    pub fn whoami(&mut self) -> Result<WhoAmI> {
        Ok(WhoAmI {
            identity: self.identity,
            device: self.device(),
            name: self.store.profile(&self.identity)?.name,
        })
    }

    /// This user's feed ticket.
    pub fn ticket(&mut self) -> Result<Ticket> {
        let feed = self.feed();
        let key = self
            .store
            .space_key(&feed, 0)?
            .ok_or_else(|| StoreError::NoKey(feed.fmt_short()))?;
        let reach = self.store.meta("listen_addrs")?.unwrap_or_default();
        Ok(Ticket::Feed(FeedTicket {
            identity: self.identity,
            key: key.to_bytes(),
            peer: Some(crate::ticket::PeerAddr::decode_reach(self.device(), &reach)),
        }))
    }

    /// Follows the feed a ticket names. Returns the identity followed.
    pub fn follow(&mut self, ticket: &Ticket) -> Result<IdentityId> {
        let t = match ticket {
            Ticket::Feed(t) => t,
            Ticket::Group(_) => {
                return Err(NodeError::Invalid(
                    "that is a group invite: join it with `group join`".into(),
                ));
            }
            _ => {
                return Err(NodeError::Invalid(
                    "that is a device link ticket: use it with `device join` on the new device"
                        .into(),
                ));
            }
        };
        if t.identity == self.identity {
            return Err(NodeError::Invalid("that is your own ticket".into()));
        }
        let key = t.space_key();
        let who = t.identity;
        if let Some(peer) = &t.peer {
            self.store.add_peer(peer)?;
            self.store.introduce_peer(&peer.device)?;
        }
        self.change_account(|doc, dev, now| Ok(doc.follow(dev, &who, &key, now)))?;
        // Their direct messages to this identity sync from now on.
        self.open_conversation(&who)?;
        self.publish_follows()?;
        Ok(who)
    }

    /// Follows `identity` again, or someone this device already reads (met
    /// in a group, a repost or an earlier follow), by the key held here.
    pub fn follow_known(&mut self, identity: &IdentityId) -> Result<IdentityId> {
        let Some(key) = self.store.space_key(&feed_space_id(identity), 0)? else {
            return Err(NodeError::Invalid(format!(
                "no key for {}'s posts here: follow them by their ticket or QR code",
                identity.fmt_short()
            )));
        };
        self.follow(&Ticket::Feed(FeedTicket {
            identity: *identity,
            key: key.to_bytes(),
            peer: None,
        }))
    }

    /// Stops following `identity`. Returns whether it was followed.
    pub fn unfollow(&mut self, identity: &IdentityId) -> Result<bool> {
        let changed = self.change_account(|doc, dev, now| Ok(doc.unfollow(dev, identity, now)))?;
        self.publish_follows()?;
        Ok(changed)
    }

    /// Whether this identity shows whom it follows (to those who read
    /// its feed: its followers).
    pub fn show_follows(&self) -> Result<bool> {
        Ok(self.store.doc(&self.account())?.account().show_follows)
    }

    /// Shows (or stops showing) whom this identity follows: its feed then
    /// carries its follow list ([`Record::Follows`]), written again at
    /// each follow and unfollow; turned off, an empty list takes it back.
    pub fn set_show_follows(&mut self, on: bool) -> Result<bool> {
        let changed =
            self.change_account(|doc, dev, now| Ok(doc.set_show_follows(dev, on, now)))?;
        self.publish_follows()?;
        Ok(changed)
    }

    /// Writes this identity's public follow list when it differs from the
    /// newest one in its feed: whom it follows while it shows them, none
    /// (once one was written) while it does not.
    fn publish_follows(&mut self) -> Result<()> {
        let account = self.store.doc(&self.account())?.account();
        let mut list: Vec<IdentityId> = if account.show_follows {
            account
                .follows
                .iter()
                .map(|(id, _)| *id)
                .filter(|id| !account.blocks.contains(id))
                .take(crate::record::MAX_PUBLIC_FOLLOWS)
                .collect()
        } else {
            Vec::new()
        };
        list.sort();
        let me = self.identity;
        let current = self.store.public_follows_of(&me)?;
        let needed = if account.show_follows {
            current != list || !self.store.has_follow_list(&me)?
        } else {
            !current.is_empty()
        };
        if !needed {
            return Ok(());
        }
        let feed = self.feed();
        self.append(&feed, Record::Follows(list))?;
        Ok(())
    }

    /// Mutes `identity`: their posts leave the timeline, search and threads.
    pub fn mute(&mut self, identity: &IdentityId) -> Result<bool> {
        if *identity == self.identity {
            return Err(NodeError::Invalid("you cannot mute yourself".into()));
        }
        self.change_account(|doc, dev, now| Ok(doc.mute(dev, identity, now)))
    }

    /// Drops what this device holds of `identity`'s feed, once it is no
    /// longer followed (see [`Store::drop_feed`]): kept, and said why,
    /// while a group or conversation needs it.
    pub fn drop_feed(&mut self, identity: &IdentityId) -> Result<crate::view::FeedDropped> {
        Ok(self.store.drop_feed(identity)?)
    }

    /// Blocks `identity`: hidden everywhere (timeline, search, threads,
    /// groups, messages), no longer followed nor served to peers, and what
    /// this device holds of them dropped at once (their posts elsewhere
    /// keep their headers only).
    pub fn block(&mut self, identity: &IdentityId) -> Result<bool> {
        if *identity == self.identity {
            return Err(NodeError::Invalid("you cannot block yourself".into()));
        }
        let changed = self.change_account(|doc, dev, now| Ok(doc.block(dev, identity, now)))?;
        self.change_account(|doc, dev, now| Ok(doc.unfollow(dev, identity, now)))?;
        self.store.drop_blocked()?;
        self.publish_follows()?;
        Ok(changed)
    }

    /// What the store holds, by kind and by author, and its budgets.
    pub fn storage(&mut self) -> Result<crate::view::Storage> {
        Ok(self.store.storage()?)
    }

    /// Sets the storage budgets and keeps to them now.
    pub fn set_budgets(&mut self, budgets: &crate::view::Budgets) -> Result<crate::view::Evicted> {
        self.store.set_budgets(budgets)?;
        self.check_storage()
    }

    /// Keeps the store within its budgets now, in one go (a running node
    /// does it by itself, a chunk at a time).
    pub fn check_storage(&mut self) -> Result<crate::view::Evicted> {
        let budgets = self.store.budgets()?;
        Ok(self.store.enforce_budgets(now_ms(), &budgets)?)
    }

    /// Unblocks `identity`.
    pub fn unblock(&mut self, identity: &IdentityId) -> Result<bool> {
        self.change_account(|doc, dev, now| Ok(doc.unblock(dev, identity, now)))
    }

    /// Unmutes `identity`.
    pub fn unmute(&mut self, identity: &IdentityId) -> Result<bool> {
        self.change_account(|doc, dev, now| Ok(doc.unmute(dev, identity, now)))
    }

    /// Bookmarks a post held here: private, kept in the account (so this
    /// identity's other devices have it too). At most
    /// [`crate::doc::MAX_BOOKMARKS`]; `false` when it already was.
    pub fn bookmark(&mut self, post: &EntryId) -> Result<bool> {
        self.require_post(post)?;
        let held = self.bookmark_ids()?;
        if held.contains(post) {
            return Ok(false);
        }
        if held.len() >= crate::doc::MAX_BOOKMARKS {
            return Err(NodeError::Invalid(format!(
                "at most {} bookmarks: take some back first",
                crate::doc::MAX_BOOKMARKS
            )));
        }
        self.change_account(|doc, dev, now| Ok(doc.bookmark(dev, post, now)))
    }

    /// Takes a post out of the bookmarks (held here or not); `false` when
    /// it was not bookmarked.
    pub fn unbookmark(&mut self, post: &EntryId) -> Result<bool> {
        self.change_account(|doc, dev, now| Ok(doc.unbookmark(dev, post, now)))
    }

    /// The bookmarked posts' ids, newest bookmark first.
    pub fn bookmark_ids(&self) -> Result<Vec<EntryId>> {
        let account = self.store.doc(&self.account())?.account();
        Ok(account.bookmarks.into_iter().map(|(id, _)| id).collect())
    }

    /// The bookmarked posts held here, newest bookmark first (a post
    /// deleted or dropped since is left out, its bookmark kept).
    pub fn bookmarks(&mut self, limit: usize) -> Result<Vec<PostView>> {
        let mut posts = Vec::new();
        for id in self.bookmark_ids()? {
            if posts.len() >= limit {
                break;
            }
            if let Some(p) = self.store.post(&id)? {
                posts.push(p);
            }
        }
        Ok(posts)
    }

    /// The home timeline.
    pub fn timeline(&mut self, limit: usize, before: Option<&str>) -> Result<Page> {
        Ok(self.store.timeline(limit, before)?)
    }

    /// A thread around a post.
    pub fn thread(&mut self, id: &EntryId) -> Result<Vec<PostView>> {
        match self.store.thread(id) {
            Err(StoreError::PostNotFound(_)) => Err(NodeError::PostNotFound(*id)),
            other => Ok(other?),
        }
    }

    /// One identity's posts and replies outside groups, newest first.
    pub fn author_posts(
        &mut self,
        identity: &IdentityId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        Ok(self.store.author_posts(identity, limit, before)?)
    }

    /// One identity's posts with images, newest first (see
    /// [`Store::author_media`]).
    pub fn author_media(
        &mut self,
        identity: &IdentityId,
        limit: usize,
        before: Option<&str>,
    ) -> Result<Page> {
        Ok(self.store.author_media(identity, limit, before)?)
    }

    /// Everyone this device follows.
    pub fn following(&self) -> Result<Vec<ProfileView>> {
        Ok(self.store.following()?)
    }

    /// Replies to, likes and reposts of this identity's posts, and posts
    /// that mention its name, newest first.
    pub fn notifications(&mut self, limit: usize) -> Result<Vec<crate::Notification>> {
        let me = self.identity();
        Ok(self.store.notifications(&me, limit)?)
    }

    /// Full-text search.
    pub fn search(&mut self, query: &str, limit: usize) -> Result<Vec<PostView>> {
        Ok(self.store.search(query, limit)?)
    }

    /// A bundle of what this device may share with `audience`: anyone gets
    /// the feeds held here; another identity also the conversation with
    /// it and the groups it is a member of; this identity (a backup, a
    /// linked device) everything, the private account space included.
    pub fn export(&mut self, audience: Audience) -> Result<Vec<u8>> {
        let mut spaces = Vec::new();
        for (space, kind) in self.store.spaces()? {
            let shared = match (kind, audience) {
                (Some(SpaceKind::Feed), _) => true,
                (Some(_), Audience::Identity(who)) if who == self.identity => true,
                (Some(SpaceKind::Direct), Audience::Identity(who)) => {
                    space == crate::space::direct_space_id(&self.identity, &who)
                }
                (Some(SpaceKind::Group), Audience::Identity(who)) => {
                    self.store.group_membership(&space)?.is_member(&who)
                }
                _ => false,
            };
            if shared {
                spaces.push(space);
            }
        }
        Ok(self.store.export(&spaces)?)
    }

    /// Verifies and applies a bundle.
    pub fn import(&mut self, bundle: &[u8]) -> Result<ImportReport> {
        Ok(self.store.import_bundle(bundle)?)
    }

    /// [`Node::import`], calling `on_commit` after each batch of entries
    /// is on disk (for a progress display).
    pub fn import_with(
        &mut self,
        bundle: &[u8],
        on_commit: &mut dyn FnMut(crate::store::ImportProgress),
    ) -> Result<ImportReport> {
        Ok(self.store.import_bundle_with(bundle, on_commit)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_open_and_refuse_twice() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("ann");
        let mut n = Node::init(&home, "Ann").unwrap();
        let me = n.whoami().unwrap();
        assert_eq!(me.name.as_deref(), Some("Ann"));
        drop(n);
        assert!(matches!(
            Node::init(&home, "Again"),
            Err(NodeError::AlreadyInitialized(_))
        ));
        let mut again = Node::open(&home).unwrap();
        assert_eq!(again.whoami().unwrap(), me);
        assert!(matches!(
            Node::open(&dir.path().join("nobody")),
            Err(NodeError::NotInitialized(_))
        ));
        assert!(matches!(
            Node::init(&dir.path().join("x"), "  "),
            Err(NodeError::Invalid(_))
        ));
    }

    #[test]
    fn damaged_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("ann");
        drop(Node::init(&home, "Ann").unwrap());
        fs::write(home.join("device.key"), "not hex").unwrap();
        assert!(matches!(Node::open(&home), Err(NodeError::BadKeyFile(_))));
    }

    #[test]
    fn posts_need_content_and_real_targets() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = Node::init(&dir.path().join("ann"), "Ann").unwrap();
        assert!(matches!(
            n.post(NewPost::default()),
            Err(NodeError::Invalid(_))
        ));
        let missing = EntryId([1; 32]);
        assert!(matches!(
            n.post(NewPost {
                text: "hi".into(),
                reply_to: Some(missing),
                ..Default::default()
            }),
            Err(NodeError::PostNotFound(_))
        ));
        assert!(matches!(n.like(&missing), Err(NodeError::PostNotFound(_))));
        assert!(matches!(
            n.post(NewPost {
                text: "img".into(),
                images: vec![b"not an image".to_vec()],
                ..Default::default()
            }),
            Err(NodeError::Invalid(_))
        ));
        let own = n.ticket().unwrap();
        assert!(matches!(n.follow(&own), Err(NodeError::Invalid(_))));
        let me = n.identity();
        assert!(matches!(n.mute(&me), Err(NodeError::Invalid(_))));
    }

    #[test]
    fn own_likes_and_reposts_show_and_can_be_taken_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut ann = Node::init(&dir.path().join("ann"), "Ann").unwrap();
        let mut bob = Node::init(&dir.path().join("bob"), "Bob").unwrap();
        let id = ann
            .post(NewPost {
                text: "hello".into(),
                ..Default::default()
            })
            .unwrap();
        bob.follow(&ann.ticket().unwrap()).unwrap();
        bob.import(&ann.export(crate::Audience::Anyone).unwrap())
            .unwrap();
        let mine = |n: &mut Node| {
            let p = n.store().post(&id).unwrap().unwrap();
            (p.likes, p.liked_by_me, p.reposts, p.reposted_by_me)
        };
        assert_eq!(mine(&mut bob), (0, false, 0, false));
        assert!(!bob.unlike(&id).unwrap(), "nothing to take back");
        bob.like(&id).unwrap();
        bob.repost(&id).unwrap();
        assert_eq!(mine(&mut bob), (1, true, 1, true));
        // Ann sees Bob's like, not as her own.
        ann.follow(&bob.ticket().unwrap()).unwrap();
        ann.import(&bob.export(crate::Audience::Anyone).unwrap())
            .unwrap();
        assert_eq!(mine(&mut ann), (1, false, 1, false));
        assert!(bob.unlike(&id).unwrap());
        assert!(bob.unrepost(&id).unwrap());
        assert_eq!(mine(&mut bob), (0, false, 0, false));
        ann.import(&bob.export(crate::Audience::Anyone).unwrap())
            .unwrap();
        assert_eq!(mine(&mut ann), (0, false, 0, false));
        // Liked again: counts again, everywhere.
        bob.like(&id).unwrap();
        ann.import(&bob.export(crate::Audience::Anyone).unwrap())
            .unwrap();
        assert_eq!(mine(&mut bob), (1, true, 0, false));
        assert_eq!(mine(&mut ann), (1, false, 0, false));
    }

    #[test]
    fn images_are_sealed_and_open_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = Node::init(&dir.path().join("ann"), "Ann").unwrap();
        let mut png = Vec::new();
        image::RgbImage::new(2, 2)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let id = n
            .post(NewPost {
                text: "pic".into(),
                images: vec![png.clone()],
                ..Default::default()
            })
            .unwrap();
        let view = n.store().post(&id).unwrap().unwrap();
        assert_eq!(view.images.len(), 1);
        let sealed = n.store().blob(&view.images[0]).unwrap().unwrap();
        assert_ne!(sealed, png, "stored sealed, not in the clear");
        let me = n.identity();
        assert_eq!(n.open_blob(&me, &view.images[0]).unwrap().unwrap(), png);
    }

    #[test]
    fn a_photos_gps_position_never_reaches_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut n = Node::init(&dir.path().join("ann"), "Ann").unwrap();
        let photo = crate::synth::gps_jpeg();
        let id = n
            .post(NewPost {
                text: "from the hill".into(),
                images: vec![photo.clone()],
                ..Default::default()
            })
            .unwrap();
        let image = n.store().post(&id).unwrap().unwrap().images[0];
        let me = n.identity();
        let shown = n.open_blob(&me, &image).unwrap().unwrap();
        let has = |b: &[u8], what: &[u8]| b.windows(what.len()).any(|w| w == what);
        assert!(has(&photo, b"52.5200") && !has(&shown, b"52.5200"));
        assert!(!has(&shown, b"Exif"));
        let pixels = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8().into_raw();
        assert_eq!(pixels(&shown), pixels(&photo));
    }
}
