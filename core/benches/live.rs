//! Live updates and media on loopback:
//! - post-to-visible latency through gossip (p50/p99), against raw
//!   iroh-gossip one-way delivery measured in the same run;
//! - a burst of 10,000 posts: how long until the follower holds every one,
//!   and how many are missing (gossip drops; catch-up fills the gaps);
//! - 20 followers fetch a 5 MB image: bytes the author uploads divided by
//!   the image size.
//!
//! Run: `cargo bench -p starling-core --features test-utils --bench live`

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use starling_core::net::{Event, NetConfig, Peer};
use starling_core::{NewPost, Node};
use tokio::sync::broadcast::Receiver;

fn shared(dir: &tempfile::TempDir, name: &str) -> Arc<Mutex<Node>> {
    Arc::new(Mutex::new(
        Node::init(&dir.path().join(name), name).expect("init"),
    ))
}

fn lock(n: &Arc<Mutex<Node>>) -> std::sync::MutexGuard<'_, Node> {
    n.lock().expect("lock")
}

async fn start(node: &Arc<Mutex<Node>>) -> Peer {
    let p = Peer::start(node.clone(), NetConfig::loopback())
        .await
        .expect("start");
    lock(node).set_reachable_at(&p.addr()).expect("addrs");
    p
}

async fn next(events: &mut Receiver<Event>, mut pick: impl FnMut(&Event) -> bool) -> bool {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(e) if pick(&e) => return true,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return false,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or(false)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Raw iroh-gossip: one-way delivery of a 300-byte message between two
/// endpoints on loopback (measured as half a broadcast round trip).
async fn raw_gossip_ms(rounds: usize) -> Vec<f64> {
    use iroh::endpoint::presets;
    use iroh_gossip::{Gossip, TopicId, api::Event};
    use n0_future::StreamExt;
    let lookup = iroh::address_lookup::memory::MemoryLookup::new();
    let ep = |lookup: iroh::address_lookup::memory::MemoryLookup| async move {
        iroh::Endpoint::builder(presets::Minimal)
            .relay_mode(iroh::RelayMode::Disabled)
            .address_lookup(lookup)
            .clear_ip_transports()
            .bind_addr("127.0.0.1:0".parse::<std::net::SocketAddr>().expect("addr"))
            .expect("bind addr")
            .bind()
            .await
            .expect("bind")
    };
    let (ea, eb) = (ep(lookup.clone()).await, ep(lookup.clone()).await);
    lookup.add_endpoint_info(ea.addr());
    lookup.add_endpoint_info(eb.addr());
    let ga = Gossip::builder().spawn(ea.clone());
    let gb = Gossip::builder().spawn(eb.clone());
    let _ra = iroh::protocol::Router::builder(ea.clone())
        .accept(iroh_gossip::ALPN, ga.clone())
        .spawn();
    let _rb = iroh::protocol::Router::builder(eb.clone())
        .accept(iroh_gossip::ALPN, gb.clone())
        .spawn();
    let topic = TopicId::from_bytes([7; 32]);
    let (sa, mut ra) = ga.subscribe(topic, vec![]).await.expect("sub").split();
    let (sb, mut rb) = tokio::time::timeout(
        Duration::from_secs(10),
        gb.subscribe_and_join(topic, vec![ea.id()]),
    )
    .await
    .expect("raw gossip join timed out")
    .expect("join")
    .split();
    let _ = tokio::time::timeout(Duration::from_secs(10), ra.joined()).await;
    let wait = Duration::from_secs(5);
    let mut out = Vec::new();
    for i in 0..rounds {
        // Gossip drops a message it has seen (by content): every one differs.
        let mut msg = vec![0u8; 300];
        msg[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let mut reply = msg.clone();
        reply[8] = 1;
        let t = Instant::now();
        sa.broadcast(msg.clone().into()).await.expect("send");
        let there = tokio::time::timeout(wait, async {
            while let Some(Ok(e)) = rb.next().await {
                if matches!(e, Event::Received(_)) {
                    break;
                }
            }
        });
        if there.await.is_err() {
            continue;
        }
        sb.broadcast(reply.into()).await.expect("send");
        let back = tokio::time::timeout(wait, async {
            while let Some(Ok(e)) = ra.next().await {
                if matches!(e, Event::Received(_)) {
                    break;
                }
            }
        });
        if back.await.is_ok() {
            out.push(t.elapsed().as_secs_f64() * 1000.0 / 2.0);
        }
    }
    out
}

async fn pair(dir: &tempfile::TempDir) -> (Arc<Mutex<Node>>, Arc<Mutex<Node>>, Peer, Peer) {
    let (a, b) = (shared(dir, "author"), shared(dir, "follower"));
    let (pa, pb) = (start(&a).await, start(&b).await);
    let mut eb = pb.events();
    let ta = lock(&a).ticket().expect("ticket");
    let tb = lock(&b).ticket().expect("ticket");
    lock(&b).follow(&ta).expect("follow");
    lock(&a).follow(&tb).expect("follow");
    pa.notify_local_change();
    pb.notify_local_change();
    assert!(
        next(&mut eb, |e| matches!(e, Event::PeerUp { .. })).await,
        "neighbors"
    );
    (a, b, pa, pb)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");

    // Baseline: raw gossip.
    let mut raw = raw_gossip_ms(500).await;
    raw.sort_by(f64::total_cmp);
    println!(
        "raw iroh-gossip one-way ({} of 500 rounds): p50 {:.3} ms, p99 {:.3} ms",
        raw.len(),
        percentile(&raw, 0.5),
        percentile(&raw, 0.99)
    );

    // Post to visible: post on A, B's store has it and says so.
    let (a, b, pa, pb) = pair(&dir).await;
    let mut eb = pb.events();
    let feed = starling_core::space::feed_space_id(&lock(&a).identity());
    let author = lock(&a).device();
    let held = |n: &Arc<Mutex<Node>>| {
        lock(n)
            .store_ref()
            .log_head(&feed, &author)
            .expect("head")
            .map_or(0, |h| h.seq)
    };
    // The catch-up that starts when they meet brings what A had.
    let deadline = Instant::now() + Duration::from_secs(30);
    while held(&b) < held(&a) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut lat = Vec::new();
    let mut by_gossip = 0;
    for i in 0..1000 {
        let t = Instant::now();
        lock(&a)
            .post(NewPost {
                text: format!("live post {i}: a murmuration over the pier"),
                ..Default::default()
            })
            .expect("post");
        pa.notify_local_change();
        let want = held(&a);
        // Visible: B's store holds it (live, or by a catch-up on a gap).
        let seen = next(&mut eb, |e| {
            let live = matches!(e, Event::Received { .. });
            let arrived = (live || matches!(e, Event::Synced { .. })) && held(&b) >= want;
            by_gossip += u32::from(arrived && live);
            arrived
        })
        .await;
        assert!(seen, "post {i} never arrived");
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    lat.sort_by(f64::total_cmp);
    println!(
        "post to visible (1,000 posts, 2 ms apart; {by_gossip} through gossip): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat[lat.len() - 1]
    );

    // Burst: 10,000 posts with no pause.
    let n = 10_000u64;
    let before = lock(&b).store().counts().expect("counts").0;
    let t = Instant::now();
    {
        let mut a = lock(&a);
        for i in 0..n {
            a.post(NewPost {
                text: format!("burst {i}"),
                ..Default::default()
            })
            .expect("post");
        }
    }
    let posted = t.elapsed();
    pa.notify_local_change();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut got = 0;
    while Instant::now() < deadline {
        got = lock(&b).store().counts().expect("counts").0 - before;
        if got >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "burst of {n} posts (made in {:.2} s): follower holds all after {:.2} s; missing {}",
        posted.as_secs_f64(),
        t.elapsed().as_secs_f64(),
        n.saturating_sub(got)
    );
    pa.shutdown().await;
    pb.shutdown().await;

    // Fan-out of a 5 MB image to 20 followers.
    let author = shared(&dir, "painter");
    let pauthor = start(&author).await;
    let ticket = lock(&author).ticket().expect("ticket");
    let mut followers = Vec::new();
    for i in 0..20 {
        let f = shared(&dir, &format!("f{i}"));
        lock(&f).follow(&ticket).expect("follow");
        let p = start(&f).await;
        p.notify_local_change();
        followers.push((f, p));
    }
    // Let the swarm form.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let img = {
        let mut seed = 0x1234_5678_u32;
        let side = 1290;
        let px = image::RgbImage::from_fn(side, side, |_, _| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8])
        });
        let mut out = std::io::Cursor::new(Vec::new());
        px.write_to(&mut out, image::ImageFormat::Png).expect("png");
        out.into_inner()
    };
    let mut waits: Vec<Receiver<Event>> = followers.iter().map(|(_, p)| p.events()).collect();
    let t = Instant::now();
    lock(&author)
        .post(NewPost {
            text: "the whole flock".into(),
            images: vec![img.clone()],
            ..Default::default()
        })
        .expect("post");
    pauthor.notify_local_change();
    // Each follower's own time to the image, waited for side by side.
    let times = n0_future::join_all(waits.iter_mut().map(|w| async move {
        next(w, |e| matches!(e, Event::BlobFetched { .. }))
            .await
            .then(|| t.elapsed().as_secs_f64())
    }))
    .await;
    let mut done: Vec<f64> = times.into_iter().flatten().collect();
    done.sort_by(f64::total_cmp);
    let fetched = done.len();
    if fetched > 0 {
        println!(
            "  followers holding the image: first after {:.2} s, half after {:.2} s, last after {:.2} s",
            done[0],
            done[(fetched - 1) / 2],
            done[fetched - 1]
        );
    }
    let served = pauthor.blobs_served();
    let sealed = img.len() as f64 + 40.0;
    println!(
        "20 followers fetch a {:.2} MB image: {fetched}/20 in {:.2} s; the author served {} requests, {:.1} MB: upload / image = {:.2} (a central server: 20)",
        sealed / 1e6,
        t.elapsed().as_secs_f64(),
        served.0,
        served.1 as f64 / 1e6,
        served.1 as f64 / sealed
    );
    for (_, p) in followers {
        p.shutdown().await;
    }
    pauthor.shutdown().await;
}
