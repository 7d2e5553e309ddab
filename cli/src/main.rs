//! `starling`: Starling's command line, a headless node and a scripting face.
//!
//! Every command that prints data takes `--json` and then prints exactly one
//! JSON document on stdout. Errors go to stderr with a non-zero exit code.

mod group;
mod output;
mod serve;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::json;
use starling_core::doc::ProfileUpdate;
use starling_core::{Audience, EntryId, IdentityId, NewPost, Node, Ticket};

use crate::output::{post_json, print_post};

/// Starling: a serverless, local-first social network.
#[derive(Debug, Parser)]
#[command(name = "starling", version, about)]
struct Cli {
    /// Profile folder (default: the platform's data folder).
    #[arg(long, global = true, env = "STARLING_HOME")]
    home: Option<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new identity and device in the home folder.
    Init {
        /// Your display name.
        #[arg(long)]
        name: String,
    },
    /// Show this identity and device.
    Whoami,
    /// Publish a post.
    Post {
        /// The text.
        text: String,
        /// Reply to this post.
        #[arg(long)]
        reply_to: Option<EntryId>,
        /// Quote this post.
        #[arg(long)]
        quote: Option<EntryId>,
        /// Attach an image (PNG, JPEG, GIF or WebP); may be repeated.
        #[arg(long)]
        image: Vec<PathBuf>,
        /// Post in this group instead of your feed.
        #[arg(long)]
        group: Option<starling_core::SpaceId>,
    },
    /// Like a post.
    Like {
        /// The post.
        post: EntryId,
    },
    /// Repost a post.
    Repost {
        /// The post.
        post: EntryId,
    },
    /// Replace the text of one of your posts.
    Edit {
        /// The post.
        post: EntryId,
        /// Its new text.
        text: String,
    },
    /// Delete one of your posts.
    Delete {
        /// The post.
        post: EntryId,
    },
    /// Show or change profiles.
    Profile {
        #[command(subcommand)]
        action: ProfileCmd,
    },
    /// Print your feed ticket (what others need to follow you).
    Ticket {
        #[command(flatten)]
        out: QrOut,
    },
    /// Follow someone by their ticket.
    Follow {
        /// Their ticket (starling1…), or a picture (PNG or JPEG) of its QR code.
        ticket: String,
    },
    /// Read the ticket in a picture of a QR code (a photo or a screenshot).
    Scan {
        /// The picture (PNG or JPEG).
        image: PathBuf,
    },
    /// Stop following an identity.
    Unfollow {
        /// Their identity id.
        identity: IdentityId,
    },
    /// Hide an identity's posts from your timeline, threads and search.
    Mute {
        /// Their identity id.
        identity: IdentityId,
    },
    /// Show a muted identity's posts again.
    Unmute {
        /// Their identity id.
        identity: IdentityId,
    },
    /// Block an identity: hidden everywhere, and their entries are not
    /// passed on to peers.
    Block {
        /// Their identity id.
        identity: IdentityId,
    },
    /// Unblock an identity.
    Unblock {
        /// Their identity id.
        identity: IdentityId,
    },
    /// Write a bundle of entries to a file (sneakernet sync, backups).
    Export {
        /// The bundle file to write.
        #[arg(long)]
        out: PathBuf,
        /// Export for this identity or ticket; your own identity includes your private account space.
        #[arg(long = "for", value_name = "TICKET_OR_IDENTITY")]
        for_: Option<String>,
    },
    /// Verify and apply a bundle of entries.
    Import {
        /// The bundle file.
        file: PathBuf,
    },
    /// Your home timeline, newest first.
    Timeline {
        /// Posts per page.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Cursor from a previous page's `next`.
        #[arg(long)]
        before: Option<String>,
    },
    /// A post with its ancestors and replies.
    Thread {
        /// The post.
        post: EntryId,
    },
    /// Search every post stored on this device.
    Search {
        /// Words to look for.
        query: String,
        /// Most results.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Replies to, likes and reposts of your posts, and posts that
    /// mention you (`@Name`), newest first.
    Notifications {
        /// Most notifications.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Re-verify every stored entry and the store's consistency.
    Check,
    /// Keep a node up: serve peers, follow live updates through gossip,
    /// fetch missing images, catch up with peers as they appear; one line
    /// (or JSON object) per event, until SIGINT/SIGTERM.
    Run {
        /// Address to listen on; may be repeated.
        #[arg(long, default_value = "0.0.0.0:0")]
        bind: Vec<std::net::SocketAddr>,
        /// Relays: `none`, `default` (iroh's public relays) or a relay URL.
        #[arg(long, default_value = "none")]
        relay: String,
        /// Seconds between catch-ups with every known peer (new posts
        /// arrive live through gossip in between).
        #[arg(long, default_value_t = 60)]
        sync_interval: u64,
        /// Do not look for peers on the local network (mDNS).
        #[arg(long)]
        no_local_discovery: bool,
    },
    /// Catch up with every known peer once, print counts and exit.
    Sync {
        /// Sync once and exit (the only mode; `run` keeps syncing).
        #[arg(long, required = true)]
        once: bool,
        /// Give up on a peer after this many seconds.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
        /// Relays: `none`, `default` or a relay URL.
        #[arg(long, default_value = "none")]
        relay: String,
        /// Local address to use.
        #[arg(long, default_value = "0.0.0.0:0")]
        bind: std::net::SocketAddr,
    },
    /// List known peers and when they were last seen.
    Peers,
    /// Private groups: create, invite, join, read.
    Group {
        #[command(subcommand)]
        action: group::GroupCmd,
    },
    /// Linked devices: link a new one, join as one, list them.
    Device {
        #[command(subcommand)]
        action: DeviceCmd,
    },
    /// Direct messages: `dm IDENTITY TEXT` sends one; `dm list`, `dm show IDENTITY`.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Dm {
        #[command(subcommand)]
        action: Option<DmCmd>,
        /// Who to write to (their identity id).
        #[arg(required = true)]
        identity: Option<IdentityId>,
        /// The message.
        #[arg(required = true)]
        text: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCmd {
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
        device: starling_core::DeviceId,
    },
}

#[derive(Debug, Subcommand)]
enum DmCmd {
    /// Your conversations, the newest first.
    List,
    /// One conversation, the newest message first.
    Show {
        /// The other side's identity id.
        identity: IdentityId,
        /// Most messages to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Continue after this cursor (from `next`).
        #[arg(long)]
        before: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ProfileCmd {
    /// Change your profile.
    Set {
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Short bio.
        #[arg(long)]
        bio: Option<String>,
        /// Avatar image file.
        #[arg(long)]
        avatar: Option<PathBuf>,
    },
    /// Show a profile (yours by default).
    Show {
        /// The identity.
        identity: Option<IdentityId>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn home_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(h) = &cli.home {
        return Ok(h.clone());
    }
    directories::ProjectDirs::from("org", "starling", "starling")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a data folder; pass --home DIR or set STARLING_HOME")
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn print(json: bool, value: serde_json::Value, human: impl FnOnce()) {
    if json {
        println!("{value}");
    } else {
        human();
    }
}

/// Where to show a ticket besides printing its text.
#[derive(Debug, clap::Args)]
struct QrOut {
    /// Draw it as a QR code in the terminal.
    #[arg(long)]
    qr: bool,
    /// Write it as a QR code to a PNG file.
    #[arg(long, value_name = "FILE")]
    png: Option<PathBuf>,
    /// Write it as a QR code to an SVG file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

/// Prints a ticket as text, and as a QR code in the terminal, a PNG or an
/// SVG file when asked.
fn show_ticket(json: bool, t: &Ticket, QrOut { qr, png, svg }: QrOut) -> Result<()> {
    let text = t.encode();
    if let Some(path) = &png {
        std::fs::write(path, t.to_qr_png()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &svg {
        std::fs::write(path, t.to_qr_svg()?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let qr_text = if qr { Some(t.to_qr_text()?) } else { None };
    let shown = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    print(
        json,
        json!({"ticket": text, "png": shown(&png), "svg": shown(&svg)}),
        || {
            if let Some(q) = &qr_text {
                println!("{q}");
            }
            println!("{text}");
            for p in png.iter().chain(svg.iter()) {
                eprintln!("wrote QR code to {}", p.display());
            }
        },
    );
    Ok(())
}

/// A ticket given as text, or as the path of a picture of its QR code.
fn read_ticket(arg: &str) -> Result<Ticket> {
    let path = std::path::Path::new(arg);
    if !arg
        .trim_start()
        .to_ascii_lowercase()
        .starts_with(starling_core::ticket::TICKET_PREFIX)
        && path.is_file()
    {
        return scan_file(path);
    }
    Ok(Ticket::decode(arg)?)
}

/// The ticket in a picture file.
fn scan_file(path: &std::path::Path) -> Result<Ticket> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > starling_core::ticket::MAX_SCAN_BYTES as u64 {
        bail!(
            "{}: {len} bytes is too large for a picture of a ticket",
            path.display()
        );
    }
    let bytes = read_file(path)?;
    Ticket::scan(&bytes).with_context(|| format!("{}", path.display()))
}

fn parse_audience(node: &Node, text: &str) -> Result<Audience> {
    if let Ok(id) = text.parse::<IdentityId>() {
        return Ok(Audience::Identity(id));
    }
    match Ticket::decode(text) {
        Ok(Ticket::Feed(t)) => Ok(Audience::Identity(t.identity)),
        Ok(_) => bail!("that ticket does not name an identity"),
        Err(e) => {
            let _ = node;
            bail!("--for takes an identity id or a ticket: {e}")
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let home = home_dir(&cli)?;
    let json = cli.json;
    if let Command::Device {
        action: DeviceCmd::Join { ticket },
    } = &cli.command
    {
        let t = read_ticket(ticket)?;
        let mut node = Node::device_join(&home, &t)?;
        let me = node.whoami()?;
        print(
            json,
            json!({"identity": me.identity.to_string(), "device": me.device.to_string()}),
            || {
                println!(
                    "This home is now a device of {}; sync (`starling sync --once` or `starling run`) to bring in your posts and follows.",
                    me.identity
                )
            },
        );
        return Ok(());
    }
    if let Command::Init { name } = &cli.command {
        let mut node = Node::init(&home, name)?;
        let me = node.whoami()?;
        print(
            json,
            json!({"identity": me.identity.to_string(), "device": me.device.to_string(), "name": me.name}),
            || {
                println!(
                    "Created identity {} ({}) in {}",
                    me.identity,
                    name,
                    home.display()
                );
                println!(
                    "Back up {}: its key files are your identity.",
                    home.display()
                );
            },
        );
        return Ok(());
    }
    let mut node = Node::open(&home)?;
    match cli.command {
        Command::Init { .. } => unreachable!("handled above"),
        Command::Whoami => {
            let me = node.whoami()?;
            print(
                json,
                json!({"identity": me.identity.to_string(), "device": me.device.to_string(), "name": me.name}),
                || {
                    println!("name:     {}", me.name.as_deref().unwrap_or("(none)"));
                    println!("identity: {}", me.identity);
                    println!("device:   {}", me.device);
                },
            );
        }
        Command::Post {
            text,
            reply_to,
            quote,
            image,
            group,
        } => {
            let images = image
                .iter()
                .map(|p| read_file(p))
                .collect::<Result<Vec<_>>>()?;
            let id = node.post(NewPost {
                text,
                reply_to,
                quote_of: quote,
                images,
                group,
            })?;
            print(json, json!({"id": id.to_string()}), || println!("{id}"));
        }
        Command::Like { post } => {
            let id = node.like(&post)?;
            print(json, json!({"id": id.to_string()}), || {
                println!("liked {}", post.fmt_short())
            });
        }
        Command::Repost { post } => {
            let id = node.repost(&post)?;
            print(json, json!({"id": id.to_string()}), || {
                println!("reposted {}", post.fmt_short())
            });
        }
        Command::Edit { post, text } => {
            let id = node.edit(&post, &text)?;
            print(json, json!({"id": id.to_string()}), || {
                println!("edited {}", post.fmt_short())
            });
        }
        Command::Delete { post } => {
            let id = node.delete(&post)?;
            print(json, json!({"id": id.to_string()}), || {
                println!("deleted {}", post.fmt_short())
            });
        }
        Command::Profile {
            action: ProfileCmd::Set { name, bio, avatar },
        } => {
            let avatar = avatar.map(|p| read_file(&p)).transpose()?;
            node.set_profile(
                ProfileUpdate {
                    name,
                    bio,
                    avatar: None,
                },
                avatar.as_deref(),
            )?;
            let p = node.profile(None)?;
            print(json, output::profile_json(&p), || output::print_profile(&p));
        }
        Command::Profile {
            action: ProfileCmd::Show { identity },
        } => {
            let p = node.profile(identity.as_ref())?;
            print(json, output::profile_json(&p), || output::print_profile(&p));
        }
        Command::Ticket { out } => {
            let t = node.ticket()?;
            show_ticket(json, &t, out)?;
        }
        Command::Group { action } => group::run(&mut node, json, action)?,
        Command::Device { action } => match action {
            DeviceCmd::Link { out, minutes } => {
                let t = node.device_link(minutes.saturating_mul(60_000))?;
                show_ticket(json, &t, out)?;
            }
            DeviceCmd::List => {
                let list = node.devices()?;
                print(
                    json,
                    json!({"devices": list.iter().map(|d| json!({
                        "device": d.device.to_string(),
                        "certified_at": d.certified_at,
                        "this": d.this,
                        "revoked": d.revoked,
                    })).collect::<Vec<_>>()}),
                    || {
                        for d in &list {
                            println!(
                                "{}  since {}{}",
                                d.device,
                                output::utc(d.certified_at),
                                if d.this {
                                    "  (this device)"
                                } else if d.revoked {
                                    "  (revoked)"
                                } else {
                                    ""
                                }
                            );
                        }
                    },
                );
            }
            DeviceCmd::Revoke { device } => {
                node.device_revoke(&device)?;
                print(json, json!({"revoked": device.to_string()}), || {
                    println!("revoked {device}; peers refuse what it signs from now on")
                });
            }
            DeviceCmd::Join { .. } => unreachable!("handled before the home is opened"),
        },
        Command::Dm {
            action,
            identity,
            text,
        } => match (action, identity, text) {
            (Some(DmCmd::List), _, _) => {
                let list = node.conversations()?;
                print(
                    json,
                    json!({"conversations": list.iter().map(|c| json!({
                        "with": c.with.to_string(),
                        "name": c.name,
                        "last": post_json(&c.last),
                    })).collect::<Vec<_>>()}),
                    || {
                        if list.is_empty() {
                            println!("(no messages yet: `starling dm IDENTITY TEXT`)");
                        }
                        for c in &list {
                            println!(
                                "{}  {}: {}",
                                c.with.fmt_short(),
                                c.name.as_deref().unwrap_or("?"),
                                c.last.text
                            );
                        }
                    },
                );
            }
            (
                Some(DmCmd::Show {
                    identity,
                    limit,
                    before,
                }),
                _,
                _,
            ) => {
                let page = node.dm_show(&identity, limit, before.as_deref())?;
                output::print_page(
                    json,
                    &page,
                    "(no messages yet)",
                    &format!("starling dm show {identity}"),
                );
            }
            (None, Some(identity), Some(text)) => {
                let id = node.dm(&identity, &text)?;
                print(json, json!({"id": id.to_string()}), || println!("{id}"));
            }
            _ => bail!("usage: starling dm IDENTITY TEXT | dm list | dm show IDENTITY"),
        },
        Command::Scan { image } => {
            let t = scan_file(&image)?;
            let text = t.encode();
            let (kind, detail) = match &t {
                Ticket::Feed(f) => ("feed", json!({"identity": f.identity.to_string()})),
                Ticket::Group(g) => (
                    "group",
                    json!({"group": g.space.to_string(), "name": g.name, "owner": g.owner.to_string()}),
                ),
                Ticket::Device(_) => ("device", json!({})),
                _ => bail!("unknown kind of ticket"),
            };
            print(
                json,
                json!({"ticket": text, "kind": kind, "detail": detail}),
                || println!("{text}"),
            );
        }
        Command::Follow { ticket } => {
            let t = read_ticket(&ticket)?;
            let who = node.follow(&t)?;
            let p = node.profile(Some(&who))?;
            print(
                json,
                json!({"identity": who.to_string(), "name": p.name}),
                || {
                    println!(
                        "following {}",
                        p.name.as_deref().unwrap_or(&who.fmt_short())
                    );
                },
            );
        }
        Command::Unfollow { identity } => {
            let changed = node.unfollow(&identity)?;
            print(
                json,
                json!({"identity": identity.to_string(), "changed": changed}),
                || {
                    println!(
                        "{} {}",
                        if changed {
                            "unfollowed"
                        } else {
                            "was not following"
                        },
                        identity.fmt_short()
                    );
                },
            );
        }
        Command::Mute { identity } => {
            let changed = node.mute(&identity)?;
            print(
                json,
                json!({"identity": identity.to_string(), "changed": changed}),
                || {
                    println!("muted {}", identity.fmt_short());
                },
            );
        }
        Command::Unmute { identity } => {
            let changed = node.unmute(&identity)?;
            print(
                json,
                json!({"identity": identity.to_string(), "changed": changed}),
                || {
                    println!("unmuted {}", identity.fmt_short());
                },
            );
        }
        Command::Block { identity } => {
            let changed = node.block(&identity)?;
            print(
                json,
                json!({"identity": identity.to_string(), "changed": changed}),
                || println!("blocked {}", identity.fmt_short()),
            );
        }
        Command::Unblock { identity } => {
            let changed = node.unblock(&identity)?;
            print(
                json,
                json!({"identity": identity.to_string(), "changed": changed}),
                || println!("unblocked {}", identity.fmt_short()),
            );
        }
        Command::Export { out, for_ } => {
            let audience = match &for_ {
                Some(t) => parse_audience(&node, t)?,
                None => Audience::Anyone,
            };
            let bytes = node.export(audience)?;
            let records = starling_core::bundle::parse(&bytes)?.len();
            std::fs::write(&out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            print(
                json,
                json!({"out": out.display().to_string(), "records": records, "bytes": bytes.len()}),
                || {
                    println!(
                        "wrote {records} records ({} bytes) to {}",
                        bytes.len(),
                        out.display()
                    );
                },
            );
        }
        Command::Import { file } => {
            let bytes = read_file(&file)?;
            let r = node.import(&bytes)?;
            let rejections: Vec<_> = r
                .rejected
                .iter()
                .map(|x| json!({"id": x.id.map(|i| i.to_string()), "reason": x.reason}))
                .collect();
            for x in &r.rejected {
                let who =
                    x.id.map(|i| i.fmt_short())
                        .unwrap_or_else(|| "(undecodable)".into());
                eprintln!("rejected {who}: {}", x.reason);
            }
            print(
                json,
                json!({
                    "accepted": r.accepted, "known": r.known, "already_known": r.known,
                    "pending": r.pending, "rejected": r.rejected.len(), "blobs": r.blobs,
                    "rejections": rejections,
                }),
                || {
                    println!(
                        "accepted {}, already known {}, rejected {}, waiting for earlier entries {}, blobs {}",
                        r.accepted,
                        r.known,
                        r.rejected.len(),
                        r.pending,
                        r.blobs
                    );
                },
            );
        }
        Command::Timeline { limit, before } => {
            let page = node.timeline(limit, before.as_deref())?;
            output::print_page(
                json,
                &page,
                "(no posts yet: follow someone with `starling follow TICKET`, or post)",
                "starling timeline",
            );
        }
        Command::Thread { post } => {
            let posts = node.thread(&post)?;
            print(
                json,
                json!({"posts": starling_core::json::posts(&posts)}),
                || {
                    for p in &posts {
                        print_post(p);
                    }
                },
            );
        }
        Command::Notifications { limit } => {
            let list = node.notifications(limit)?;
            print(
                json,
                json!({"notifications": list.iter().map(starling_core::json::notification).collect::<Vec<_>>()}),
                || {
                    if list.is_empty() {
                        println!("no notifications");
                    }
                    for n in &list {
                        let who = n.from_name.as_deref().unwrap_or("?");
                        let what = match n.kind {
                            starling_core::NotificationKind::Reply => "replied",
                            starling_core::NotificationKind::Mention => "mentioned you",
                            starling_core::NotificationKind::Like => "liked your post",
                            starling_core::NotificationKind::Repost => "reposted your post",
                        };
                        println!(
                            "{who} ({}) {what} · {}",
                            n.from.fmt_short(),
                            output::utc(n.timestamp)
                        );
                        print_post(&n.post);
                    }
                },
            );
        }
        Command::Search { query, limit } => {
            let posts = node.search(&query, limit)?;
            print(
                json,
                json!({"posts": starling_core::json::posts(&posts)}),
                || {
                    if posts.is_empty() {
                        println!("no posts match {query:?}");
                    }
                    for p in &posts {
                        print_post(p);
                    }
                },
            );
        }
        Command::Run {
            bind,
            relay,
            sync_interval,
            no_local_discovery,
        } => serve::run(
            node,
            json,
            serve::RunOptions {
                bind,
                relay,
                interval: sync_interval,
                local_discovery: !no_local_discovery,
            },
        )?,
        Command::Sync {
            once: _,
            timeout,
            relay,
            bind,
        } => serve::sync_once(node, json, timeout, &relay, bind)?,
        Command::Peers => {
            let peers = node.store().peers()?;
            let list: Vec<_> = peers
                .iter()
                .map(|(p, seen)| {
                    json!({
                        "device": p.device.to_string(),
                        "addrs": p.addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                        "last_seen": seen,
                    })
                })
                .collect();
            print(json, json!({ "peers": list }), || {
                if peers.is_empty() {
                    println!("no known peers yet: follow someone by their ticket");
                }
                for (p, seen) in &peers {
                    let addrs: Vec<String> = p.addrs.iter().map(|a| a.to_string()).collect();
                    let seen = seen.map_or("never".to_string(), output::utc);
                    println!("{}  {}  last seen {seen}", p.device, addrs.join(","));
                }
            });
        }
        Command::Check => {
            let r = node.store().check()?;
            let ok = r.problems.is_empty();
            print(
                json,
                json!({"ok": ok, "entries": r.entries, "problems": r.problems}),
                || {
                    println!(
                        "checked {} entries: {}",
                        r.entries,
                        if ok { "ok" } else { "PROBLEMS" }
                    );
                    for p in &r.problems {
                        println!("  {p}");
                    }
                },
            );
            if !ok {
                bail!("store check found {} problems", r.problems.len());
            }
        }
    }
    Ok(())
}
