//! `starling`: Starling's command line, a headless node and a scripting face.
//!
//! Every command that prints data takes `--json` and then prints exactly one
//! JSON document on stdout: one of the core's views
//! (`starling_core::view`), the same shapes the app's commands return
//! (`docs/cli-json.md` lists them per command). Errors go to stderr — with
//! `--json` as one `{"kind", "message"}` object, usage errors too — and
//! exit with a status that tells them apart ([`exit`]).
//!
//! This file parses and dispatches; each family of commands has its
//! module.

mod account;
mod bundle;
mod devices;
mod dht;
mod dm;
mod group;
mod key;
mod network;
mod out;
mod people;
mod posts;
mod read;
mod relay;
mod storage;
mod tickets;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use starling_core::view::{ErrorKind, ErrorView};
use starling_core::{EntryId, IdentityId, Node};

use crate::out::Out;
use crate::people::Change;
use crate::posts::Act;

/// Exit statuses.
mod exit {
    /// Any other failure (storage, not allowed, the home in use, ...).
    pub(crate) const FAILURE: i32 = 1;
    /// A usage error: bad arguments, or input that is not valid (an id,
    /// a ticket, a file that is not a bundle).
    pub(crate) const USAGE: i32 = 2;
    /// What the command names is not there (a post, a group, a file, no
    /// identity in the home yet).
    pub(crate) const NOT_FOUND: i32 = 3;
    /// The network failed (no peer answered, a sync failed).
    pub(crate) const NETWORK: i32 = 4;
}

/// Starling: a serverless, local-first social network.
#[derive(Debug, Parser)]
#[command(
    name = "starling",
    version,
    about,
    after_help = "Exit status: 0 success, 1 failure, 2 usage error or invalid input, \
                  3 not found, 4 network failure. With --json an error is one \
                  {\"kind\", \"message\"} object on stderr."
)]
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

/// `starling key …`.
#[derive(Debug, Subcommand)]
enum KeyCmd {
    /// Show the recovery phrase (after asking).
    Phrase {
        /// Show it without asking.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new identity and device in the home folder (and print its
    /// recovery phrase), or with `--recover` bring an identity back from
    /// its phrase (read from standard input) on this new device.
    Init {
        /// Your display name.
        #[arg(long, required_unless_present = "recover")]
        name: Option<String>,
        /// Bring an identity back from its recovery phrase.
        #[arg(long, conflicts_with = "name")]
        recover: bool,
        #[command(flatten)]
        restore: network::RestoreArgs,
    },
    /// Bring back follows, mutes, blocks and groups from the newest account
    /// backup a follower holds (after `init --recover`).
    Restore(network::RestoreArgs),
    /// The recovery phrase.
    Key {
        #[command(subcommand)]
        action: KeyCmd,
    },
    /// Show this identity and device.
    Whoami,
    /// Publish a post.
    Post(posts::PostArgs),
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
    /// Take back your like of a post (on all your devices).
    Unlike {
        /// The post.
        post: EntryId,
    },
    /// Take back your repost of a post.
    Unrepost {
        /// The post.
        post: EntryId,
    },
    /// Bookmark a post: private, kept on all your devices.
    Bookmark {
        /// The post.
        post: EntryId,
    },
    /// Take a post out of your bookmarks.
    Unbookmark {
        /// The post.
        post: EntryId,
    },
    /// Your bookmarked posts, the newest bookmark first.
    Bookmarks {
        /// Most posts to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
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
        action: account::ProfileCmd,
    },
    /// Who to follow: people those you follow show that they follow.
    Suggestions {
        /// Most people.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Print your feed ticket (what others need to follow you).
    Ticket {
        #[command(flatten)]
        out: tickets::QrOut,
    },
    /// Follow someone by their ticket.
    Follow {
        /// Their ticket (starling1…), a picture (PNG or JPEG) of its QR
        /// code, or their identity id when their key is held here (a
        /// suggestion, someone followed before or met in a group).
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
        /// Also drop what this device holds of their feed (kept while a
        /// group or conversation needs it).
        #[arg(long)]
        drop: bool,
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
        /// The bundle file to write (`-`: standard output; the summary
        /// then goes to stderr).
        #[arg(long)]
        out: PathBuf,
        /// Export for this identity or ticket; your own identity includes
        /// your private account space.
        #[arg(long = "for", value_name = "TICKET_OR_IDENTITY")]
        for_: Option<String>,
    },
    /// Verify and apply a bundle of entries.
    Import {
        /// The bundle file (`-`: standard input).
        file: PathBuf,
        /// Say on stderr how many entries are on disk after each batch
        /// (a JSON line each under `--json`).
        #[arg(long)]
        progress: bool,
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
    /// What the store holds (by kind of data and by author) and the
    /// budgets that keep it small; `budget`, `check`, `vacuum`.
    Storage {
        #[command(subcommand)]
        action: Option<storage::StorageCmd>,
    },
    /// Keep a node up: serve peers, follow live updates through gossip,
    /// fetch missing images, catch up with peers as they appear; one line
    /// (or JSON object) per event, until SIGINT/SIGTERM.
    Run(network::RunArgs),
    /// Run a relay (iroh's relay server) for your devices and friends: it
    /// forwards encrypted packets between devices that cannot reach each
    /// other directly, and sees nothing of what they say. Needs no home.
    Relay(relay::RelayArgs),
    /// Run Mainline DHT nodes for a private network (a LAN, a test
    /// network): devices started with `--dht-bootstrap HOST:PORT` find each
    /// other by key through them. Needs no home.
    DhtNode(dht::DhtNodeArgs),
    /// Catch up with every known peer once, print counts and exit.
    Sync(network::SyncArgs),
    /// Print a shell completion script (`starling completions bash >
    /// ~/.local/share/bash-completion/completions/starling`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, as roff (`starling man > starling.1`).
    Man,
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
        action: devices::DeviceCmd,
    },
    /// Direct messages: `dm IDENTITY TEXT` sends one; `dm list`, `dm show IDENTITY`.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Dm {
        #[command(subcommand)]
        action: Option<dm::DmCmd>,
        /// Who to write to (their identity id).
        #[arg(required = true)]
        identity: Option<IdentityId>,
        /// The message.
        #[arg(required = true)]
        text: Option<String>,
    },
}

fn main() {
    // Diagnostics for whoever runs a node by hand or in the simulator:
    // `STARLING_LOG=iroh=debug` (any tracing filter) writes to stderr.
    if let Ok(filter) = std::env::var("STARLING_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .try_init();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => usage_error(e),
    };
    let out = Out { json: cli.json };
    if let Err(e) = run(cli, out) {
        let view = error_view(&e);
        if out.json {
            eprintln!("{}", serde_json::to_string(&view).unwrap_or_default());
        } else {
            eprintln!("error: {e:#}");
        }
        std::process::exit(exit_status(view.kind));
    }
}

/// Prints help or the version, or a usage error (as JSON under `--json`),
/// and exits.
fn usage_error(e: clap::Error) -> ! {
    use clap::error::ErrorKind as Clap;
    let json = std::env::args_os().skip(1).any(|a| a == "--json");
    if json && !matches!(e.kind(), Clap::DisplayHelp | Clap::DisplayVersion) {
        let message = e.render().to_string();
        let view = ErrorView::new(ErrorKind::Invalid, message.trim().to_string());
        eprintln!("{}", serde_json::to_string(&view).unwrap_or_default());
        std::process::exit(exit::USAGE);
    }
    // clap exits 0 for help and the version, 2 for usage errors.
    e.exit()
}

/// The exit status of a failure of this kind.
fn exit_status(kind: ErrorKind) -> i32 {
    match kind {
        ErrorKind::Invalid => exit::USAGE,
        ErrorKind::NotFound | ErrorKind::NoIdentity => exit::NOT_FOUND,
        ErrorKind::Network => exit::NETWORK,
        _ => exit::FAILURE,
    }
}

/// A failure the CLI itself finds, with the kind the contract gives it.
#[derive(Debug)]
pub(crate) struct Failure {
    kind: ErrorKind,
    message: String,
}

impl Failure {
    /// A network failure.
    pub(crate) fn network(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Network,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The error as the contract shapes it: the core's kind where the core
/// made it, else a bad input or a file that could not be read or written.
fn error_view(e: &anyhow::Error) -> ErrorView {
    let found = e.chain().find_map(|c| {
        c.downcast_ref::<starling_core::NodeError>()
            .map(|n| n.view().kind)
            .or_else(|| {
                c.downcast_ref::<starling_core::net::NetError>()
                    .map(|n| n.view().kind)
            })
            .or_else(|| {
                c.downcast_ref::<starling_core::StoreError>()
                    .map(|s| s.view().kind)
            })
            .or_else(|| c.downcast_ref::<Failure>().map(|f| f.kind))
            .or_else(|| {
                c.downcast_ref::<std::io::Error>()
                    .map(|io| match io.kind() {
                        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                        _ => ErrorKind::Storage,
                    })
            })
    });
    ErrorView::new(found.unwrap_or(ErrorKind::Invalid), format!("{e:#}"))
}

fn home_dir(cli: &Cli) -> Result<PathBuf> {
    if let Some(h) = &cli.home {
        return Ok(h.clone());
    }
    directories::ProjectDirs::from("org", "starling", "starling")
        .map(|d| d.data_dir().to_path_buf())
        .context("cannot find a data folder; pass --home DIR or set STARLING_HOME")
}

fn run(cli: Cli, out: Out) -> Result<()> {
    if let Command::Relay(args) = cli.command {
        return relay::run(out, args);
    }
    if let Command::DhtNode(args) = cli.command {
        return dht::run(out, args);
    }
    if let Command::Completions { shell } = cli.command {
        let mut stdout = std::io::stdout();
        clap_complete::generate(shell, &mut Cli::command(), "starling", &mut stdout);
        return Ok(());
    }
    if let Command::Man = cli.command {
        clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .context("cannot write the manual page")?;
        return Ok(());
    }
    let home = home_dir(&cli)?;
    // These make the home, so they run before one is opened.
    match &cli.command {
        Command::Init {
            name: Some(name), ..
        } => return account::init(out, &home, name),
        Command::Init { restore, .. } => {
            let node = key::recover_home(&home)?;
            if restore.has_peer() {
                let Command::Init { restore, .. } = cli.command else {
                    unreachable!()
                };
                return network::restore(out, node, restore);
            }
            return account::whoami_after_recovery(out, node);
        }
        Command::Device {
            action: devices::DeviceCmd::Join { ticket, net },
        } => return devices::join(out, &home, ticket, net),
        _ => {}
    }
    let mut node = Node::open(&home)?;
    match cli.command {
        // These hand the node to the network.
        Command::Run(args) => network::run(out, node, args),
        Command::Sync(args) => network::sync_once(out, node, args),
        Command::Restore(args) => network::restore(out, node, args),
        Command::Device { action } => devices::run(out, node, action),
        command => on_node(out, &mut node, command),
    }
}

/// Runs a command against the open node.
fn on_node(out: Out, node: &mut Node, command: Command) -> Result<()> {
    match command {
        Command::Init { .. }
        | Command::Run(_)
        | Command::Relay(_)
        | Command::DhtNode(_)
        | Command::Completions { .. }
        | Command::Man
        | Command::Sync(_)
        | Command::Restore(_)
        | Command::Device { .. } => {
            unreachable!("handled by `run`")
        }
        Command::Whoami => account::whoami(out, node),
        Command::Profile { action } => account::profile(out, node, action),
        Command::Suggestions { limit } => account::suggestions(out, node, limit),
        Command::Ticket { out: qr } => account::ticket(out, node, qr),
        Command::Post(args) => posts::post(out, node, args),
        Command::Like { post } => posts::act(out, node, Act::Like, &post),
        Command::Repost { post } => posts::act(out, node, Act::Repost, &post),
        Command::Unlike { post } => posts::undo(out, node, Act::Like, &post),
        Command::Unrepost { post } => posts::undo(out, node, Act::Repost, &post),
        Command::Delete { post } => posts::act(out, node, Act::Delete, &post),
        Command::Edit { post, text } => posts::edit(out, node, &post, &text),
        Command::Bookmark { post } => posts::bookmark(out, node, &post, true),
        Command::Unbookmark { post } => posts::bookmark(out, node, &post, false),
        Command::Bookmarks { limit } => read::bookmarks(out, node, limit),
        Command::Timeline { limit, before } => read::timeline(out, node, limit, before.as_deref()),
        Command::Thread { post } => read::thread(out, node, &post),
        Command::Search { query, limit } => read::search(out, node, &query, limit),
        Command::Notifications { limit } => read::notifications(out, node, limit),
        Command::Follow { ticket } => people::follow(out, node, &ticket),
        Command::Unfollow {
            identity,
            drop: false,
        } => people::change(out, node, Change::Unfollow, &identity),
        Command::Unfollow {
            identity,
            drop: true,
        } => people::unfollow_and_drop(out, node, &identity),
        Command::Mute { identity } => people::change(out, node, Change::Mute, &identity),
        Command::Unmute { identity } => people::change(out, node, Change::Unmute, &identity),
        Command::Block { identity } => people::change(out, node, Change::Block, &identity),
        Command::Unblock { identity } => people::change(out, node, Change::Unblock, &identity),
        Command::Scan { image } => tickets::scan(out, &image),
        Command::Export { out: path, for_ } => bundle::export(out, node, &path, for_.as_deref()),
        Command::Import { file, progress } => bundle::import(out, node, &file, progress),
        Command::Check => bundle::check(out, node),
        Command::Storage { action } => storage::run(out, node, action),
        Command::Group { action } => group::run(out, node, action),
        Command::Dm {
            action,
            identity,
            text,
        } => dm::run(out, node, action, identity, text),
        Command::Peers => network::peers(out, node),
        Command::Key {
            action: KeyCmd::Phrase { yes },
        } => key::phrase(out, node, yes),
    }
}
