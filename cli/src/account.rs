//! This device's identity: `init`, `whoami`, `profile`, `ticket`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use starling_core::doc::ProfileUpdate;
use starling_core::{IdentityId, Node};

use crate::out::{Out, print_profile};
use crate::tickets::{QrOut, read_file};

/// `starling profile …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCmd {
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
    /// Someone's posts with images, newest first (yours by default).
    Media {
        /// The identity.
        identity: Option<IdentityId>,
        /// Most posts.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Cursor from a previous page's `next`.
        #[arg(long)]
        before: Option<String>,
    },
    /// Show whom you follow to those who follow you (`on`), or stop
    /// (`off`, which takes the list back); with neither, say which.
    ShowFollows {
        /// `on` or `off`.
        switch: Option<Switch>,
    },
}

/// On or off.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// `starling init --name NAME`.
pub(crate) fn init(out: Out, home: &Path, name: &str) -> Result<()> {
    let mut node = Node::init(home, name)?;
    let me = node.whoami()?;
    out.show(&me, || {
        println!(
            "Created identity {} ({}) in {}",
            me.identity,
            name,
            home.display()
        );
    });
    if !out.json {
        crate::key::show_new(&node)?;
    }
    Ok(())
}

/// After `init --recover` with no peer to restore from.
pub(crate) fn whoami_after_recovery(out: Out, mut node: Node) -> Result<()> {
    let me = node.whoami()?;
    out.show(&me, || {
        println!("Recovered identity {} on this new device.", me.identity);
        println!(
            "Now bring back your posts and account from someone who follows you: `starling restore --from THEIR_TICKET`."
        );
    });
    Ok(())
}

/// `starling whoami`.
pub(crate) fn whoami(out: Out, node: &mut Node) -> Result<()> {
    let me = node.whoami()?;
    out.show(&me, || {
        println!("name:     {}", me.name.as_deref().unwrap_or("(none)"));
        println!("identity: {}", me.identity);
        println!("device:   {}", me.device);
    });
    Ok(())
}

/// `starling profile …`.
pub(crate) fn profile(out: Out, node: &mut Node, cmd: ProfileCmd) -> Result<()> {
    let p = match cmd {
        ProfileCmd::Set { name, bio, avatar } => {
            let avatar = avatar.map(|p| read_file(&p)).transpose()?;
            node.set_profile(
                ProfileUpdate {
                    name,
                    bio,
                    avatar: None,
                },
                avatar.as_deref(),
            )?;
            node.profile(None)?
        }
        ProfileCmd::Show { identity } => node.profile(identity.as_ref())?,
        ProfileCmd::Media {
            identity,
            limit,
            before,
        } => {
            let who = identity.unwrap_or(node.identity());
            let page = node.author_media(&who, limit, before.as_deref())?;
            out.page(
                &page,
                "(no posts with images here)",
                &format!("starling profile media {who}"),
            );
            return Ok(());
        }
        ProfileCmd::ShowFollows { switch } => {
            if let Some(s) = switch {
                node.set_show_follows(matches!(s, Switch::On))?;
            }
            let on = node.show_follows()?;
            out.show(&serde_json::json!({ "show_follows": on }), || {
                if on {
                    println!("Those who follow you see whom you follow.");
                } else {
                    println!("Whom you follow is private.");
                }
            });
            return Ok(());
        }
    };
    out.show(&p, || print_profile(&p));
    Ok(())
}

/// `starling suggestions`: who to follow.
pub(crate) fn suggestions(out: Out, node: &mut Node, limit: usize) -> Result<()> {
    let list = node.suggestions(limit)?;
    out.show(&list, || {
        if list.is_empty() {
            println!("No one to suggest yet: suggestions come from those you follow who show whom they follow.");
        }
        for s in &list {
            let p = &s.profile;
            println!(
                "{} ({}) · followed by {}{}{}",
                p.name.as_deref().unwrap_or("(no name known)"),
                p.identity,
                s.followed_by.join(", "),
                match s.followers as usize - s.followed_by.len().min(s.followers as usize) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                },
                if s.key_held {
                    " · `starling follow` with their id works"
                } else {
                    " · ask them for their ticket"
                }
            );
        }
    });
    Ok(())
}

/// `starling ticket`: what others need to follow you.
pub(crate) fn ticket(out: Out, node: &mut Node, qr: QrOut) -> Result<()> {
    crate::tickets::show(out, &node.ticket()?, qr)
}
