//! Linked devices: `device link`, `device join`, `device list`,
//! `device revoke`.

use std::path::Path;

use anyhow::Result;
use clap::Subcommand;
use starling_core::view::Revoked;
use starling_core::{DeviceId, Node};

use crate::out::{Out, utc};
use crate::tickets::QrOut;

/// `starling device …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCmd {
    /// Show a one-time ticket that makes another device yours (keep it
    /// private: it carries your identity's key).
    Link {
        #[command(flatten)]
        out: QrOut,
        /// Minutes the ticket stays valid.
        #[arg(long, default_value_t = 10)]
        minutes: u64,
    },
    /// Make this (new, empty) home a device of the identity in a link
    /// ticket (text, or a picture of its QR code).
    Join {
        /// The ticket.
        ticket: String,
    },
    /// This identity's devices.
    List,
    /// Retire a lost device: what it signs from now on is refused by
    /// every peer that hears of it.
    Revoke {
        /// The device id.
        device: DeviceId,
    },
}

/// `starling device join TICKET`: makes the home, so it runs before one is
/// opened.
pub(crate) fn join(out: Out, home: &Path, ticket: &str) -> Result<()> {
    let t = crate::tickets::read(ticket)?;
    let mut node = Node::device_join(home, &t)?;
    let me = node.whoami()?;
    out.show(&me, || {
        println!(
            "This home is now a device of {}; sync (`starling sync --once` or `starling run`) to bring in your posts and follows.",
            me.identity
        )
    });
    Ok(())
}

/// `starling device link|list|revoke`.
pub(crate) fn run(out: Out, node: &mut Node, cmd: DeviceCmd) -> Result<()> {
    match cmd {
        DeviceCmd::Link { out: qr, minutes } => {
            let t = node.device_link(minutes.saturating_mul(60_000))?;
            crate::tickets::show(out, &t, qr)?;
        }
        DeviceCmd::List => {
            let list = node.devices()?;
            out.show(&list, || {
                for d in &list {
                    println!(
                        "{}  since {}{}",
                        d.device,
                        utc(d.certified_at),
                        if d.this_device {
                            "  (this device)"
                        } else if d.revoked {
                            "  (revoked)"
                        } else {
                            ""
                        }
                    );
                }
            });
        }
        DeviceCmd::Revoke { device } => {
            node.device_revoke(&device)?;
            out.show(&Revoked { device }, || {
                println!("revoked {device}; peers refuse what it signs from now on")
            });
        }
        DeviceCmd::Join { .. } => {
            anyhow::bail!("`device join` makes a new home: run it on one that has no identity")
        }
    }
    Ok(())
}
