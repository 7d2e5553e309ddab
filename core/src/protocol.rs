//! The protocols as sans-IO state machines: what to send and what to do
//! with what arrives, with time and randomness passed in. They do no I/O;
//! `net/` drives each over iroh, one driver file per protocol.
//!
//! - [`catchup`]: two peers bring the spaces they share up to date.
//! - [`live`]: what to announce on a space's gossip topic, and which
//!   catch-ups a notice calls for.
//! - [`media`]: where to fetch an image from, and how many copies of one to
//!   hand out.
//! - [`link`]: a new device joins an identity after both devices show the
//!   same confirmation code.

pub mod catchup;
pub mod link;
pub mod live;
pub mod media;
