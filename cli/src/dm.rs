//! Direct messages: `dm IDENTITY TEXT`, `dm list`, `dm show IDENTITY`.

use anyhow::{Result, bail};
use clap::Subcommand;
use starling_core::view::Written;
use starling_core::{IdentityId, Node};

use crate::out::Out;

/// `starling dm list|show`.
#[derive(Debug, Subcommand)]
pub(crate) enum DmCmd {
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

/// `starling dm …`.
pub(crate) fn run(
    out: Out,
    node: &mut Node,
    cmd: Option<DmCmd>,
    to: Option<IdentityId>,
    text: Option<String>,
) -> Result<()> {
    match (cmd, to, text) {
        (Some(DmCmd::List), _, _) => {
            let list = node.conversations()?;
            out.show(&list, || {
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
            });
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
            out.page(
                &page,
                "(no messages yet)",
                &format!("starling dm show {identity}"),
            );
        }
        (None, Some(to), Some(text)) => {
            let id = node.dm(&to, &text)?;
            out.show(&Written { id }, || println!("{id}"));
        }
        _ => bail!("usage: starling dm IDENTITY TEXT | dm list | dm show IDENTITY"),
    }
    Ok(())
}
