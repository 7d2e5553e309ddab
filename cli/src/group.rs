//! `starling group …`: private groups.

use anyhow::{Context, Result};
use clap::Subcommand;
use serde_json::json;
use starling_core::{GroupView, IdentityId, Node, SpaceId, Ticket};

use crate::{QrOut, print, read_ticket};

#[derive(Debug, Subcommand)]
pub(crate) enum GroupCmd {
    /// Make a private group, with you as its admin.
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

fn group_json(g: &GroupView) -> serde_json::Value {
    json!({
        "id": g.id.to_string(),
        "name": g.name,
        "description": g.description,
        "owner": g.owner.to_string(),
        "members": g.members.iter().map(|(who, role)| json!({"identity": who.to_string(), "role": role})).collect::<Vec<_>>(),
        "my_role": g.my_role,
    })
}

fn print_group(g: &GroupView) {
    println!("{}  {}", g.id, g.name.as_deref().unwrap_or("(unnamed)"));
    if let Some(d) = &g.description {
        println!("  {d}");
    }
    for (who, role) in &g.members {
        println!(
            "  {who}  {}",
            serde_json::to_value(role)
                .unwrap_or_default()
                .as_str()
                .unwrap_or("")
        );
    }
}

pub(crate) fn run(node: &mut Node, json: bool, cmd: GroupCmd) -> Result<()> {
    match cmd {
        GroupCmd::Create { name, description } => {
            let id = node.group_create(&name, description.as_deref())?;
            print(json, json!({"id": id.to_string()}), || println!("{id}"));
        }
        GroupCmd::Invite { group, out, hours } => {
            let t = node.group_invite(&group, hours.saturating_mul(3_600_000))?;
            crate::show_ticket(json, &t, out)?;
        }
        GroupCmd::Join { ticket } => {
            let t: Ticket = read_ticket(&ticket)?;
            let id = node.group_join(&t)?;
            let mut g = node.group(&id)?;
            if let (None, Ticket::Group(invite)) = (&g.name, &t) {
                // Until the group's document arrives, the invite names it.
                g.name = Some(invite.name.clone());
            }
            print(json, group_json(&g), || {
                println!(
                    "joined {} ({id}); posts arrive when you sync with a member",
                    g.name.as_deref().unwrap_or("the group")
                )
            });
        }
        GroupCmd::Leave { group } => {
            node.group_leave(&group)?;
            print(json, json!({"left": group.to_string()}), || {
                println!("left group {}", group.fmt_short())
            });
        }
        GroupCmd::Remove { group, member } => {
            let epoch = node.group_remove(&group, &member)?;
            print(
                json,
                json!({"removed": member.to_string(), "epoch": epoch}),
                || {
                    println!(
                        "removed {}; the group's key is now at epoch {epoch}",
                        member.fmt_short()
                    )
                },
            );
        }
        GroupCmd::List => {
            let groups = node.groups()?;
            print(
                json,
                json!({"groups": groups.iter().map(group_json).collect::<Vec<_>>()}),
                || {
                    if groups.is_empty() {
                        println!("(no groups: make one with `starling group create NAME`)");
                    }
                    for g in &groups {
                        print_group(g);
                    }
                },
            );
        }
        GroupCmd::Show { group } => {
            let g = node.group(&group)?;
            print(json, group_json(&g), || print_group(&g));
        }
        GroupCmd::Timeline {
            group,
            limit,
            before,
        } => {
            let page = node
                .group_timeline(&group, limit, before.as_deref())
                .with_context(|| format!("group {}", group.fmt_short()))?;
            crate::output::print_page(
                json,
                &page,
                "(no posts in this group yet)",
                &format!("starling group timeline {group}"),
            );
        }
    }
    Ok(())
}
