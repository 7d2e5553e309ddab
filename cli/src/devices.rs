//! Linked devices: `device link`, `device join`, `device list`,
//! `device revoke`.

use std::io::{BufRead, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use starling_core::net::{Event, Peer, join_link};
use starling_core::view::Revoked;
use starling_core::{DeviceId, DeviceKey, Node, Ticket};

use crate::network::OneRound;
use crate::out::{Out, local};
use crate::tickets::QrOut;

/// `starling device …`.
#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCmd {
    /// Show a one-time link code for a new device, then wait for it: both
    /// devices show a confirmation code, and only when you confirm here
    /// (and there) does the new device get your keys. The code itself
    /// holds no secret.
    Link {
        #[command(flatten)]
        out: QrOut,
        /// Minutes the code stays valid.
        #[arg(long, default_value_t = 10)]
        minutes: u64,
        /// Also hand the new device your identity key, so that it can link
        /// and revoke devices and show your recovery phrase. Without it
        /// the new device posts, reads and follows as you, but a thief of
        /// it can be shut out by revoking it.
        #[arg(long)]
        trusted: bool,
        #[command(flatten)]
        net: OneRound,
    },
    /// Make this (new, empty) home a device of the identity whose link
    /// code this is (text, or a picture of its QR code): compare the
    /// confirmation code with the other device's, confirm, then sync.
    Join {
        /// The link code.
        ticket: String,
        #[command(flatten)]
        net: OneRound,
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

/// Asks on the terminal whether the other device shows `code`.
fn same_code(code: &str, other: &str) -> Result<bool> {
    eprint!("Does {other} show the code {code}? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// `starling device join CODE`: makes the home, so it runs before one is
/// opened.
pub(crate) fn join(out: Out, home: &Path, ticket: &str, net: &OneRound) -> Result<()> {
    let Ticket::Device(t) = crate::tickets::read(ticket)? else {
        bail!("that is not a device link code (make one with `starling device link`)");
    };
    if Node::exists(home) {
        bail!("{} already holds a Starling identity", home.display());
    }
    let device = DeviceKey::from_secret_bytes(starling_core::node::fresh_secret()?);
    crate::network::runtime()?.block_on(async {
        let config = net.config();
        let grant = join_link(&t, &device, &config, |code| async move {
            tokio::task::spawn_blocking(move || {
                same_code(&code, "your other device").unwrap_or(false)
            })
            .await
            .unwrap_or(false)
        })
        .await?;
        let node = Node::device_join(home, device, &grant, &t.peer)?;
        let shared = crate::network::shared(node);
        let peer = Peer::start(shared.clone(), config).await?;
        let synced = peer.sync_with(&t.peer).await;
        peer.shutdown().await;
        let me = shared
            .lock()
            .map_err(|_| anyhow::anyhow!("the node's lock is poisoned"))?
            .whoami()?;
        out.show(&me, || {
            println!("This home is now a device of {}.", me.identity);
            match &synced {
                Ok(r) => println!(
                    "Synced with your other device: {} entries.",
                    r.import.accepted
                ),
                Err(e) => println!("Could not sync yet ({e}); run `starling sync --once` later."),
            }
        });
        Ok(())
    })
}

/// `starling device link`: shows a code, waits for the new device, asks
/// for the confirmation, hands over the keys and serves its first sync.
fn link(
    out: Out,
    node: Node,
    qr: QrOut,
    (minutes, trusted): (u64, bool),
    net: &OneRound,
) -> Result<()> {
    let valid_ms = minutes.max(1).saturating_mul(60_000);
    crate::network::runtime()?.block_on(async {
        let shared = crate::network::shared(node);
        let peer = Peer::start(shared.clone(), net.config()).await?;
        let addr = peer.addr();
        shared
            .lock()
            .map_err(|_| anyhow::anyhow!("the node's lock is poisoned"))?
            .set_reachable_at(&addr)?;
        let mut events = peer.events();
        let (ticket, mut requests) = peer.link_offer(valid_ms)?;
        crate::tickets::show(out, &ticket, qr)?;
        eprintln!("Waiting for the new device (up to {minutes} min)…");
        let outcome = async {
            let wait = std::time::Duration::from_millis(valid_ms);
            let Ok(Some(request)) = tokio::time::timeout(wait, requests.recv()).await else {
                bail!("no device came to link in time");
            };
            let (code, who) = (request.code.clone(), request.device);
            let yes = tokio::task::spawn_blocking(move || {
                same_code(&code, &format!("the new device {}", who.fmt_short())).unwrap_or(false)
            })
            .await
            .unwrap_or(false);
            request
                .answer(yes, trusted)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            eprintln!("Linked {}; waiting for its first sync…", who.fmt_short());
            // Serve the new device's first catch-up (bounded).
            let _ = tokio::time::timeout(std::time::Duration::from_secs(60), async {
                while let Ok(e) = events.recv().await {
                    if matches!(e, Event::Synced { peer, .. } if peer == who) {
                        break;
                    }
                }
            })
            .await;
            Ok(who)
        }
        .await;
        peer.shutdown().await;
        let who = outcome?;
        if !out.json {
            println!("{who} is now one of your devices.");
        }
        Ok(())
    })
}

/// `starling device link|list|revoke`.
pub(crate) fn run(out: Out, node: Node, cmd: DeviceCmd) -> Result<()> {
    let mut node = node;
    match cmd {
        DeviceCmd::Link {
            out: qr,
            minutes,
            trusted,
            net,
        } => return link(out, node, qr, (minutes, trusted), &net),
        DeviceCmd::List => {
            let list = node.devices()?;
            out.show(&list, || {
                for d in &list {
                    println!(
                        "{}  since {}{}",
                        d.device,
                        local(d.certified_at),
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
