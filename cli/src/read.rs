//! Reading: `timeline`, `thread`, `search`, `notifications`.

use anyhow::Result;
use starling_core::{EntryId, Node, NotificationKind};

use crate::out::{Out, local, print_post};

/// `starling timeline`.
pub(crate) fn timeline(
    out: Out,
    node: &mut Node,
    limit: usize,
    before: Option<&str>,
) -> Result<()> {
    let page = node.timeline(limit, before)?;
    out.page(
        &page,
        "(no posts yet: follow someone with `starling follow TICKET`, or post)",
        "starling timeline",
    );
    Ok(())
}

/// `starling thread POST`.
pub(crate) fn thread(out: Out, node: &mut Node, post: &EntryId) -> Result<()> {
    out.posts(&node.thread(post)?, "");
    Ok(())
}

/// `starling search QUERY`.
pub(crate) fn search(out: Out, node: &mut Node, query: &str, limit: usize) -> Result<()> {
    out.posts(
        &node.search(query, limit)?,
        &format!("no posts match {query:?}"),
    );
    Ok(())
}

/// `starling bookmarks`.
pub(crate) fn bookmarks(out: Out, node: &mut Node, limit: usize) -> Result<()> {
    out.posts(&node.bookmarks(limit)?, "no bookmarks");
    Ok(())
}

/// `starling notifications`.
pub(crate) fn notifications(out: Out, node: &mut Node, limit: usize) -> Result<()> {
    let list = node.notifications(limit)?;
    out.show(&list, || {
        if list.is_empty() {
            println!("no notifications");
        }
        for n in &list {
            let who = n.from_name.as_deref().unwrap_or("?");
            let what = match n.kind {
                NotificationKind::Reply => "replied",
                NotificationKind::Mention => "mentioned you",
                NotificationKind::Like => "liked your post",
                NotificationKind::Repost => "reposted your post",
            };
            println!(
                "{who} ({}) {what} · {}",
                n.from.fmt_short(),
                local(n.timestamp)
            );
            print_post(&n.post);
        }
    });
    Ok(())
}
