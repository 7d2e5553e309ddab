//! The typed commands the UI invokes (`ui/src/lib/api.ts` is their other
//! half). Each one locks the node for one short store operation; errors
//! reach the UI as text for a toast.

use std::fmt::Display;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use starling_core::doc::{ProfileUpdate, Role};
use starling_core::net::SharedNode;
use starling_core::{
    Audience, DeviceId, EntryId, IdentityId, NewPost, Node, NodeError, PeerAddr, SpaceId, Ticket,
    json as view,
};
use tauri::{AppHandle, State};

use crate::settings::Settings;
use crate::shell::{Create, Shell, lock};

type Res<T> = Result<T, String>;

/// How long a group invite stays valid.
const INVITE_VALID: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long a device link ticket stays valid.
const LINK_VALID: Duration = Duration::from_secs(10 * 60);
/// Most search results and notifications shown.
const LIST_LIMIT: usize = 100;

fn text(e: impl Display) -> String {
    e.to_string()
}

/// Runs `f` on the open node.
fn with<T>(shell: &Shell, f: impl FnOnce(&mut Node) -> Result<T, NodeError>) -> Res<T> {
    let node = shell.node()?;
    let mut guard = lock(&node);
    f(&mut guard).map_err(text)
}

fn parse<T: FromStr>(s: &str, what: &str) -> Res<T> {
    s.trim()
        .parse()
        .map_err(|_| format!("{what} {s:?} is not valid"))
}

fn base64(s: &str) -> Res<Vec<u8>> {
    data_encoding::BASE64
        .decode(s.as_bytes())
        .map_err(|e| format!("bad file data: {e}"))
}

/// An image the UI attaches: its bytes as base64.
#[derive(Debug, Deserialize)]
pub(crate) struct ImageInput {
    base64: String,
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

fn ticket_view(t: &Ticket) -> Res<Value> {
    Ok(json!({"text": t.encode(), "svg": t.to_qr_svg().map_err(text)?}))
}

fn decode_ticket(s: &str) -> Res<Ticket> {
    Ticket::decode(s).map_err(text)
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

fn me_json(node: &mut Node) -> Result<Value, NodeError> {
    let me = node.whoami()?;
    Ok(
        json!({"identity": me.identity.to_string(), "device": me.device.to_string(), "name": me.name}),
    )
}

#[tauri::command]
async fn status(shell: State<'_, Shell>) -> Res<Value> {
    let me = if shell.has_node() {
        with(&shell, me_json)?
    } else {
        Value::Null
    };
    Ok(json!({"home": shell.home.display().to_string(), "me": me}))
}

#[tauri::command]
async fn create_identity(
    app: AppHandle,
    shell: State<'_, Shell>,
    name: String,
    avatar: Option<ImageInput>,
) -> Res<Value> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a name is needed".into());
    }
    let avatar = avatar.map(|a| base64(&a.base64)).transpose()?;
    let node: SharedNode = shell.create(Create::New(name))?;
    if let Some(bytes) = avatar {
        lock(&node)
            .set_profile(ProfileUpdate::default(), Some(&bytes))
            .map_err(text)?;
    }
    let me = me_json(&mut lock(&node)).map_err(text)?;
    // A network that does not start shows in the sync indicator.
    let _ = shell.start(&app).await;
    Ok(me)
}

#[tauri::command]
async fn device_join(app: AppHandle, shell: State<'_, Shell>, ticket: String) -> Res<Value> {
    let t = decode_ticket(&ticket)?;
    let peer = match &t {
        Ticket::Device(d) => d.peer.clone(),
        _ => {
            return Err(
                "this is not a device link ticket (Devices → Link a device makes one)".into(),
            );
        }
    };
    let node = shell.create(Create::Join(&t))?;
    let me = me_json(&mut lock(&node)).map_err(text)?;
    let _ = shell.start(&app).await;
    reach(&shell, peer).await;
    Ok(me)
}

#[tauri::command]
async fn open_link(app: AppHandle, url: String) -> Res<()> {
    use tauri_plugin_opener::OpenerExt;
    let url =
        crate::navigation::external(&url).ok_or_else(|| format!("only web links open: {url:?}"))?;
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| format!("cannot open {url}: {e}"))
}

#[tauri::command]
async fn ticket(shell: State<'_, Shell>) -> Res<Value> {
    ticket_view(&with(&shell, |n| n.ticket())?)
}

#[tauri::command]
async fn timeline(shell: State<'_, Shell>, limit: usize, before: Option<String>) -> Res<Value> {
    with(&shell, |n| n.timeline(limit, before.as_deref())).map(|p| view::page(&p))
}

#[tauri::command]
async fn author_posts(
    shell: State<'_, Shell>,
    identity: String,
    limit: usize,
    before: Option<String>,
) -> Res<Value> {
    let who: IdentityId = parse(&identity, "identity")?;
    with(&shell, |n| n.author_posts(&who, limit, before.as_deref())).map(|p| view::page(&p))
}

#[tauri::command]
async fn thread(shell: State<'_, Shell>, id: String) -> Res<Value> {
    let id: EntryId = parse(&id, "post id")?;
    with(&shell, |n| n.thread(&id)).map(|ps| view::posts(&ps))
}

#[tauri::command]
async fn search(shell: State<'_, Shell>, query: String) -> Res<Value> {
    with(&shell, |n| n.search(&query, LIST_LIMIT)).map(|ps| view::posts(&ps))
}

#[tauri::command]
async fn notifications(shell: State<'_, Shell>) -> Res<Value> {
    with(&shell, |n| n.notifications(LIST_LIMIT))
        .map(|ns| Value::Array(ns.iter().map(view::notification).collect()))
}

#[tauri::command]
async fn post(shell: State<'_, Shell>, post: PostInput) -> Res<String> {
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
    };
    let id = with(&shell, |n| n.post(new))?;
    shell.changed().await;
    Ok(id.to_string())
}

/// Runs one write on a post by id, then lets the network know.
async fn on_post(
    shell: &Shell,
    id: &str,
    f: impl FnOnce(&mut Node, &EntryId) -> Result<EntryId, NodeError>,
) -> Res<()> {
    let id: EntryId = parse(id, "post id")?;
    with(shell, |n| f(n, &id))?;
    shell.changed().await;
    Ok(())
}

#[tauri::command]
async fn like(shell: State<'_, Shell>, id: String) -> Res<()> {
    on_post(&shell, &id, |n, id| n.like(id)).await
}

#[tauri::command]
async fn repost(shell: State<'_, Shell>, id: String) -> Res<()> {
    on_post(&shell, &id, |n, id| n.repost(id)).await
}

#[tauri::command]
async fn edit(shell: State<'_, Shell>, id: String, text: String) -> Res<()> {
    on_post(&shell, &id, |n, id| n.edit(id, &text)).await
}

#[tauri::command]
async fn delete(shell: State<'_, Shell>, id: String) -> Res<()> {
    on_post(&shell, &id, |n, id| n.delete(id)).await
}

#[tauri::command]
async fn profile(shell: State<'_, Shell>, identity: Option<String>) -> Res<Value> {
    let who: Option<IdentityId> = identity.map(|i| parse(&i, "identity")).transpose()?;
    with(&shell, |n| n.profile(who.as_ref())).map(|p| view::profile(&p))
}

#[tauri::command]
async fn set_profile(
    shell: State<'_, Shell>,
    name: Option<String>,
    bio: Option<String>,
    avatar: Option<ImageInput>,
) -> Res<()> {
    let avatar = avatar.map(|a| base64(&a.base64)).transpose()?;
    let update = ProfileUpdate {
        name,
        bio,
        avatar: None,
    };
    with(&shell, |n| n.set_profile(update, avatar.as_deref()))?;
    shell.changed().await;
    Ok(())
}

#[tauri::command]
async fn following(shell: State<'_, Shell>) -> Res<Value> {
    with(&shell, |n| n.following()).map(|ps| Value::Array(ps.iter().map(view::profile).collect()))
}

#[tauri::command]
async fn follow(shell: State<'_, Shell>, ticket: String) -> Res<String> {
    // A bare identity (from a profile's Follow button) works when its key
    // is held here.
    if let Ok(who) = ticket.trim().parse::<IdentityId>() {
        let who = with(&shell, |n| n.follow_known(&who))?;
        shell.changed().await;
        return Ok(who.to_string());
    }
    let t = decode_ticket(&ticket)?;
    let peer = match &t {
        Ticket::Feed(f) => f.peer.clone(),
        _ => {
            return Err(
                "this is not a follow ticket (it is a group invite or a device link)".into(),
            );
        }
    };
    let who = with(&shell, |n| n.follow(&t))?;
    reach(&shell, peer).await;
    Ok(who.to_string())
}

#[tauri::command]
async fn scan_image(base64: String) -> Res<String> {
    let bytes = self::base64(&base64)?;
    Ticket::scan(&bytes).map(|t| t.encode()).map_err(text)
}

/// Runs one account change about an identity.
async fn on_identity(
    shell: &Shell,
    identity: &str,
    f: impl FnOnce(&mut Node, &IdentityId) -> Result<bool, NodeError>,
) -> Res<()> {
    let who: IdentityId = parse(identity, "identity")?;
    with(shell, |n| f(n, &who))?;
    shell.changed().await;
    Ok(())
}

#[tauri::command]
async fn unfollow(shell: State<'_, Shell>, identity: String) -> Res<()> {
    on_identity(&shell, &identity, |n, w| n.unfollow(w)).await
}

#[tauri::command]
async fn mute(shell: State<'_, Shell>, identity: String) -> Res<()> {
    on_identity(&shell, &identity, |n, w| n.mute(w)).await
}

#[tauri::command]
async fn unmute(shell: State<'_, Shell>, identity: String) -> Res<()> {
    on_identity(&shell, &identity, |n, w| n.unmute(w)).await
}

#[tauri::command]
async fn block(shell: State<'_, Shell>, identity: String) -> Res<()> {
    on_identity(&shell, &identity, |n, w| n.block(w)).await
}

#[tauri::command]
async fn unblock(shell: State<'_, Shell>, identity: String) -> Res<()> {
    on_identity(&shell, &identity, |n, w| n.unblock(w)).await
}

fn group_json(n: &mut Node, g: &starling_core::GroupView) -> Result<Value, NodeError> {
    let mut members = Vec::new();
    let mut admins = Vec::new();
    for (who, role) in &g.members {
        let name = n.profile(Some(who))?.name;
        if *role == Role::Admin {
            admins.push(who.to_string());
        }
        members.push(json!({"identity": who.to_string(), "name": name,
            "role": if *role == Role::Admin { "admin" } else { "member" }}));
    }
    Ok(json!({
        "id": g.id.to_string(),
        "name": g.name.clone().unwrap_or_else(|| "(unnamed group)".into()),
        "description": g.description,
        "admins": admins,
        "members": members,
        "is_admin": g.my_role == Some(Role::Admin),
    }))
}

#[tauri::command]
async fn groups(shell: State<'_, Shell>) -> Res<Value> {
    with(&shell, |n| {
        let gs = n.groups()?;
        gs.iter()
            .map(|g| group_json(n, g))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    })
}

#[tauri::command]
async fn group(shell: State<'_, Shell>, id: String) -> Res<Value> {
    let id: SpaceId = parse(&id, "group")?;
    with(&shell, |n| {
        let g = n.group(&id)?;
        group_json(n, &g)
    })
}

#[tauri::command]
async fn group_create(
    shell: State<'_, Shell>,
    name: String,
    description: Option<String>,
) -> Res<String> {
    let description = description.filter(|d| !d.trim().is_empty());
    let id = with(&shell, |n| {
        n.group_create(name.trim(), description.as_deref())
    })?;
    shell.changed().await;
    Ok(id.to_string())
}

#[tauri::command]
async fn group_invite(shell: State<'_, Shell>, id: String) -> Res<Value> {
    let id: SpaceId = parse(&id, "group")?;
    let t = with(&shell, |n| {
        n.group_invite(&id, INVITE_VALID.as_millis() as u64)
    })?;
    shell.changed().await;
    ticket_view(&t)
}

#[tauri::command]
async fn group_join(shell: State<'_, Shell>, ticket: String) -> Res<String> {
    let t = decode_ticket(&ticket)?;
    let peer = match &t {
        Ticket::Group(g) => g.peer.clone(),
        _ => return Err("this is not a group invite".into()),
    };
    let id = with(&shell, |n| n.group_join(&t))?;
    reach(&shell, peer).await;
    Ok(id.to_string())
}

#[tauri::command]
async fn group_timeline(
    shell: State<'_, Shell>,
    id: String,
    limit: usize,
    before: Option<String>,
) -> Res<Value> {
    let id: SpaceId = parse(&id, "group")?;
    with(&shell, |n| n.group_timeline(&id, limit, before.as_deref())).map(|p| view::page(&p))
}

#[tauri::command]
async fn group_remove(shell: State<'_, Shell>, id: String, member: String) -> Res<()> {
    let id: SpaceId = parse(&id, "group")?;
    let who: IdentityId = parse(&member, "identity")?;
    with(&shell, |n| n.group_remove(&id, &who))?;
    shell.changed().await;
    Ok(())
}

#[tauri::command]
async fn group_leave(shell: State<'_, Shell>, id: String) -> Res<()> {
    let id: SpaceId = parse(&id, "group")?;
    with(&shell, |n| n.group_leave(&id))?;
    shell.changed().await;
    Ok(())
}

#[tauri::command]
async fn conversations(shell: State<'_, Shell>) -> Res<Value> {
    with(&shell, |n| n.conversations()).map(|cs| {
        Value::Array(
            cs.iter()
                .map(|c| json!({"identity": c.with.to_string(), "name": c.name, "last": view::post(&c.last)}))
                .collect(),
        )
    })
}

#[tauri::command]
async fn messages(shell: State<'_, Shell>, identity: String) -> Res<Value> {
    let who: IdentityId = parse(&identity, "identity")?;
    with(&shell, |n| n.dm_show(&who, 500, None)).map(|mut p| {
        // A conversation reads oldest first, like a chat.
        p.posts.reverse();
        view::posts(&p.posts)
    })
}

#[tauri::command]
async fn dm(shell: State<'_, Shell>, identity: String, text: String) -> Res<()> {
    let who: IdentityId = parse(&identity, "identity")?;
    with(&shell, |n| n.dm(&who, &text))?;
    shell.changed().await;
    Ok(())
}

#[tauri::command]
async fn devices(shell: State<'_, Shell>) -> Res<Value> {
    with(&shell, |n| n.devices()).map(|ds| {
        Value::Array(
            ds.iter()
                .map(|d| {
                    json!({"device": d.device.to_string(), "name": null, "this_device": d.this,
                    "revoked": d.revoked, "linked_at": d.certified_at})
                })
                .collect(),
        )
    })
}

#[tauri::command]
async fn device_link(shell: State<'_, Shell>) -> Res<Value> {
    ticket_view(&with(&shell, |n| {
        n.device_link(LINK_VALID.as_millis() as u64)
    })?)
}

#[tauri::command]
async fn device_revoke(shell: State<'_, Shell>, device: String) -> Res<()> {
    let d: DeviceId = parse(&device, "device")?;
    with(&shell, |n| n.device_revoke(&d))?;
    shell.changed().await;
    Ok(())
}

fn settings_json(shell: &Shell, s: &Settings) -> Value {
    json!({"relay": s.relay, "local_discovery": s.local_discovery, "home": shell.home.display().to_string()})
}

#[tauri::command]
async fn settings(shell: State<'_, Shell>) -> Res<Value> {
    Ok(settings_json(&shell, &Settings::load(&shell.home)))
}

#[tauri::command]
async fn set_settings(
    app: AppHandle,
    shell: State<'_, Shell>,
    relay: String,
    local_discovery: bool,
) -> Res<Value> {
    Settings::check_relay(&relay)?;
    let s = Settings {
        relay: relay.trim().to_string(),
        local_discovery,
    };
    s.save(&shell.home)
        .map_err(|e| format!("cannot save settings: {e}"))?;
    // The endpoint is rebuilt with the new settings.
    shell.stop().await;
    shell.start(&app).await?;
    Ok(settings_json(&shell, &s))
}

#[tauri::command]
async fn export_bundle(shell: State<'_, Shell>) -> Res<String> {
    let bytes = with(&shell, |n| {
        let me = n.identity();
        n.export(Audience::Identity(me))
    })?;
    let dir = shell.home.join("exports");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let path = dir.join(format!("starling-{}.bundle", starling_core::node::now_ms()));
    std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.display().to_string())
}

#[tauri::command]
async fn import_bundle(shell: State<'_, Shell>, base64: String) -> Res<Value> {
    let bytes = self::base64(&base64)?;
    let r = with(&shell, |n| n.import(&bytes))?;
    shell.changed().await;
    Ok(json!({"accepted": r.accepted, "known": r.known, "rejected": r.rejected.len()}))
}

#[tauri::command]
async fn net_status(shell: State<'_, Shell>) -> Res<Value> {
    let status = lock(&shell.live).status.clone();
    serde_json::to_value(status).map_err(text)
}

#[tauri::command]
async fn sync_now(shell: State<'_, Shell>) -> Res<()> {
    let peer = shell.peer().await.ok_or("the network is not running")?;
    let (ok, failed) = peer.sync_known().await.map_err(text)?;
    if ok == 0 && failed > 0 {
        return Err(format!("could not reach any of {failed} known peers"));
    }
    Ok(())
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
        open_link,
        ticket,
        timeline,
        author_posts,
        thread,
        search,
        notifications,
        post,
        like,
        repost,
        edit,
        delete,
        profile,
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
        net_status,
        sync_now,
        first_paint,
    ]
}
