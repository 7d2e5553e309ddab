//! Catch-up over iroh on loopback, against the import rate of the same
//! entries from a local bundle measured in the same run; the cost of a
//! re-sync when everything is in sync; the per-entry overhead of a sync.
//!
//! Run: `cargo bench -p starling-core --features test-utils --bench sync`

use std::sync::{Arc, Mutex};
use std::time::Instant;

use starling_core::bundle::BundleWriter;
use starling_core::net::{NetConfig, Peer};
use starling_core::synth::SynthAuthor;
use starling_core::{Node, Ticket};

struct Fixture {
    bundle: Vec<u8>,
    tickets: Vec<Ticket>,
    entries: u64,
    entry_bytes: u64,
}

fn authors(n: u64, per: u64, seed: u64) -> (Fixture, Vec<SynthAuthor>) {
    let mut w = BundleWriter::new();
    let mut tickets = Vec::new();
    let mut all = Vec::new();
    let (mut entries, mut entry_bytes) = (0, 0);
    for s in 0..n {
        let mut a = SynthAuthor::new(seed + s);
        tickets.push(a.ticket());
        let mut push = |e: starling_core::Entry| {
            let b = e.encode();
            entries += 1;
            entry_bytes += b.len() as u64;
            w.entry(&b);
        };
        push(a.cert(1));
        for i in 1..per {
            push(a.post(
                &format!("post {i} by {s}: starlings over the marsh at dusk"),
                None,
                1_700_000_000_000 + i,
            ));
        }
        all.push(a);
    }
    (
        Fixture {
            bundle: w.finish(),
            tickets,
            entries,
            entry_bytes,
        },
        all,
    )
}

/// Catch-up alone: no gossip topics, so only the protocol under test runs.
fn catch_up_only() -> NetConfig {
    NetConfig {
        live: false,
        ..NetConfig::loopback()
    }
}

fn node(dir: &tempfile::TempDir, name: &str, tickets: &[Ticket]) -> Arc<Mutex<Node>> {
    let mut n = Node::init(&dir.path().join(name), name).expect("init");
    for t in tickets {
        n.follow(t).expect("follow");
    }
    Arc::new(Mutex::new(n))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (fx, _) = authors(100, 1000, 0);
    println!(
        "sync benchmark: {} entries from 100 authors ({:.1} MB)",
        fx.entries,
        fx.entry_bytes as f64 / 1e6
    );

    // Baseline: import from a local bundle.
    let base = node(&dir, "base", &fx.tickets);
    let t = Instant::now();
    let r = base
        .lock()
        .expect("lock")
        .import(&fx.bundle)
        .expect("import");
    let bundle_rate = r.accepted as f64 / t.elapsed().as_secs_f64();
    println!("baseline  import from a bundle: {bundle_rate:>9.0} entries/s");

    // Initial catch-up of everything over loopback.
    let server = Peer::start(base.clone(), catch_up_only())
        .await
        .expect("start");
    let fresh = node(&dir, "fresh", &fx.tickets);
    let client = Peer::start(fresh.clone(), catch_up_only())
        .await
        .expect("start");
    let t = Instant::now();
    let r = client.sync_with(&server.addr()).await.expect("sync");
    let secs = t.elapsed().as_secs_f64();
    let rate = r.import.accepted as f64 / secs;
    println!(
        "result    initial catch-up: {} entries in {secs:.2} s, {rate:>9.0} entries/s, {} messages, {:.1} MB in",
        r.import.accepted,
        r.messages,
        r.bytes_received as f64 / 1e6
    );
    println!(
        "ratio     catch-up / bundle import: {:.2} (goal >= 0.8)",
        rate / bundle_rate
    );
    let overhead = (r.bytes_received + r.bytes_sent) as f64 - fx.entry_bytes as f64;
    println!(
        "result    bytes per entry beyond the entry itself (initial): {:.1}",
        overhead / r.import.accepted as f64
    );

    // k new entries on one side.
    // Author 0 writes on: rebuild its state, then k new entries.
    let mut a0 = SynthAuthor::new(0);
    let _ = a0.cert(1);
    for i in 1..1000 {
        let _ = a0.post(
            &format!("post {i} by 0: starlings over the marsh at dusk"),
            None,
            1_700_000_000_000 + i,
        );
    }
    let k = 1000u64;
    let mut w = BundleWriter::new();
    let mut new_bytes = 0u64;
    for i in 0..k {
        let e = a0.post(&format!("new post {i}"), None, 1_800_000_000_000 + i);
        new_bytes += e.encode().len() as u64;
        w.entry(&e.encode());
    }
    base.lock()
        .expect("lock")
        .import(&w.finish())
        .expect("import new");
    let r = client.sync_with(&server.addr()).await.expect("sync");
    assert_eq!(r.import.accepted, k);
    let overhead = (r.bytes_received + r.bytes_sent) as f64 - new_bytes as f64;
    println!(
        "result    sync of {k} new entries: {} messages, bytes beyond the entries: {:.1} per entry (goal < 50)",
        r.messages,
        overhead / k as f64
    );

    // Re-sync with everything already in sync.
    let r = client.sync_with(&server.addr()).await.expect("sync");
    println!(
        "result    re-sync of 100 spaces in sync: {} bytes both ways, {} messages (1 round trip)",
        r.bytes_sent + r.bytes_received,
        r.messages
    );
    server.shutdown().await;
    client.shutdown().await;

    // 1,000 spaces already in sync.
    let (fx2, _) = authors(1000, 3, 50_000);
    let a = node(&dir, "a1000", &fx2.tickets);
    let b = node(&dir, "b1000", &fx2.tickets);
    a.lock().expect("lock").import(&fx2.bundle).expect("import");
    b.lock().expect("lock").import(&fx2.bundle).expect("import");
    let pa = Peer::start(a, catch_up_only()).await.expect("start");
    let pb = Peer::start(b, catch_up_only()).await.expect("start");
    let r = pb.sync_with(&pa.addr()).await.expect("sync");
    assert_eq!(r.import.accepted, 0);
    println!(
        "result    re-sync of 1001 spaces in sync, first meeting: {} bytes both ways, {} messages = 1 round trip",
        r.bytes_sent + r.bytes_received,
        r.messages
    );
    let r = pb.sync_with(&pa.addr()).await.expect("sync");
    println!(
        "result    re-sync of 1001 spaces in sync, peers met before: {} bytes both ways, {} messages = 1 round trip (goal < 1 KB)",
        r.bytes_sent + r.bytes_received,
        r.messages
    );
    pa.shutdown().await;
    pb.shutdown().await;
}
