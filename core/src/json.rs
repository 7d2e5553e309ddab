//! The JSON shapes of what a person sees: posts, pages, profiles and
//! notifications. The CLI's `--json` output and the app's commands share
//! them, so a script and the UI read the same objects.

use serde_json::{Value, json};

use crate::store::{Notification, Page, PostView, ProfileView};

/// A post: `{"id", "author", "author_name", "text", "timestamp", "reply_to",
/// "quote_of", "likes", "reposts", "edited", "images"}`; ids are hex.
pub fn post(p: &PostView) -> Value {
    json!({
        "id": p.id.to_string(),
        "author": p.author.to_string(),
        "author_name": p.author_name,
        "text": p.text,
        "timestamp": p.timestamp,
        "reply_to": p.reply_to.map(|r| r.to_string()),
        "quote_of": p.quote_of.map(|r| r.to_string()),
        "likes": p.likes,
        "reposts": p.reposts,
        "edited": p.edited,
        "images": p.images.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
    })
}

/// Posts as a JSON array.
pub fn posts(ps: &[PostView]) -> Value {
    Value::Array(ps.iter().map(post).collect())
}

/// A page: `{"posts": [...], "next": cursor or null}`.
pub fn page(p: &Page) -> Value {
    json!({"posts": posts(&p.posts), "next": p.next})
}

/// A profile: `{"identity", "name", "bio", "avatar", "followed", "muted",
/// "blocked", "posts"}`.
pub fn profile(p: &ProfileView) -> Value {
    json!({
        "identity": p.identity.to_string(),
        "name": p.name,
        "bio": p.bio,
        "avatar": p.avatar.map(|h| h.to_string()),
        "followed": p.followed,
        "muted": p.muted,
        "blocked": p.blocked,
        "posts": p.posts,
    })
}

/// A notification: `{"kind", "from", "from_name", "post", "timestamp"}`.
pub fn notification(n: &Notification) -> Value {
    json!({
        "kind": n.kind.as_str(),
        "from": n.from.to_string(),
        "from_name": n.from_name,
        "post": post(&n.post),
        "timestamp": n.timestamp,
    })
}
