//! Writing: `post`, `like`, `repost`, `edit`, `delete`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use starling_core::view::Written;
use starling_core::{EntryId, NewPost, Node, SpaceId};

use crate::out::Out;
use crate::tickets::read_file;

/// What `starling post` takes.
#[derive(Debug, clap::Args)]
pub(crate) struct PostArgs {
    /// The text (`-` reads it from standard input).
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
    /// Describe an image in words (alt text), for those who cannot see
    /// it: the first `--alt` goes with the first `--image`, and so on.
    #[arg(long)]
    alt: Vec<String>,
    /// Post in this group instead of your feed.
    #[arg(long)]
    group: Option<SpaceId>,
}

/// `starling post TEXT …`.
pub(crate) fn post(out: Out, node: &mut Node, args: PostArgs) -> Result<()> {
    let images = args
        .image
        .iter()
        .map(|p| read_file(p))
        .collect::<Result<Vec<_>>>()?;
    let text = if args.text == "-" {
        let bytes = read_file(std::path::Path::new("-"))?;
        let text = String::from_utf8(bytes).context("the post on standard input is not UTF-8")?;
        // `echo text |` ends it with a newline that is not the post's.
        text.trim_end_matches(['\n', '\r']).to_string()
    } else {
        args.text
    };
    let id = node.post(NewPost {
        text,
        reply_to: args.reply_to,
        quote_of: args.quote,
        images,
        alts: args.alt,
        group: args.group,
    })?;
    out.show(&Written { id }, || println!("{id}"));
    Ok(())
}

/// What to do to a post.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Act {
    Like,
    Repost,
    Delete,
}

/// `starling like|repost|delete POST`.
pub(crate) fn act(out: Out, node: &mut Node, act: Act, post: &EntryId) -> Result<()> {
    let (id, done) = match act {
        Act::Like => (node.like(post)?, "liked"),
        Act::Repost => (node.repost(post)?, "reposted"),
        Act::Delete => (node.delete(post)?, "deleted"),
    };
    out.show(&Written { id }, || println!("{done} {}", post.fmt_short()));
    Ok(())
}

/// `starling unlike|unrepost POST`: prints the post as it now stands.
pub(crate) fn undo(out: Out, node: &mut Node, act: Act, post: &EntryId) -> Result<()> {
    let (changed, what) = match act {
        Act::Like => (node.unlike(post)?, "like"),
        Act::Repost => (node.unrepost(post)?, "repost"),
        Act::Delete => anyhow::bail!("a delete cannot be taken back"),
    };
    let view = node
        .store()
        .post(post)?
        .ok_or_else(|| anyhow::anyhow!("post {} not found", post.fmt_short()))?;
    out.show(&view, || match changed {
        true => println!("took back your {what} of {}", post.fmt_short()),
        false => println!("you had no {what} of {} to take back", post.fmt_short()),
    });
    Ok(())
}

/// `starling bookmark|unbookmark POST`: prints the bookmarked ids.
pub(crate) fn bookmark(out: Out, node: &mut Node, post: &EntryId, on: bool) -> Result<()> {
    let changed = if on {
        node.bookmark(post)?
    } else {
        node.unbookmark(post)?
    };
    let ids = node.bookmark_ids()?;
    out.show(&ids, || match (on, changed) {
        (true, true) => println!("bookmarked {}", post.fmt_short()),
        (true, false) => println!("{} was bookmarked already", post.fmt_short()),
        (false, true) => println!("took {} out of your bookmarks", post.fmt_short()),
        (false, false) => println!("{} was not bookmarked", post.fmt_short()),
    });
    Ok(())
}

/// `starling edit POST TEXT`.
pub(crate) fn edit(out: Out, node: &mut Node, post: &EntryId, text: &str) -> Result<()> {
    let id = node.edit(post, text)?;
    out.show(&Written { id }, || println!("edited {}", post.fmt_short()));
    Ok(())
}
