//! The typed commands the UI invokes (`ui/src/lib/api.ts` is their other
//! half). Each one locks the node for one short store operation. Results
//! are the core's views and errors its `ErrorView` (`{kind, message}`), so
//! the UI's types (`ui/src/lib/contract.ts`) are generated from the same
//! Rust types the CLI prints.

use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use starling_core::doc::ProfileUpdate;
use starling_core::view::{
    Changed, Conversation, DeviceView, ErrorKind, ErrorView, GroupView, ImportSummary, Left,
    LinkCode, LinkOutcome, NetStatus, Notification, Page, Phrase, PostView, ProfileView, Removed,
    Restored, Revoked, ScannedTicket, Settings as SettingsView, Status, Suggestion, SyncSummary,
    TicketView, TrendingTag, WhoAmI, Written,
};
use starling_core::{
    Audience, DeviceId, DeviceKey, EntryId, IdentityId, NewPost, Node, NodeError, PeerAddr,
    SpaceId, Ticket,
};
use tauri::{AppHandle, State};

use crate::settings::Settings;
use crate::shell::{Create, Shell, lock};

type Res<T> = Result<T, ErrorView>;

/// How long a group invite stays valid.
const INVITE_VALID: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a device link ticket stays valid.
const LINK_VALID: Duration = Duration::from_secs(10 * 60);
/// Most search results and notifications shown.
const LIST_LIMIT: usize = 100;

fn invalid(message: impl ToString) -> ErrorView {
    ErrorView::new(ErrorKind::Invalid, message)
}

/// Runs `f` on the open node.
fn with<T>(shell: &Shell, f: impl FnOnce(&mut Node) -> Result<T, NodeError>) -> Res<T> {
    let node = shell.node()?;
    let mut guard = lock(&node);
    f(&mut guard).map_err(|e| e.view())
}

fn parse<T: FromStr>(s: &str, what: &str) -> Res<T>
where
    T::Err: std::fmt::Display,
{
    s.trim()
        .parse()
        .map_err(|e| invalid(format!("{what} {s:?} is not valid: {e}")))
}

fn base64(s: &str) -> Res<Vec<u8>> {
    data_encoding::BASE64
        .decode(s.as_bytes())
        .map_err(|e| invalid(format!("bad file data: {e}")))
}

/// An image the UI attaches: its bytes as base64 (the core reads its type
/// from the bytes).
#[derive(Debug, Deserialize)]
pub(crate) struct ImageInput {
    base64: String,
    /// What the image shows, in words (alt text).
    #[serde(default)]
    alt: String,
}

/// A post as the compose box sends it.
#[derive(Debug, Deserialize)]
pub(crate) struct PostInput {
    text: String,
    reply_to: Option<String>,
    quote_of: Option<String>,
    group: Option<String>,
    #[serde(default)]
    images: Vec<ImageInput>,
}

fn ticket_view(t: &Ticket) -> Res<TicketView> {
    Ok(TicketView {
        text: t.encode(),
        uri: t.to_uri(),
        svg: Some(t.to_qr_svg().map_err(invalid)?),
    })
}

fn decode_ticket(s: &str) -> Res<Ticket> {
    Ticket::decode(s).map_err(invalid)
}

/// Catches up with the peer a ticket names, in the background.
async fn reach(shell: &Shell, peer: Option<PeerAddr>) {
    shell.changed().await;
    if let (Some(net), Some(addr)) = (shell.peer().await, peer) {
        tauri::async_runtime::spawn(async move {
            let _ = net.sync_with(&addr).await;
        });
    }
}

#[tauri::command]
async fn status(shell: State<'_, Shell>) -> Res<Status> {
    let me = if shell.has_node() {
        Some(with(&shell, |n| n.whoami())?)
    } else {
        None
    };
    Ok(Status {
        home: shell.home.display().to_string(),
        me,
    })
}

#[tauri::command]
async fn create_identity(
    app: AppHandle,
    shell: State<'_, Shell>,
    name: String,
    avatar: Option<ImageInput>,
) -> Res<WhoAmI> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid("a name is needed"));
    }
    let avatar = avatar.map(|a| base64(&a.base64)).transpose()?;
    let node = shell.create(Create::New(name))?;
    let me = {
        let mut n = lock(&node);
        if let Some(bytes) = avatar {
            n.set_profile(ProfileUpdate::default(), Some(&bytes))
                .map_err(|e| e.view())?;
        }
        n.whoami().map_err(|e| e.view())?
    };
    // A network that does not start shows in the sync indicator.
    let _ = shell.start(&app).await;
    Ok(me)
}

/// Starts linking this new device with another device's link code:
/// connects to it and returns the confirmation code to compare with the
/// one the other device shows. [`device_join_confirm`] finishes.
#[tauri::command]
async fn device_join(shell: State<'_, Shell>, ticket: String) -> Res<LinkCode> {
    let Ticket::Device(t) = decode_ticket(&ticket)? else {
        return Err(invalid(
            "this is not a device link code (Devices → Link a device makes one)",
        ));
    };
    if shell.has_node() {
        return Err(ErrorView::new(
            ErrorKind::AlreadyExists,
            "this device already has an identity",
        ));
    }
    let device =
        DeviceKey::from_secret_bytes(starling_core::node::fresh_secret().map_err(|e| e.view())?);
    let config = Settings::load(&shell.home).net_config();
    let (shown, code) = tokio::sync::oneshot::channel();
    let (decide, decision) = tokio::sync::oneshot::channel();
    let key = device.clone();
    let ticket = t.clone();
    let session = tauri::async_runtime::spawn(async move {
        starling_core::net::join_link(&ticket, &key, &config, |code| async move {
            let _ = shown.send(code);
            decision.await.unwrap_or(false)
        })
        .await
    });
    let code = match code.await {
        Ok(code) => code,
        // The session ended before a code: say why.
        Err(_) => {
            let why = match session.await {
                Ok(Err(e)) => e.view(),
                _ => ErrorView::new(ErrorKind::Network, "the link session ended"),
            };
            return Err(why);
        }
    };
    *lock(&shell.joining) = Some(crate::shell::Joining {
        decide,
        session,
        device,
        linker: t.peer,
    });
    Ok(LinkCode { code })
}

/// Finishes linking this new device: `accept` when the other device shows
/// the same code. The other device's user confirms there too.
#[tauri::command]
async fn device_join_confirm(app: AppHandle, shell: State<'_, Shell>, accept: bool) -> Res<WhoAmI> {
    let joining = lock(&shell.joining)
        .take()
        .ok_or_else(|| invalid("no device link is under way"))?;
    let _ = joining.decide.send(accept);
    let grant = joining
        .session
        .await
        .map_err(|e| ErrorView::new(ErrorKind::Network, e.to_string()))?
        .map_err(|e| e.view())?;
    let node = shell.create(Create::Join {
        device: Box::new(joining.device),
        grant: &grant,
        linker: &joining.linker,
    })?;
    let me = lock(&node).whoami().map_err(|e| e.view())?;
    let _ = shell.start(&app).await;
    reach(&shell, Some(joining.linker)).await;
    Ok(me)
}

/// Brings an identity back from its phrase on this new device, then
/// restores its account from a follower (`from`, their ticket) or the
/// peers it meets.
#[tauri::command]
async fn recover(
    app: AppHandle,
    shell: State<'_, Shell>,
    words: String,
    from: Option<String>,
) -> Res<Restored> {
    let from = from
        .filter(|t| !t.trim().is_empty())
        .map(|t| decode_ticket(&t))
        .transpose()?;
    let node = shell.create(Create::Recover(&words))?;
    let peer = match &from {
        Some(t) => lock(&node).meet(t).map_err(|e| e.view())?,
        None => None,
    };
    let _ = shell.start(&app).await;
    restore_from(&shell, peer).await
}

/// Restores the account from `peer` (or every known peer).
async fn restore_from(shell: &Shell, peer: Option<PeerAddr>) -> Res<Restored> {
    shell
        .running_peer()
        .await?
        .restore_account(peer.as_ref())
        .await
        .map_err(|e| e.view())
}

/// Restores the account again (after more peers were met).
#[tauri::command]
async fn restore(shell: State<'_, Shell>) -> Res<Restored> {
    restore_from(&shell, None).await
}

/// The recovery phrase.
#[tauri::command]
async fn phrase(shell: State<'_, Shell>) -> Res<Phrase> {
    let words = with(&shell, |n| n.phrase())?;
    Ok(Phrase {
        words: words.split(' ').map(String::from).collect(),
    })
}

#[tauri::command]
async fn open_link(app: AppHandle, url: String) -> Res<()> {
    use tauri_plugin_opener::OpenerExt;
    let url = crate::navigation::external(&url)
        .ok_or_else(|| invalid(format!("only web links open: {url:?}")))?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| ErrorView::new(ErrorKind::Storage, format!("cannot open {url}: {e}")))
}

/// Highest count the icon shows (more reads as this many).
const MAX_BADGE: u32 = 9_999;
/// Longest notification title and body the UI may ask for, in characters.
const MAX_NOTIFY_TITLE: usize = 120;
const MAX_NOTIFY_BODY: usize = 400;

/// Shows a notification of the operating system (the UI decides when:
/// replies, mentions, messages and group posts the user is not looking
/// at).
#[tauri::command]
async fn notify_system(app: AppHandle, title: String, body: String) -> Res<()> {
    use tauri_plugin_notification::NotificationExt;
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    app.notification()
        .builder()
        .title(cut(&title, MAX_NOTIFY_TITLE))
        .body(cut(&body, MAX_NOTIFY_BODY))
        .show()
        .map_err(|e| {
            ErrorView::new(
                ErrorKind::Storage,
                format!("cannot show a notification: {e}"),
            )
        })
}

/// Shows the unread count on the app's dock or taskbar icon (0: none).
#[tauri::command]
async fn set_badge(app: AppHandle, count: u32) -> Res<()> {
    crate::badge::show(&app, count.min(MAX_BADGE))
        .map_err(|e| ErrorView::new(ErrorKind::Storage, format!("cannot set the badge: {e}")))
}

/// The `starling:` links opened since the UI last asked (see `links`).
#[tauri::command]
async fn opened_links(links: State<'_, crate::links::OpenedLinks>) -> Res<Vec<ScannedTicket>> {
    Ok(links.take())
}

#[tauri::command]
async fn ticket(shell: State<'_, Shell>) -> Res<TicketView> {
    ticket_view(&with(&shell, |n| n.ticket())?)
}

#[tauri::command]
async fn timeline(shell: State<'_, Shell>, limit: usize, before: Option<String>) -> Res<Page> {
    with(&shell, |n| n.timeline(limit, before.as_deref()))
}

#[tauri::command]
async fn author_posts(
    shell: State<'_, Shell>,
    identity: String,
    limit: usize,
    before: Option<String>,
) -> Res<Page> {
    let who: IdentityId = parse(&identity, "identity")?;
    with(&shell, |n| n.author_posts(&who, limit, before.as_deref()))
}

/// Someone's posts with images (the profile's media tab).
#[tauri::command]
async fn author_media(
    shell: State<'_, Shell>,
    identity: String,
    limit: usize,
    before: Option<String>,
) -> Res<Page> {
    let who: IdentityId = parse(&identity, "identity")?;
    with(&shell, |n| n.author_media(&who, limit, before.as_deref()))
}

#[tauri::command]
async fn thread(shell: State<'_, Shell>, id: String) -> Res<Vec<PostView>> {
    let id: EntryId = parse(&id, "post id")?;
    with(&shell, |n| n.thread(&id))
}

#[tauri::command]
async fn search(shell: State<'_, Shell>, query: String) -> Res<Vec<PostView>> {
    with(&shell, |n| n.search(&query, LIST_LIMIT))
}

#[tauri::command]
async fn notifications(shell: State<'_, Shell>) -> Res<Vec<Notification>> {
    with(&shell, |n| n.notifications(LIST_LIMIT))
}

#[tauri::command]
async fn post(shell: State<'_, Shell>, post: PostInput) -> Res<Written> {
    let new = NewPost {
        text: post.text,
        reply_to: post.reply_to.map(|r| parse(&r, "post id")).transpose()?,
        quote_of: post.quote_of.map(|r| parse(&r, "post id")).transpose()?,
        group: post.group.map(|g| parse(&g, "group")).transpose()?,
        images: post
            .images
            .iter()
            .map(|i| base64(&i.base64))
            .collect::<Res<_>>()?,
        alts: post.images.into_iter().map(|i| i.alt).collect(),
    };
    let id = with(&shell, |n| n.post(new))?;
    shell.changed().await;
    Ok(Written { id })
}

/// Runs one write on a post by id, then lets the network know.
async fn on_post(
    shell: &Shell,
    id: &str,
    f: impl FnOnce(&mut Node, &EntryId) -> Result<EntryId, NodeError>,
) -> Res<Written> {
    let id: EntryId = parse(id, "post id")?;
    let id = with(shell, |n| f(n, &id))?;
    shell.changed().await;
    Ok(Written { id })
}

#[tauri::command]
async fn like(shell: State<'_, Shell>, id: String) -> Res<Written> {
    on_post(&shell, &id, |n, id| n.like(id)).await
}

#[tauri::command]
async fn repost(shell: State<'_, Shell>, id: String) -> Res<Written> {
    on_post(&shell, &id, |n, id| n.repost(id)).await
}

/// Takes back a like or repost; the post as it now stands.
async fn undo(
    shell: &Shell,
    id: &str,
    f: impl FnOnce(&mut Node, &EntryId) -> Result<bool, NodeError>,
) -> Res<PostView> {
    let id: EntryId = parse(id, "post id")?;
    let post = with(shell, |n| {
        f(n, &id)?;
        n.store().post(&id)?.ok_or(NodeError::PostNotFound(id))
    })?;
    shell.changed().await;
    Ok(post)
}

#[tauri::command]
async fn unlike(shell: State<'_, Shell>, id: String) -> Res<PostView> {
    undo(&shell, &id, |n, id| n.unlike(id)).await
}

#[tauri::command]
async fn unrepost(shell: State<'_, Shell>, id: String) -> Res<PostView> {
    undo(&shell, &id, |n, id| n.unrepost(id)).await
}

/// Bookmarks or un-bookmarks a post; the bookmarked ids as they now stand.
async fn change_bookmark(
    shell: &Shell,
    id: &str,
    f: impl FnOnce(&mut Node, &EntryId) -> Result<bool, NodeError>,
) -> Res<Vec<EntryId>> {
    let id: EntryId = parse(id, "post id")?;
    let ids = with(shell, |n| {
        f(n, &id)?;
        n.bookmark_ids()
    })?;
    shell.changed().await;
    Ok(ids)
}

#[tauri::command]
async fn bookmark(shell: State<'_, Shell>, id: String) -> Res<Vec<EntryId>> {
    change_bookmark(&shell, &id, |n, id| n.bookmark(id)).await
}

#[tauri::command]
async fn unbookmark(shell: State<'_, Shell>, id: String) -> Res<Vec<EntryId>> {
    change_bookmark(&shell, &id, |n, id| n.unbookmark(id)).await
}

#[tauri::command]
async fn bookmark_ids(shell: State<'_, Shell>) -> Res<Vec<EntryId>> {
    with(&shell, |n| n.bookmark_ids())
}

#[tauri::command]
async fn bookmarks(shell: State<'_, Shell>) -> Res<Vec<PostView>> {
    with(&shell, |n| n.bookmarks(starling_core::doc::MAX_BOOKMARKS))
}

#[tauri::command]
async fn edit(shell: State<'_, Shell>, id: String, text: String) -> Res<Written> {
    on_post(&shell, &id, |n, id| n.edit(id, &text)).await
}

#[tauri::command]
async fn delete(shell: State<'_, Shell>, id: String) -> Res<Written> {
    on_post(&shell, &id, |n, id| n.delete(id)).await
}

#[tauri::command]
async fn profile(shell: State<'_, Shell>, identity: Option<String>) -> Res<ProfileView> {
    let who: Option<IdentityId> = identity.map(|i| parse(&i, "identity")).transpose()?;
    with(&shell, |n| n.profile(who.as_ref()))
}

/// Whoever goes by `name` here, for a mention (`null`: no one).
#[tauri::command]
async fn profile_named(shell: State<'_, Shell>, name: String) -> Res<Option<ProfileView>> {
    with(&shell, |n| n.profile_named(&name))
}

/// The tags the people followed here used most this past week.
#[tauri::command]
async fn trending_tags(shell: State<'_, Shell>) -> Res<Vec<TrendingTag>> {
    with(&shell, |n| n.trending_tags(5))
}

/// Who to follow: people those followed here show that they follow.
#[tauri::command]
async fn suggestions(shell: State<'_, Shell>) -> Res<Vec<Suggestion>> {
    with(&shell, |n| n.suggestions(5))
}

/// Whether this identity shows whom it follows.
#[tauri::command]
async fn show_follows(shell: State<'_, Shell>) -> Res<bool> {
    with(&shell, |n| n.show_follows())
}

/// Shows (or takes back) whom this identity follows; returns the setting.
#[tauri::command]
async fn set_show_follows(shell: State<'_, Shell>, on: bool) -> Res<bool> {
    let now = with(&shell, |n| {
        n.set_show_follows(on)?;
        n.show_follows()
    })?;
    shell.changed().await;
    Ok(now)
}

#[tauri::command]
async fn set_profile(
    shell: State<'_, Shell>,
    name: Option<String>,
    bio: Option<String>,
    avatar: Option<ImageInput>,
) -> Res<ProfileView> {
    let avatar = avatar.map(|a| base64(&a.base64)).transpose()?;
    let update = ProfileUpdate {
        name,
        bio,
        avatar: None,
    };
    let p = with(&shell, |n| {
        n.set_profile(update, avatar.as_deref())?;
        n.profile(None)
    })?;
    shell.changed().await;
    Ok(p)
}

#[tauri::command]
async fn following(shell: State<'_, Shell>) -> Res<Vec<ProfileView>> {
    with(&shell, |n| n.following())
}

#[tauri::command]
async fn follow(shell: State<'_, Shell>, ticket: String) -> Res<ProfileView> {
    // A bare identity (from a profile's Follow button) works when its key
    // is held here.
    if let Ok(who) = ticket.trim().parse::<IdentityId>() {
        let p = with(&shell, |n| {
            let who = n.follow_known(&who)?;
            n.profile(Some(&who))
        })?;
        shell.changed().await;
        return Ok(p);
    }
    let t = decode_ticket(&ticket)?;
    let peer = match &t {
        Ticket::Feed(f) => f.peer.clone(),
        _ => {
            return Err(invalid(
                "this is not a follow ticket (it is a group invite or a device link)",
            ));
        }
    };
    let p = with(&shell, |n| {
        let who = n.follow(&t)?;
        n.profile(Some(&who))
    })?;
    reach(&shell, peer).await;
    Ok(p)
}

#[tauri::command]
async fn scan_image(base64: String) -> Res<ScannedTicket> {
    let bytes = self::base64(&base64)?;
    Ticket::scan(&bytes).map(|t| t.view()).map_err(invalid)
}

/// Runs one account change about an identity.
async fn on_identity(
    shell: &Shell,
    identity: &str,
    f: impl FnOnce(&mut Node, &IdentityId) -> Result<bool, NodeError>,
) -> Res<Changed> {
    let who: IdentityId = parse(identity, "identity")?;
    let changed = with(shell, |n| f(n, &who))?;
    shell.changed().await;
    Ok(Changed {
        identity: who,
        changed,
    })
}

#[tauri::command]
async fn unfollow(shell: State<'_, Shell>, identity: String) -> Res<Changed> {
    on_identity(&shell, &identity, |n, w| n.unfollow(w)).await
}

#[tauri::command]
async fn mute(shell: State<'_, Shell>, identity: String) -> Res<Changed> {
    on_identity(&shell, &identity, |n, w| n.mute(w)).await
}

#[tauri::command]
async fn unmute(shell: State<'_, Shell>, identity: String) -> Res<Changed> {
    on_identity(&shell, &identity, |n, w| n.unmute(w)).await
}

#[tauri::command]
async fn block(shell: State<'_, Shell>, identity: String) -> Res<Changed> {
    on_identity(&shell, &identity, |n, w| n.block(w)).await
}

#[tauri::command]
async fn unblock(shell: State<'_, Shell>, identity: String) -> Res<Changed> {
    on_identity(&shell, &identity, |n, w| n.unblock(w)).await
}

#[tauri::command]
async fn groups(shell: State<'_, Shell>) -> Res<Vec<GroupView>> {
    with(&shell, |n| n.groups())
}

#[tauri::command]
async fn group(shell: State<'_, Shell>, id: String) -> Res<GroupView> {
    let id: SpaceId = parse(&id, "group")?;
    with(&shell, |n| n.group(&id))
}

#[tauri::command]
async fn group_create(
    shell: State<'_, Shell>,
    name: String,
    description: Option<String>,
) -> Res<GroupView> {
    let description = description.filter(|d| !d.trim().is_empty());
    let g = with(&shell, |n| {
        let id = n.group_create(name.trim(), description.as_deref())?;
        n.group(&id)
    })?;
    shell.changed().await;
    Ok(g)
}

#[tauri::command]
async fn group_invite(shell: State<'_, Shell>, id: String) -> Res<TicketView> {
    let id: SpaceId = parse(&id, "group")?;
    let t = with(&shell, |n| {
        n.group_invite(&id, INVITE_VALID.as_millis() as u64)
    })?;
    shell.changed().await;
    ticket_view(&t)
}

#[tauri::command]
async fn group_join(shell: State<'_, Shell>, ticket: String) -> Res<GroupView> {
    let t = decode_ticket(&ticket)?;
    let (peer, name) = match &t {
        Ticket::Group(g) => (g.peer.clone(), g.name.clone()),
        _ => return Err(invalid("this is not a group invite")),
    };
    let mut g = with(&shell, |n| {
        let id = n.group_join(&t)?;
        n.group(&id)
    })?;
    // Until the group's document arrives, the invite names it.
    g.name.get_or_insert(name);
    reach(&shell, peer).await;
    Ok(g)
}

#[tauri::command]
async fn group_timeline(
    shell: State<'_, Shell>,
    id: String,
    limit: usize,
    before: Option<String>,
) -> Res<Page> {
    let id: SpaceId = parse(&id, "group")?;
    with(&shell, |n| n.group_timeline(&id, limit, before.as_deref()))
}

#[tauri::command]
async fn group_remove(shell: State<'_, Shell>, id: String, member: String) -> Res<Removed> {
    let group: SpaceId = parse(&id, "group")?;
    let member: IdentityId = parse(&member, "identity")?;
    let epoch = with(&shell, |n| n.group_remove(&group, &member))?;
    shell.changed().await;
    Ok(Removed {
        group,
        member,
        epoch,
    })
}

#[tauri::command]
async fn group_leave(shell: State<'_, Shell>, id: String) -> Res<Left> {
    let group: SpaceId = parse(&id, "group")?;
    with(&shell, |n| n.group_leave(&group))?;
    shell.changed().await;
    Ok(Left { group })
}

#[tauri::command]
async fn conversations(shell: State<'_, Shell>) -> Res<Vec<Conversation>> {
    with(&shell, |n| n.conversations())
}

#[tauri::command]
async fn messages(
    shell: State<'_, Shell>,
    identity: String,
    limit: usize,
    before: Option<String>,
) -> Res<Page> {
    let who: IdentityId = parse(&identity, "identity")?;
    with(&shell, |n| n.dm_show(&who, limit, before.as_deref()))
}

#[tauri::command]
async fn dm(shell: State<'_, Shell>, identity: String, text: String) -> Res<Written> {
    let who: IdentityId = parse(&identity, "identity")?;
    let id = with(&shell, |n| n.dm(&who, &text))?;
    shell.changed().await;
    Ok(Written { id })
}

#[tauri::command]
async fn devices(shell: State<'_, Shell>) -> Res<Vec<DeviceView>> {
    with(&shell, |n| n.devices())
}

/// Opens a link code for a new device. When one connects, a
/// `link_request` event carries the code to compare; [`link_answer`]
/// answers it.
#[tauri::command]
async fn device_link(app: AppHandle, shell: State<'_, Shell>) -> Res<TicketView> {
    let peer = shell.running_peer().await?;
    let (ticket, mut requests) = peer
        .link_offer(LINK_VALID.as_millis() as u64)
        .map_err(|e| e.view())?;
    let view = ticket_view(&ticket)?;
    tauri::async_runtime::spawn(async move {
        if let Ok(Some(request)) = tokio::time::timeout(LINK_VALID, requests.recv()).await {
            let event = starling_core::view::Event::LinkRequest {
                device: request.device,
                code: request.code.clone(),
            };
            use tauri::Manager;
            *lock(&app.state::<Shell>().link_request) = Some(request);
            let _ = tauri::Emitter::emit(&app, "net", event);
        }
    });
    Ok(view)
}

/// Answers a new device's link request: `accept` when it shows the same
/// code as this device; `trusted` also hands it the identity key.
#[tauri::command]
async fn link_answer(
    shell: State<'_, Shell>,
    accept: bool,
    trusted: Option<bool>,
) -> Res<LinkOutcome> {
    let request = lock(&shell.link_request)
        .take()
        .ok_or_else(|| invalid("no device is asking to link"))?;
    let device = request.device;
    let linked = match request.answer(accept, trusted.unwrap_or(false)).await {
        Ok(()) => true,
        Err(_) if !accept => false,
        Err(e) => return Err(ErrorView::new(ErrorKind::Network, e)),
    };
    Ok(LinkOutcome { device, linked })
}

#[tauri::command]
async fn device_revoke(shell: State<'_, Shell>, device: String) -> Res<Revoked> {
    let device: DeviceId = parse(&device, "device")?;
    with(&shell, |n| n.device_revoke(&device))?;
    shell.changed().await;
    Ok(Revoked { device })
}

fn settings_view(shell: &Shell, s: &Settings) -> SettingsView {
    SettingsView {
        relay: s.relay.clone(),
        local_discovery: s.local_discovery,
        dht: s.dht,
        home: shell.home.display().to_string(),
        native_dialogs: crate::files::NATIVE,
    }
}

#[tauri::command]
async fn settings(shell: State<'_, Shell>) -> Res<SettingsView> {
    Ok(settings_view(&shell, &Settings::load(&shell.home)))
}

#[tauri::command]
async fn set_settings(
    app: AppHandle,
    shell: State<'_, Shell>,
    relay: String,
    local_discovery: bool,
    dht: bool,
) -> Res<SettingsView> {
    Settings::check_relay(&relay).map_err(invalid)?;
    let s = Settings {
        relay: relay.trim().to_string(),
        local_discovery,
        dht,
    };
    s.save(&shell.home)
        .map_err(|e| ErrorView::new(ErrorKind::Storage, format!("cannot save settings: {e}")))?;
    // The endpoint is rebuilt with the new settings; a network that does
    // not start shows in the sync indicator.
    shell.stop().await;
    let _ = shell.start(&app).await;
    Ok(settings_view(&shell, &s))
}

/// Writes a bundle of everything this identity may carry to its other
/// devices (its feed, account, follows' feeds, groups) where the user says
/// in the system's save dialog (`title` is its title); `null` when they
/// cancel. Phones: under the profile folder's `exports/`.
#[tauri::command]
async fn export_bundle(
    app: AppHandle,
    shell: State<'_, Shell>,
    title: String,
) -> Res<Option<starling_core::view::Exported>> {
    let name = format!(
        "starling-{}.{}",
        starling_core::node::now_ms(),
        crate::files::BUNDLE_EXTENSION
    );
    let path = if crate::files::NATIVE {
        let (app, name) = (app.clone(), name.clone());
        let chosen =
            tokio::task::spawn_blocking(move || crate::files::save_path(&app, &title, &name))
                .await
                .map_err(|e| {
                    ErrorView::new(ErrorKind::Storage, format!("the save dialog failed: {e}"))
                })?;
        match chosen {
            Some(p) => p,
            None => return Ok(None),
        }
    } else {
        shell.home.join("exports").join(&name)
    };
    let bytes = with(&shell, |n| {
        let me = n.identity();
        n.export(Audience::Identity(me))
    })?;
    let records = starling_core::bundle::parse(&bytes)
        .map(|r| r.len() as u64)
        .unwrap_or_default();
    let storage = |e: std::io::Error| {
        ErrorView::new(
            ErrorKind::Storage,
            format!("cannot write {}: {e}", path.display()),
        )
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(storage)?;
    }
    std::fs::write(&path, &bytes).map_err(storage)?;
    Ok(Some(starling_core::view::Exported {
        path: path.display().to_string(),
        records,
        bytes: bytes.len() as u64,
    }))
}

/// Imports the bundle file the user picks in the system's open dialog
/// (`title` is its title); `null` when they cancel. Not on phones (the
/// page reads the file there: `import_bundle`).
#[tauri::command]
async fn import_bundle_file(
    app: AppHandle,
    shell: State<'_, Shell>,
    title: String,
) -> Res<Option<ImportSummary>> {
    if !crate::files::NATIVE {
        return Err(invalid("no file dialog here: pick the file on the page"));
    }
    let chosen = tokio::task::spawn_blocking(move || crate::files::open_path(&app, &title))
        .await
        .map_err(|e| ErrorView::new(ErrorKind::Storage, format!("the open dialog failed: {e}")))?;
    let Some(path) = chosen else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path).map_err(|e| {
        ErrorView::new(
            ErrorKind::Storage,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let r = with(&shell, |n| n.import(&bytes))?;
    shell.changed().await;
    Ok(Some(r.summary()))
}

#[tauri::command]
async fn import_bundle(shell: State<'_, Shell>, base64: String) -> Res<ImportSummary> {
    let bytes = self::base64(&base64)?;
    let r = with(&shell, |n| n.import(&bytes))?;
    shell.changed().await;
    Ok(r.summary())
}

#[tauri::command]
async fn storage(shell: State<'_, Shell>) -> Res<starling_core::view::Storage> {
    with(&shell, |n| n.storage())
}

/// Sets the storage budgets and keeps to them at once.
#[tauri::command]
async fn set_budgets(
    shell: State<'_, Shell>,
    budgets: starling_core::view::Budgets,
) -> Res<starling_core::view::Evicted> {
    let r = with(&shell, |n| n.set_budgets(&budgets))?;
    shell.changed().await;
    Ok(r)
}

/// Keeps the store within its budgets now.
#[tauri::command]
async fn check_storage(shell: State<'_, Shell>) -> Res<starling_core::view::Evicted> {
    let r = with(&shell, |n| n.check_storage())?;
    shell.changed().await;
    Ok(r)
}

/// Gives freed space back to the filesystem; the storage report after.
#[tauri::command]
async fn vacuum(shell: State<'_, Shell>) -> Res<starling_core::view::Storage> {
    with(&shell, |n| {
        n.store().vacuum()?;
        n.storage()
    })
}

/// Drops what this device holds of an unfollowed identity's feed.
#[tauri::command]
async fn drop_feed(
    shell: State<'_, Shell>,
    identity: String,
) -> Res<starling_core::view::FeedDropped> {
    let who: IdentityId = parse(&identity, "identity")?;
    let r = with(&shell, |n| n.drop_feed(&who))?;
    shell.changed().await;
    Ok(r)
}

/// Known peers: addresses, last seen, and the path and round-trip time of
/// the last session with each.
#[tauri::command]
async fn peers(shell: State<'_, Shell>) -> Res<Vec<starling_core::view::PeerView>> {
    with(&shell, |n| Ok(n.store().peer_views()?))
}

#[tauri::command]
async fn net_status(shell: State<'_, Shell>) -> Res<NetStatus> {
    Ok(shell.net_status().await)
}

#[tauri::command]
async fn sync_now(shell: State<'_, Shell>) -> Res<SyncSummary> {
    let peer = shell.running_peer().await?;
    let summary = peer.sync_known().await.map_err(|e| e.view())?;
    let failed = summary.peers.iter().filter(|p| !p.ok).count();
    if failed > 0 && failed == summary.peers.len() {
        return Err(ErrorView::new(
            ErrorKind::Network,
            format!("could not reach any of {failed} known peers"),
        ));
    }
    Ok(summary)
}

#[tauri::command]
async fn first_paint(shell: State<'_, Shell>) -> Res<u64> {
    let mut first = lock(&shell.first_paint);
    let started = crate::shell::STARTED.get_or_init(std::time::Instant::now);
    Ok(*first.get_or_insert(started.elapsed().as_millis() as u64))
}

/// Every command, for the builder.
pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        status,
        create_identity,
        device_join,
        device_join_confirm,
        link_answer,
        recover,
        restore,
        phrase,
        open_link,
        notify_system,
        set_badge,
        import_bundle_file,
        opened_links,
        bookmark,
        unbookmark,
        bookmark_ids,
        bookmarks,
        ticket,
        timeline,
        author_posts,
        thread,
        search,
        notifications,
        post,
        like,
        repost,
        unlike,
        unrepost,
        edit,
        delete,
        profile,
        profile_named,
        trending_tags,
        suggestions,
        show_follows,
        set_show_follows,
        author_media,
        set_profile,
        following,
        follow,
        scan_image,
        unfollow,
        mute,
        unmute,
        block,
        unblock,
        groups,
        group,
        group_create,
        group_invite,
        group_join,
        group_timeline,
        group_remove,
        group_leave,
        conversations,
        messages,
        dm,
        devices,
        device_link,
        device_revoke,
        settings,
        set_settings,
        export_bundle,
        import_bundle,
        storage,
        set_budgets,
        check_storage,
        vacuum,
        drop_feed,
        peers,
        net_status,
        sync_now,
        first_paint,
    ]
}
