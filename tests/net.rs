//! Sync over iroh on loopback: catch-up, offline catch-up, hostile peers.
//! Relays and public discovery are off; every wait is bounded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use starling_core::net::{Event, NetConfig, Peer, SYNC_ALPN, SharedNode};
use starling_core::protocol::catchup::Message;
use starling_core::{NewPost, Node, PeerAddr, Ticket};

pub(crate) struct Running {
    node: SharedNode,
    /// The node's home (in `_dir`).
    pub(crate) home: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Running {
    pub(crate) fn new(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::init(&dir.path().join(name), name).unwrap();
        Self {
            node: Arc::new(Mutex::new(node)),
            home: dir.path().join(name),
            _dir: dir,
        }
    }

    /// The identity a recovery phrase names, on a new device.
    pub(crate) fn recover(name: &str, phrase: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::recover(&dir.path().join(name), phrase).unwrap();
        Self {
            node: Arc::new(Mutex::new(node)),
            home: dir.path().join(name),
            _dir: dir,
        }
    }

    /// A new device of the identity whose link code `ticket` is, the
    /// user confirming the same code on both devices (and, when
    /// `trusted`, handing it the identity key); `requests` come to the
    /// running node that made the code.
    pub(crate) async fn join(
        name: &str,
        trusted: bool,
        ticket: &Ticket,
        mut requests: tokio::sync::mpsc::Receiver<starling_core::net::LinkRequest>,
    ) -> Self {
        let Ticket::Device(t) = ticket else {
            panic!("a link code")
        };
        let device = starling_core::DeviceKey::from_secret_bytes(
            starling_core::node::fresh_secret().unwrap(),
        );
        let (shown, seen) = tokio::sync::oneshot::channel();
        let config = NetConfig::loopback();
        let joining = starling_core::net::join_link(t, &device, &config, |code| async move {
            let _ = shown.send(code);
            true
        });
        let linking = async {
            let request = bounded(requests.recv()).await.expect("a link request");
            let code = request.code.clone();
            let answered = request.answer(true, trusted).await;
            (code, answered)
        };
        let (grant, (code, answered)) = tokio::join!(bounded(joining), linking);
        answered.expect("the linker handed over the keys");
        assert_eq!(seen.await.unwrap(), code, "both devices show the same code");
        let dir = tempfile::tempdir().unwrap();
        let node =
            Node::device_join(&dir.path().join(name), device, &grant.unwrap(), &t.peer).unwrap();
        Self {
            node: Arc::new(Mutex::new(node)),
            home: dir.path().join(name),
            _dir: dir,
        }
    }

    /// A new device of this identity, linked through a code this node
    /// serves for the moment (its network started and stopped again).
    /// The new device holds no identity key.
    pub(crate) async fn link_new(&self, name: &str) -> Self {
        self.link(name, false).await
    }

    /// A new device of this identity linked as trusted: it holds the
    /// identity key too.
    pub(crate) async fn link_trusted(&self, name: &str) -> Self {
        self.link(name, true).await
    }

    async fn link(&self, name: &str, trusted: bool) -> Self {
        let p = self.start_catch_up_only().await;
        let (ticket, requests) = p.link_offer(600_000).unwrap();
        let joined = Self::join(name, trusted, &ticket, requests).await;
        p.shutdown().await;
        joined
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Node) -> T) -> T {
        f(&mut self.node.lock().unwrap())
    }

    pub(crate) async fn start(&self) -> Peer {
        self.start_with(NetConfig::loopback()).await
    }

    /// Without gossip: only explicit catch-up moves entries.
    pub(crate) async fn start_catch_up_only(&self) -> Peer {
        self.start_with(NetConfig {
            live: false,
            ..NetConfig::loopback()
        })
        .await
    }

    pub(crate) async fn start_with(&self, config: NetConfig) -> Peer {
        let p = Peer::start(self.node.clone(), config).await.unwrap();
        let at = p.addr();
        self.with(|n| n.set_reachable_at(&at)).unwrap();
        p
    }

    pub(crate) fn texts(&self) -> Vec<String> {
        self.with(crate::support::texts)
    }

    /// The node kept online as `starling run` and the app keep it, its
    /// store checked against its budgets every `storage_every`.
    pub(crate) async fn serve(&self, storage_every: Duration) -> starling_core::net::Service {
        let config = starling_core::net::ServiceConfig {
            net: NetConfig::loopback(),
            sync_every: Duration::from_secs(3600),
            relay_wait: Duration::ZERO,
            storage_every,
        };
        starling_core::net::Service::start(self.node.clone(), config)
            .await
            .unwrap()
    }
}

/// Posts `text`, then lets the clock move on: timelines order posts of
/// different devices by timestamp, and two made in one millisecond by id.
pub(crate) fn post(r: &Running, text: &str) {
    r.with(|n| {
        n.post(NewPost {
            text: text.into(),
            ..Default::default()
        })
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(2));
}

pub(crate) fn ticket(r: &Running) -> Ticket {
    r.with(|n| n.ticket()).unwrap()
}

/// Starts both nodes, has `follower` follow `author`, and syncs once;
/// the follower's events are watched from before the sync.
async fn follow_and_sync(
    author: &Running,
    follower: &Running,
) -> (Peer, Peer, tokio::sync::broadcast::Receiver<Event>) {
    let pa = author.start().await;
    let pb = follower.start().await;
    follower.with(|n| n.follow(&ticket(author))).unwrap();
    let events = pb.events();
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    (pa, pb, events)
}

pub(crate) async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("timed out")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_catch_up_and_an_offline_node_catches_up_later() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    post(&ann, "ann one");
    post(&ann, "ann two");
    let pa = ann.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    // Follow by ticket: the ticket carries Ann's device and addresses.
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    ann.with(|n| n.follow(&ticket(&bob))).unwrap();
    let r = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert!(r.import.rejected.is_empty(), "{r:?}");
    assert!(!r.reused, "the first session dials");
    assert_eq!(bob.texts(), vec!["ann two", "ann one"]);
    // Bob posts; Ann catches up by calling Bob.
    post(&bob, "bob here");
    bounded(pa.sync_with(&pb.addr())).await.unwrap();
    assert_eq!(ann.texts(), vec!["bob here", "ann two", "ann one"]);
    // In sync: one round trip, nothing new.
    let again = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!((again.import.accepted, again.messages), (0, 2), "{again:?}");
    assert!(again.bytes_sent + again.bytes_received < 1024);
    // They have met before: the next check is one summary, a few dozen bytes.
    let summary = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(summary.messages, 2);
    // ... on the connection kept from the last session: no new handshake.
    assert!(again.reused && summary.reused, "{again:?} {summary:?}");
    assert!(
        summary.bytes_sent + summary.bytes_received < 100,
        "{summary:?}"
    );
    // One endpoint per device: a second start on Ann's home is refused,
    // naming the process that runs it, while the first runs.
    let second = Peer::start(ann.node.clone(), NetConfig::loopback()).await;
    match second {
        Err(starling_core::net::NetError::Node(e @ starling_core::NodeError::InUse { .. })) => {
            assert!(
                e.to_string()
                    .contains(&format!("pid {}", std::process::id())),
                "{e}"
            )
        }
        other => panic!("a second endpoint on one home: {other:?}"),
    }
    // Ann goes offline; Bob posts; Ann comes back on a new port (her home
    // free again) and catches up.
    pa.shutdown().await;
    post(&bob, "while you were away");
    let offline = PeerAddr::bare(ann.with(|n| n.device()));
    assert!(
        bounded(pb.sync_with(&offline)).await.is_err(),
        "an offline peer is an error, not a hang"
    );
    let pa = ann.start_catch_up_only().await;
    let r = bounded(pa.sync_with(&pb.addr())).await.unwrap();
    assert_eq!(r.import.accepted, 1);
    assert_eq!(ann.texts()[0], "while you were away");
    // Both know each other as peers now.
    assert!(
        ann.with(|n| n.store().peers())
            .unwrap()
            .iter()
            .any(|(p, seen)| p.device == bob.with(|n| n.device()) && seen.is_some())
    );
    pa.shutdown().await;
    pb.shutdown().await;
}

/// A kept connection the other side closed when it went idle is dialed
/// again, and the check goes through as if nothing happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_while_idle_is_dialed_again() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    post(&ann, "ann one");
    let pa = ann
        .start_with(NetConfig {
            live: false,
            idle_close: Duration::from_millis(200),
            ..NetConfig::loopback()
        })
        .await;
    let pb = bob.start_catch_up_only().await;
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    let first = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert!(!first.reused);
    assert_eq!(bob.texts(), vec!["ann one"]);
    let soon = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert!(soon.reused, "{soon:?}");
    // Ann closes the connection once it idled past 200 ms.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    post(&ann, "ann two");
    let later = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert!(!later.reused, "{later:?}");
    assert_eq!(later.import.accepted, 1);
    assert_eq!(bob.texts(), vec!["ann two", "ann one"]);
    pa.shutdown().await;
    pb.shutdown().await;
}

/// A raw client speaking the sync ALPN directly.
pub(crate) async fn raw_client() -> iroh::Endpoint {
    crate::support::loopback_endpoint(None).await
}

pub(crate) fn endpoint_addr(p: &PeerAddr) -> iroh::EndpointAddr {
    iroh::EndpointAddr::from_parts(
        iroh::PublicKey::from_bytes(p.device.as_bytes()).unwrap(),
        p.addrs.iter().map(|a| iroh::TransportAddr::Ip(*a)),
    )
}

pub(crate) fn frame(m: &Message) -> Vec<u8> {
    let b = m.encode();
    let mut f = (b.len() as u32).to_le_bytes().to_vec();
    f.extend_from_slice(&b);
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_peers_are_cut_off_and_change_nothing() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    post(&ann, "honest post");
    let pa = ann.start().await;
    let pb = bob.start().await;
    bob.with(|n| n.follow(&ticket(&ann))).unwrap();
    let before = ann.with(|n| n.store().counts()).unwrap();
    let client = raw_client().await;

    // 1. Garbage frames.
    let conn = bounded(client.connect(endpoint_addr(&pa.addr()), SYNC_ALPN))
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&[7, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
        .await
        .unwrap();
    let mut buf = [0u8; 4];
    assert!(
        bounded(recv.read_exact(&mut buf)).await.is_err(),
        "garbage was answered"
    );

    // 2. A frame announcing an endless length.
    let conn = bounded(client.connect(endpoint_addr(&pa.addr()), SYNC_ALPN))
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&u32::MAX.to_le_bytes()).await.unwrap();
    assert!(bounded(recv.read_exact(&mut buf)).await.is_err());

    // 3. Entries with bad signatures pushed into Ann's own feed (named by
    // its handle: the client knows the feed's key from Ann's ticket).
    let feed = starling_core::space::feed_space_id(&ann.with(|n| n.identity()));
    let Ticket::Feed(ft) = ticket(&ann) else {
        panic!("a feed ticket")
    };
    let handle = starling_core::space::AuthKey::of(&ft.space_key()).handle(
        &starling_core::DeviceId(*client.id().as_bytes()),
        &ann.with(|n| n.device()),
        &feed,
    );
    let conn = bounded(client.connect(endpoint_addr(&pa.addr()), SYNC_ALPN))
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&frame(&Message::Hello {
        spaces: vec![(handle, [0; 16])],
    }))
    .await
    .unwrap();
    let mut len = [0u8; 4];
    bounded(recv.read_exact(&mut len)).await.unwrap();
    let mut reply = vec![0u8; u32::from_le_bytes(len) as usize];
    bounded(recv.read_exact(&mut reply)).await.unwrap();
    assert!(matches!(
        Message::decode(&reply).unwrap(),
        Message::Reply { .. }
    ));
    let mut forged = Vec::new();
    let mut author = starling_core::synth::SynthAuthor::new(99);
    for i in 0..5 {
        let e = author.post(&format!("forged {i}"), None, 5);
        let mut sig = *e.signature();
        sig[3] ^= 1;
        forged.push(e.with_signature(sig).encode());
    }
    send.write_all(&frame(&Message::Have {
        spaces: vec![(feed, Default::default())],
    }))
    .await
    .unwrap();
    send.write_all(&frame(&Message::Entries {
        space: feed,
        entries: forged,
    }))
    .await
    .unwrap();
    send.write_all(&frame(&Message::Done)).await.unwrap();
    // Read until the stream ends (the honest side answers and closes).
    let _ = bounded(recv.read_to_end(1 << 20)).await;

    // 4. Entries for a space that was never named.
    let conn = bounded(client.connect(endpoint_addr(&pa.addr()), SYNC_ALPN))
        .await
        .unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(&frame(&Message::Hello { spaces: vec![] }))
        .await
        .unwrap();
    let _ = bounded(recv.read_exact(&mut len)).await;
    let other = starling_core::SpaceId([9; 32]);
    // Ann may have ended the session already (it named nothing): then the
    // write fails, which is as good as being ignored.
    let _ = send
        .write_all(&frame(&Message::Entries {
            space: other,
            entries: vec![vec![1, 2, 3]],
        }))
        .await;
    let _ = bounded(recv.read_to_end(1 << 20)).await;

    // Nothing was stored, and Ann still syncs with an honest peer.
    assert_eq!(ann.with(|n| n.store().counts()).unwrap(), before);
    assert!(ann.with(|n| n.store().check()).unwrap().problems.is_empty());
    bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(bob.texts(), vec!["honest post"]);
    client.close().await;
    pa.shutdown().await;
    pb.shutdown().await;
}

/// Every node syncs with every node it follows, `rounds` times.
async fn sync_rounds(peers: &[Peer], follows: &[Vec<usize>], rounds: usize) {
    for _ in 0..rounds {
        for (i, f) in follows.iter().enumerate() {
            for &j in f {
                bounded(peers[i].sync_with(&peers[j].addr())).await.unwrap();
            }
        }
    }
}

/// The posts a node should show: its own and those of the nodes it follows.
fn expected(texts: &[Vec<String>], me: usize, follows: &[usize]) -> Vec<String> {
    let mut v: Vec<String> = texts[me].clone();
    for &j in follows {
        v.extend(texts[j].iter().cloned());
    }
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_nodes_with_a_random_follow_graph_converge() {
    let nodes: Vec<Running> = (0..10).map(|i| Running::new(&format!("n{i}"))).collect();
    let mut peers = Vec::new();
    for n in &nodes {
        peers.push(n.start().await);
    }
    // A seeded random follow graph: each node follows 2-5 others.
    let mut rng = crate::support::Rng::new(2026);
    let mut follows: Vec<Vec<usize>> = Vec::new();
    for i in 0..10 {
        let mut f: Vec<usize> = (0..10).filter(|j| *j != i).collect();
        rng.shuffle(&mut f);
        f.truncate(2 + rng.below(4));
        for &j in &f {
            let t = ticket(&nodes[j]);
            nodes[i].with(|n| n.follow(&t)).unwrap();
        }
        follows.push(f);
    }
    let mut texts = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        let mine: Vec<String> = (0..3).map(|k| format!("node {i} post {k}")).collect();
        for t in &mine {
            post(n, t);
        }
        texts.push(mine);
    }
    // Direct follows only: one round brings everything.
    sync_rounds(&peers, &follows, 1).await;
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(
            sorted(n.texts()),
            expected(&texts, i, &follows[i]),
            "node {i}"
        );
    }
    for p in peers {
        p.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitions_heal_without_loss_or_duplicates() {
    let nodes: Vec<Running> = (0..6).map(|i| Running::new(&format!("n{i}"))).collect();
    let mut peers = Vec::new();
    for n in &nodes {
        peers.push(n.start_catch_up_only().await);
    }
    for i in 0..6 {
        for j in 0..6 {
            if i != j {
                let t = ticket(&nodes[j]);
                nodes[i].with(|n| n.follow(&t)).unwrap();
            }
        }
    }
    let everyone: Vec<Vec<usize>> = (0..6)
        .map(|i| (0..6).filter(|j| *j != i).collect())
        .collect();
    let mut texts: Vec<Vec<String>> = vec![Vec::new(); 6];
    // Partitioned: {0,1,2} and {3,4,5} post and sync only among themselves.
    let halves: Vec<Vec<usize>> = (0..6)
        .map(|i| {
            let g = if i < 3 { 0..3 } else { 3..6 };
            g.filter(|j| *j != i).collect()
        })
        .collect();
    for round in 0..3 {
        for (i, n) in nodes.iter().enumerate() {
            let t = format!("node {i} round {round}");
            post(n, &t);
            texts[i].push(t);
        }
        sync_rounds(&peers, &halves, 1).await;
    }
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(
            sorted(n.texts()),
            expected(&texts, i, &halves[i]),
            "node {i} inside its half"
        );
    }
    // Heal: everyone meets everyone once.
    sync_rounds(&peers, &everyone, 1).await;
    let all = expected(&texts, 0, &everyone[0]);
    assert_eq!(all.len(), 18);
    for n in &nodes {
        let got = n.texts();
        let mut unique = got.clone();
        unique.dedup();
        assert_eq!(unique.len(), got.len(), "duplicates");
        assert_eq!(sorted(got), all);
        assert!(n.with(|x| x.store().check()).unwrap().problems.is_empty());
    }
    for p in peers {
        p.shutdown().await;
    }
}

/// A long catch-up reports progress, per space; the author need not be
/// online: Ann mirrors the feed and serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_catch_up_reports_progress_from_a_mirror() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let mut author = starling_core::synth::SynthAuthor::new(77);
    let mut es = vec![author.cert(1)];
    for i in 0..10_000u64 {
        es.push(author.post(&format!("mirrored post {i}"), None, 10 + i));
    }
    let space = starling_core::space::feed_space_id(&author.identity());
    // Ann follows the author, and holds their feed.
    ann.with(|n| n.follow(&author.ticket())).unwrap();
    let r = ann.with(|n| n.store().import_entries(es)).unwrap();
    assert_eq!(r.accepted, 10_001);
    bob.with(|n| n.follow(&author.ticket())).unwrap();
    // Catch-up only: gossip would start a second session the other way.
    let pa = ann.start_catch_up_only().await;
    let pb = bob.start_catch_up_only().await;
    let mut events = pb.events();
    let r = bounded(pb.sync_with(&pa.addr())).await.unwrap();
    assert_eq!(r.import.accepted, 10_001);
    let mut progress = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let starling_core::net::Event::Progress {
            entries, spaces, ..
        } = e
        {
            progress.push((entries, spaces));
        }
    }
    assert!(!progress.is_empty(), "no progress reported");
    // Progress comes as the catch-up goes, not once at the end.
    assert!(progress.len() >= 2, "{} progress events", progress.len());
    assert!(progress.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(progress.last().unwrap().0 <= 10_001);
    assert!(
        progress[0]
            .1
            .iter()
            .any(|c| c.space == space && c.entries > 0)
    );
    assert_eq!(
        bob.with(|n| n.timeline(1, None)).unwrap().posts[0].text,
        "mirrored post 9999"
    );
    pa.shutdown().await;
    pb.shutdown().await;
}

/// Waits (bounded) for an event that `pick` accepts.
pub(crate) async fn wait_for<T>(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match events.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(&e) {
                        return t;
                    }
                    seen.push(e);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await;
    match found {
        Ok(t) => t,
        Err(_) => panic!("timed out; other events meanwhile: {seen:?}"),
    }
}

/// Waits (bounded) until `done` holds, checking every 20 ms.
/// Waits (bounded) until the blob `hash` was fetched.
pub(crate) async fn fetched(
    events: &mut tokio::sync::broadcast::Receiver<Event>,
    hash: &starling_core::id::Hash,
) {
    wait_for(events, |e| {
        matches!(e, Event::BlobFetched { hash: h, .. } if h == hash).then_some(())
    })
    .await
}

pub(crate) async fn until(mut done: impl FnMut() -> bool) {
    bounded(async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Waits for new entries to arrive without being asked for: 1 when they
/// came through gossip, 0 when a catch-up (started by a gap or a lag)
/// brought them.
async fn arrival(events: &mut tokio::sync::broadcast::Receiver<Event>) -> u32 {
    wait_for(events, |e| match e {
        Event::Received { accepted, .. } if *accepted > 0 => Some(1),
        Event::Synced { accepted, .. } if *accepted > 0 => Some(0),
        _ => None,
    })
    .await
}

/// Starts two nodes that follow each other, and waits (bounded) until Bob
/// has Ann as a gossip neighbor; returns their peers and Bob's events.
async fn meet_live(
    ann: &Running,
    bob: &Running,
) -> (Peer, Peer, tokio::sync::broadcast::Receiver<Event>) {
    // No periodic checks: what arrives here arrives through gossip (or a
    // catch-up that a gap or a new neighbor starts).
    let gossip_only = || NetConfig {
        check_every: Duration::from_secs(3600),
        ..NetConfig::loopback()
    };
    let pa = ann.start_with(gossip_only()).await;
    let pb = bob.start_with(gossip_only()).await;
    let mut bob_events = pb.events();
    bob.with(|n| n.follow(&ticket(ann))).unwrap();
    ann.with(|n| n.follow(&ticket(bob))).unwrap();
    pa.notify_local_change();
    pb.notify_local_change();
    // Gossip neighbors find each other through the tickets' addresses.
    let ann_device = ann.with(|n| n.device());
    wait_for(&mut bob_events, |e| {
        matches!(e, Event::PeerUp { peer } if *peer == ann_device).then_some(())
    })
    .await;
    (pa, pb, bob_events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_arrives_live_through_gossip() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    post(&ann, "ann before");
    let (pa, pb, mut bob_events) = meet_live(&ann, &bob).await;
    // Let the first catch-up (started when they met) finish.
    until(|| bob.texts() == ["ann before"]).await;
    // Posts made now arrive without anyone calling sync: through gossip,
    // or, when a starved subscription lags and drops them, through the
    // catch-up that the lag starts. Most must come through gossip.
    let mut by_gossip = 0;
    for i in 0..5 {
        post(&ann, &format!("live {i}"));
        pa.notify_local_change();
        by_gossip += arrival(&mut bob_events).await;
        until(|| bob.texts()[0] == format!("live {i}")).await;
    }
    // And the other way round.
    let mut ann_events = pa.events();
    post(&bob, "bob live");
    pb.notify_local_change();
    by_gossip += arrival(&mut ann_events).await;
    until(|| ann.texts()[0] == "bob live").await;
    assert!(
        by_gossip >= 4,
        "only {by_gossip} of 6 posts came through gossip"
    );
    pa.shutdown().await;
    pb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_that_gossip_cannot_carry_is_filled_by_catch_up() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let (pa, pb, _bob_events) = meet_live(&ann, &bob).await;
    // 2,000 posts with no pause: far more than gossip announces one by one.
    let n = 2_000;
    ann.with(|node| {
        for i in 0..n {
            node.post(NewPost {
                text: format!("burst {i}"),
                ..Default::default()
            })
            .unwrap();
        }
    });
    pa.notify_local_change();
    let feed = starling_core::space::feed_space_id(&ann.with(|n| n.identity()));
    let ann_device = ann.with(|n| n.device());
    until(|| {
        bob.with(|b| b.store_ref().log_head(&feed, &ann_device).unwrap())
            .is_some_and(|h| {
                h.seq
                    >= ann.with(|a| {
                        a.store_ref()
                            .log_head(&feed, &ann_device)
                            .unwrap()
                            .unwrap()
                            .seq
                    })
            })
    })
    .await;
    let mut ids = std::collections::BTreeSet::new();
    let mut before: Option<String> = None;
    for _ in 0..=n / 100 {
        let page = bob.with(|b| b.timeline(100, before.as_deref()).unwrap());
        for p in &page.posts {
            assert!(ids.insert(p.id), "post {} twice", p.id);
        }
        match page.next {
            Some(c) => before = Some(c),
            None => break,
        }
    }
    assert_eq!(ids.len(), n, "every post arrived");
    pa.shutdown().await;
    pb.shutdown().await;
}

/// A camera photo reaches a follower over the network without its GPS
/// position, and with the words its author gave it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_reaches_a_follower_without_its_position_and_with_its_description() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let photo = starling_core::synth::gps_jpeg();
    let has = |b: &[u8], what: &[u8]| b.windows(what.len()).any(|w| w == what);
    assert!(has(&photo, b"52.5200") && has(&photo, b"Exif"));
    let post_id = ann
        .with(|n| {
            n.post(NewPost {
                text: "from the hill".into(),
                images: vec![photo.clone()],
                alts: vec!["A blue sky over the hill".into()],
                ..Default::default()
            })
        })
        .unwrap();
    let (pa, pb, mut bob_events) = follow_and_sync(&ann, &bob).await;
    let hash = wait_for(&mut bob_events, |e| match e {
        Event::BlobFetched { hash, .. } => Some(*hash),
        _ => None,
    })
    .await;
    let seen = bob.with(|n| n.store().post(&post_id)).unwrap().unwrap();
    assert_eq!(seen.images, vec![hash]);
    assert_eq!(seen.alts, vec!["A blue sky over the hill".to_string()]);
    let ann_identity = ann.with(|n| n.identity());
    let got = bob
        .with(|n| n.open_blob(&ann_identity, &hash))
        .unwrap()
        .expect("the photo opens at the follower");
    assert!(!has(&got, b"52.5200"), "the GPS position arrived");
    assert!(!has(&got, b"Exif"), "the EXIF block arrived");
    let pixels = |b: &[u8]| image::load_from_memory(b).unwrap().to_rgb8().into_raw();
    assert_eq!(pixels(&got), pixels(&photo));
    pa.shutdown().await;
    pb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_is_fetched_from_a_follower_while_its_author_is_offline() {
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    let cat = Running::new("cat");
    let picture = crate::support::png(3, 64);
    let post_id = ann
        .with(|n| {
            n.post(NewPost {
                text: "look".into(),
                images: vec![picture.clone()],
                ..Default::default()
            })
        })
        .unwrap();
    let hash = ann.with(|n| n.store().post(&post_id).unwrap().unwrap().images[0]);
    // Her profile picture travels the same way.
    let face = crate::support::png(4, 32);
    ann.with(|n| n.set_profile(Default::default(), Some(&face)))
        .unwrap();
    let ann_identity = ann.with(|n| n.identity());
    let face_hash = ann
        .with(|n| n.store().profile(&ann_identity))
        .unwrap()
        .avatar
        .unwrap();
    let (pa, pb, mut bob_events) = follow_and_sync(&ann, &bob).await;
    // Bob fetches the image and the avatar from Ann after the post arrives.
    let mut got = std::collections::BTreeSet::new();
    while got.len() < 2 {
        let h = wait_for(&mut bob_events, |e| match e {
            Event::BlobFetched { hash: h, .. } => Some(*h),
            _ => None,
        })
        .await;
        got.insert(h);
    }
    assert_eq!(got, [hash, face_hash].into_iter().collect());
    assert_eq!(
        bob.with(|n| n.open_blob(&ann_identity, &face_hash))
            .unwrap(),
        Some(face)
    );
    assert_eq!(
        bob.with(|n| n.open_blob(&ann_identity, &hash)).unwrap(),
        Some(picture.clone())
    );
    // Ann goes offline. Cat follows Ann (her ticket names her old address)
    // and knows Bob; she gets the post and the image from Bob.
    let ann_ticket = ticket(&ann);
    pa.shutdown().await;
    let pc = cat.start().await;
    cat.with(|n| n.follow(&ann_ticket)).unwrap();
    cat.with(|n| n.store().add_peer(&pb.addr())).unwrap();
    let mut cat_events = pc.events();
    bounded(pc.sync_with(&pb.addr())).await.unwrap();
    assert_eq!(cat.texts(), vec!["look"]);
    fetched(&mut cat_events, &hash).await;
    assert_eq!(
        cat.with(|n| n.open_blob(&ann_identity, &hash)).unwrap(),
        Some(picture)
    );
    pb.shutdown().await;
    pc.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_gossip_changes_nothing_and_live_updates_go_on() {
    use iroh_gossip::{Gossip, TopicId};
    use starling_core::protocol::live::Notice;
    let ann = Running::new("ann");
    let bob = Running::new("bob");
    post(&ann, "ann before");
    let pa = ann.start().await;
    let pb = bob.start().await;
    let ann_ticket = ticket(&ann);
    bob.with(|n| n.follow(&ann_ticket)).unwrap();
    pb.notify_local_change();
    until(|| bob.texts() == ["ann before"]).await;
    let before = bob.with(|n| n.store().counts()).unwrap();

    // A stranger joins the topic of Ann's feed (its id is derived from the
    // space id, which the ticket names) through Bob.
    let client = raw_client().await;
    let gossip = Gossip::builder().spawn(client.clone());
    let _router = iroh::protocol::Router::builder(client.clone())
        .accept(iroh_gossip::ALPN, gossip.clone())
        .spawn();
    let lookup = iroh::address_lookup::memory::MemoryLookup::new();
    lookup.add_endpoint_info(endpoint_addr(&pb.addr()));
    client.address_lookup().unwrap().add(lookup);
    let feed = starling_core::space::feed_space_id(&ann.with(|n| n.identity()));
    let bob_id = iroh::PublicKey::from_bytes(bob.with(|n| n.device()).as_bytes()).unwrap();
    let Ticket::Feed(ft) = &ann_ticket else {
        panic!("a feed ticket")
    };
    let topic_id = starling_core::space::AuthKey::of(&ft.space_key()).topic(&feed);
    let topic = bounded(gossip.subscribe_and_join(TopicId::from_bytes(topic_id), vec![bob_id]))
        .await
        .unwrap();
    let (tx, _rx) = topic.split();
    let mut stranger = starling_core::synth::SynthAuthor::new(7);
    let mut notices = vec![
        // Garbage.
        vec![0xff; 100],
        Notice::Entry(vec![1, 2, 3]).encode(),
        // A head far beyond Ann's: Bob asks the stranger, who does not
        // speak the sync protocol; that fails, bounded.
        Notice::Head {
            device: ann.with(|n| n.device()),
            seq: 1_000_000,
        }
        .encode(),
    ];
    // Entries written into Ann's feed with its key by a device Ann never
    // certified, and one with a broken signature.
    for seq in 1..=3 {
        let e = starling_core::Entry::create(
            stranger.device_key(),
            feed,
            seq,
            None,
            5,
            0,
            &ft.space_key(),
            [seq as u8; 24],
            b"not a record",
        );
        notices.push(Notice::Entry(e.encode()).encode());
    }
    let e = stranger.post("forged", None, 5);
    let mut sig = *e.signature();
    sig[0] ^= 1;
    notices.push(Notice::Entry(e.with_signature(sig).encode()).encode());
    // And an endless stream: thousands of messages with no pause.
    for i in 0..3_000u32 {
        notices.push(i.to_le_bytes().repeat(64));
    }
    bounded(async {
        for n in notices {
            tx.broadcast(n.into()).await.unwrap();
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bob.with(|n| n.store().counts()).unwrap(), before);
    // Ann's next post still arrives (by gossip, or by the periodic check
    // with the peers seen lately when the flood broke the gossip path).
    post(&ann, "ann after");
    pa.notify_local_change();
    until(|| bob.texts().first().map(String::as_str) == Some("ann after")).await;
    let after = bob.with(|n| n.store().counts()).unwrap();
    assert_eq!(after.0, before.0 + 1, "one new entry, nothing else");
    bounded(pa.shutdown()).await;
    bounded(pb.shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_serves_only_the_blobs_it_holds() {
    let ann = Running::new("ann");
    let picture = crate::support::png(9, 48);
    let id = ann
        .with(|n| {
            n.post(NewPost {
                text: "mine".into(),
                images: vec![picture],
                ..Default::default()
            })
        })
        .unwrap();
    let hash = ann.with(|n| n.store().post(&id).unwrap().unwrap().images[0]);
    let sealed = ann.with(|n| n.store().blob(&hash).unwrap().unwrap());
    let pa = ann.start().await;
    // A stranger speaking plain iroh-blobs.
    let client = raw_client().await;
    let lookup = iroh::address_lookup::memory::MemoryLookup::new();
    lookup.add_endpoint_info(endpoint_addr(&pa.addr()));
    client.address_lookup().unwrap().add(lookup);
    let mem = iroh_blobs::store::mem::MemStore::new();
    let downloader = iroh_blobs::api::downloader::Downloader::new(&mem, &client);
    let ann_id = iroh::PublicKey::from_bytes(ann.with(|n| n.device()).as_bytes()).unwrap();
    // A hash Ann does not hold: refused, nothing served.
    let unknown = iroh_blobs::Hash::from_bytes([42; 32]);
    let r = bounded(downloader.download(unknown, vec![ann_id]).into_future()).await;
    assert!(r.is_err(), "an unknown blob was served");
    assert!(!mem.blobs().has(unknown).await.unwrap());
    assert_eq!(pa.blobs_served(), (0, 0));
    // A blob Ann holds: served whole, and it is the sealed bytes.
    let held = iroh_blobs::Hash::from_bytes(hash.0);
    bounded(downloader.download(held, vec![ann_id]).into_future())
        .await
        .unwrap();
    assert_eq!(mem.blobs().get_bytes(held).await.unwrap().to_vec(), sealed);
    // The upload is counted once it has ended on Ann's side: the sealed
    // bytes, plus the size header and the hashes that let them be verified
    // while streaming.
    until(|| pa.blobs_served().0 == 1).await;
    let (uploads, sent) = pa.blobs_served();
    assert_eq!(uploads, 1);
    let len = sealed.len() as u64;
    assert!(
        sent >= len && sent <= len + len / 50 + 1024,
        "{sent} bytes sent for {len}"
    );
    pa.shutdown().await;
}
