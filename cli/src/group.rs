//! `starling group …`: private groups.

use anyhow::{Context, Result};
use clap::Subcommand;
use starling_core::view::{Left, Removed, Role};
use starling_core::{GroupView, IdentityId, Node, SpaceId, Ticket};

use crate::out::Out;
use crate::tickets::QrOut;

#[derive(Debug, Subcommand)]
pub(crate) enum GroupCmd {
    /// Make a private group, with you as its owner.
    Create {
        /// Its name.
        name: String,
        /// What it is about.
        #[arg(long)]
        description: Option<String>,
    },
    /// Print an invite into a group (its owner only).
    Invite {
        /// The group's id.
        group: SpaceId,
        #[command(flatten)]
        out: QrOut,
        /// Hours the invite stays valid.
        #[arg(long, default_value_t = 168)]
        hours: u64,
    },
    /// Join a group by its invite (text, or a picture of its QR code).
    Join {
        /// The invite.
        ticket: String,
    },
    /// Leave a group (not its owner): the owner's next key rotation leaves
    /// you out.
    Leave {
        /// The group's id.
        group: SpaceId,
    },
    /// Remove a member (the owner only): the group's key is rotated, so
    /// they read nothing posted after this, and what they write after it
    /// is refused.
    Remove {
        /// The group's id.
        group: SpaceId,
        /// The member's identity id.
        member: IdentityId,
    },
    /// List your groups.
    List,
    /// Show a group: name, description, members.
    Show {
        /// The group's id.
        group: SpaceId,
    },
    /// A group's timeline, newest first.
    Timeline {
        /// The group's id.
        group: SpaceId,
        /// Most posts to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Continue after this cursor (from `next`).
        #[arg(long)]
        before: Option<String>,
    },
}

fn print_group(g: &GroupView) {
    println!("{}  {}", g.id, g.name.as_deref().unwrap_or("(unnamed)"));
    if let Some(d) = &g.description {
        println!("  {d}");
    }
    for m in &g.members {
        let role = match m.role {
            Role::Owner => "owner",
            Role::Member => "member",
        };
        println!(
            "  {}  {}  {role}",
            m.identity,
            m.name.as_deref().unwrap_or("?")
        );
    }
}

/// `starling group …`.
pub(crate) fn run(out: Out, node: &mut Node, cmd: GroupCmd) -> Result<()> {
    match cmd {
        GroupCmd::Create { name, description } => {
            let id = node.group_create(&name, description.as_deref())?;
            let g = node.group(&id)?;
            out.show(&g, || println!("{id}"));
        }
        GroupCmd::Invite {
            group,
            out: qr,
            hours,
        } => {
            let t = node.group_invite(&group, hours.saturating_mul(3_600_000))?;
            crate::tickets::show(out, &t, qr)?;
        }
        GroupCmd::Join { ticket } => {
            let t: Ticket = crate::tickets::read(&ticket)?;
            let id = node.group_join(&t)?;
            let mut g = node.group(&id)?;
            if let (None, Ticket::Group(invite)) = (&g.name, &t) {
                // Until the group's document arrives, the invite names it.
                g.name = Some(invite.name.clone());
            }
            out.show(&g, || {
                println!(
                    "joined {} ({id}); posts arrive when you sync with a member",
                    g.name.as_deref().unwrap_or("the group")
                )
            });
        }
        GroupCmd::Leave { group } => {
            node.group_leave(&group)?;
            out.show(&Left { group }, || {
                println!("left group {}", group.fmt_short())
            });
        }
        GroupCmd::Remove { group, member } => {
            let epoch = node.group_remove(&group, &member)?;
            let view = Removed {
                group,
                member,
                epoch,
            };
            out.show(&view, || {
                println!(
                    "removed {}; the group's key is now at epoch {epoch}",
                    member.fmt_short()
                )
            });
        }
        GroupCmd::List => {
            let groups = node.groups()?;
            out.show(&groups, || {
                if groups.is_empty() {
                    println!("(no groups: make one with `starling group create NAME`)");
                }
                for g in &groups {
                    print_group(g);
                }
            });
        }
        GroupCmd::Show { group } => {
            let g = node.group(&group)?;
            out.show(&g, || print_group(&g));
        }
        GroupCmd::Timeline {
            group,
            limit,
            before,
        } => {
            let page = node
                .group_timeline(&group, limit, before.as_deref())
                .with_context(|| format!("group {}", group.fmt_short()))?;
            out.page(
                &page,
                "(no posts in this group yet)",
                &format!("starling group timeline {group}"),
            );
        }
    }
    Ok(())
}
