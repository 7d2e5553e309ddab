//! Starling's engine: a serverless, local-first social network.
//!
//! Every device keeps the entries it cares about in a [`Store`]. An
//! [`Entry`] is signed by its author device and its payload is sealed under
//! its space's [`SpaceKey`]; entries chain per device and are addressed by
//! the BLAKE3 hash of their signed header. Spaces hold immutable records
//! (posts, likes, edits, deletes) and automerge changes (profiles, follows).
//! The [`Node`] facade ties a device profile on disk to its store.
//!
//! ```
//! use starling_core::{Node, NewPost};
//! let dir = tempfile::tempdir().unwrap();
//! let mut ann = Node::init(&dir.path().join("ann"), "Ann").unwrap();
//! let mut bob = Node::init(&dir.path().join("bob"), "Bob").unwrap();
//! ann.post(NewPost { text: "hello, flock".into(), ..Default::default() }).unwrap();
//!
//! // Bob follows Ann by her ticket and receives her entries as a bundle.
//! bob.follow(&ann.ticket().unwrap()).unwrap();
//! let bundle = ann.export(starling_core::Audience::Anyone).unwrap();
//! bob.import(&bundle).unwrap();
//! let page = bob.timeline(20, None).unwrap();
//! assert_eq!(page.posts[0].text, "hello, flock");
//! assert_eq!(page.posts[0].author_name.as_deref(), Some("Ann"));
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod admission;
pub mod backup;
pub mod bundle;
pub mod crypto;
pub mod doc;
pub mod entry;
pub mod hashtag;
pub mod id;
pub mod identity;
pub mod membership;
pub mod net;
pub mod node;
pub mod photo;
pub mod protocol;
pub mod ratchet;
pub mod record;
mod signature;
pub mod space;
pub mod store;
#[cfg(any(test, feature = "test-utils"))]
pub mod synth;
pub mod ticket;
pub mod view;

pub use crypto::SpaceKey;
pub use entry::Entry;
pub use id::{DeviceId, EntryId, Hash, IdentityId, SpaceId};
pub use identity::{DeviceCert, DeviceKey, IdentityKey};
pub use node::{Audience, NewPost, Node, NodeError};
pub use store::{ImportProgress, ImportReport, Store, StoreError};
pub use ticket::{DeviceTicket, FeedTicket, GroupTicket, PeerAddr, Ticket, TicketError};
pub use view::{
    Conversation, DeviceView, GroupView, Notification, NotificationKind, Page, PostView,
    ProfileView, Suggestion, WhoAmI,
};
