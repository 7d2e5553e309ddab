//! Who you see: `follow`, `unfollow`, `mute`, `unmute`, `block`, `unblock`.

use anyhow::Result;
use starling_core::view::Changed;
use starling_core::{IdentityId, Node};

use crate::out::Out;

/// `starling follow TICKET_OR_PICTURE`: prints the profile followed.
pub(crate) fn follow(out: Out, node: &mut Node, ticket: &str) -> Result<()> {
    // An identity id follows someone whose feed key is held here (a
    // suggestion, someone unfollowed or met in a group).
    let who = match ticket.parse::<IdentityId>() {
        Ok(id) => node.follow_known(&id)?,
        Err(_) => node.follow(&crate::tickets::read(ticket)?)?,
    };
    let p = node.profile(Some(&who))?;
    out.show(&p, || {
        println!(
            "following {}",
            p.name.as_deref().unwrap_or(&who.fmt_short())
        )
    });
    Ok(())
}

/// A change to how an identity is seen.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change {
    Unfollow,
    Mute,
    Unmute,
    Block,
    Unblock,
}

/// `starling unfollow|mute|unmute|block|unblock IDENTITY`.
pub(crate) fn change(out: Out, node: &mut Node, change: Change, who: &IdentityId) -> Result<()> {
    let (changed, done) = match change {
        Change::Unfollow => (node.unfollow(who)?, "unfollowed"),
        Change::Mute => (node.mute(who)?, "muted"),
        Change::Unmute => (node.unmute(who)?, "unmuted"),
        Change::Block => (node.block(who)?, "blocked"),
        Change::Unblock => (node.unblock(who)?, "unblocked"),
    };
    let view = Changed {
        identity: *who,
        changed,
    };
    out.show(&view, || match (change, changed) {
        (Change::Unfollow, false) => println!("was not following {}", who.fmt_short()),
        _ => println!("{done} {}", who.fmt_short()),
    });
    Ok(())
}

/// `starling unfollow IDENTITY --drop`: unfollows, then drops what this
/// device holds of their feed (or says why it is kept).
pub(crate) fn unfollow_and_drop(out: Out, node: &mut Node, who: &IdentityId) -> Result<()> {
    node.unfollow(who)?;
    let dropped = node.drop_feed(who)?;
    out.show(&dropped, || match &dropped.kept {
        Some(why) => println!("unfollowed {}; their feed is kept: {why}", who.fmt_short()),
        None => println!(
            "unfollowed {}; dropped {} entries and {} images",
            who.fmt_short(),
            dropped.entries,
            dropped.images
        ),
    });
    Ok(())
}
