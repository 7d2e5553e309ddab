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
    };
    out.show(&p, || print_profile(&p));
    Ok(())
}

/// `starling ticket`: what others need to follow you.
pub(crate) fn ticket(out: Out, node: &mut Node, qr: QrOut) -> Result<()> {
    crate::tickets::show(out, &node.ticket()?, qr)
}
