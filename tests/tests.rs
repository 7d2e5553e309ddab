//! Cross-crate tests of the Starling engine, one binary with a module per purpose.

mod bad_input;
mod compat;
mod convergence;
mod erase;
mod forward_secrecy;
mod groups;
mod link;
mod net;
mod queries;
mod recovery;
mod storage;
mod support;
mod trust;
mod trusted;
