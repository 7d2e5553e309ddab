//! Cold open plus the first timeline page, warm pages and search over a
//! store of 1M entries from 1,000 followed authors; bytes on disk per entry.
//!
//! Run: `cargo bench -p starling-core --features test-utils --bench queries`
//! (`STARLING_BENCH_ENTRIES=100000` for a quicker, smaller run.)
//!
//! The same figures are taken on a store 1/100 the size in the same run, so
//! growth with store size shows directly.

use std::path::Path;
use std::time::Instant;

use starling_core::Node;
use starling_core::synth::{WORDS, seed_home};

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn build(home: &Path, authors: u64, per_author: u64) -> (u64, f64) {
    let node = Node::init(home, "Bench").expect("init");
    let (n, secs) = seed_home(node, authors, per_author).expect("seed");
    (n, secs)
}

fn measure(label: &str, home: &Path, entries: u64) {
    // Cold: a new process-level open (new connection, empty SQLite cache)
    // and the first page of the home timeline.
    let mut cold = Vec::new();
    for _ in 0..40 {
        let t = Instant::now();
        let mut node = Node::open(home).expect("open");
        let page = node.timeline(50, None).expect("timeline");
        cold.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(page.posts.len(), 50);
    }
    let mut node = Node::open(home).expect("open");
    let mut warm = Vec::new();
    let mut deep = Vec::new();
    let mut cursor: Option<String> = None;
    for i in 0..200 {
        let t = Instant::now();
        let page = node.timeline(50, cursor.as_deref()).expect("timeline");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if i == 0 {
            warm.push(ms)
        } else {
            deep.push(ms)
        }
        cursor = page.next;
        if i % 10 == 0 {
            let t = Instant::now();
            node.timeline(50, None).expect("timeline");
            warm.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let mut search = Vec::new();
    let mut hits = 0;
    for i in 0..200 {
        let q = if i % 2 == 0 {
            WORDS[i % WORDS.len()].to_string()
        } else {
            format!(
                "{} {}",
                WORDS[i % WORDS.len()],
                WORDS[(i * 7 + 1) % WORDS.len()]
            )
        };
        let t = Instant::now();
        hits += node.search(&q, 50).expect("search").len();
        search.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let db = std::fs::metadata(home.join("starling.db"))
        .map(|m| m.len())
        .unwrap_or(0);
    let payload = node.store().payload_bytes().expect("payload bytes");
    let (stored, _, _) = node.store().counts().expect("counts");
    println!(
        "{label}: {entries} entries ({stored} stored), db file {:.1} MB, payloads {:.1} MB",
        db as f64 / 1e6,
        payload as f64 / 1e6
    );
    println!(
        "  cold open + first page (50 posts): p50 {:.2} ms  p99 {:.2} ms",
        pct(cold.clone(), 0.5),
        pct(cold, 0.99)
    );
    println!(
        "  warm first page:                   p50 {:.2} ms  p99 {:.2} ms",
        pct(warm.clone(), 0.5),
        pct(warm, 0.99)
    );
    println!(
        "  next pages (cursor, 199 deep):     p50 {:.2} ms  p99 {:.2} ms",
        pct(deep.clone(), 0.5),
        pct(deep, 0.99)
    );
    println!(
        "  search (50 results, {} hits):    p50 {:.2} ms  p99 {:.2} ms",
        hits,
        pct(search.clone(), 0.5),
        pct(search, 0.99)
    );
    println!(
        "  bytes on disk per entry minus payload: {:.0}",
        (db - payload) as f64 / stored as f64
    );
    let sizes = node.store().table_sizes().expect("dbstat");
    let per: Vec<String> = sizes
        .iter()
        .filter(|(_, b)| *b as f64 / stored as f64 >= 1.0)
        .map(|(n, b)| format!("{n} {:.0}", *b as f64 / stored as f64))
        .collect();
    println!(
        "  bytes per entry by table (entries includes payloads): {}",
        per.join(", ")
    );
}

fn main() {
    let total: u64 = std::env::var("STARLING_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let authors = 1000u64;
    let dir = tempfile::tempdir().expect("tempdir");
    let small = dir.path().join("small");
    let (n, secs) = build(&small, authors / 10, total / 100 / (authors / 10));
    println!("built small store: {n} entries in {secs:.1} s");
    let big = dir.path().join("big");
    let (n_big, secs) = build(&big, authors, total / authors);
    println!(
        "built big store: {n_big} entries in {secs:.1} s ({:.0} entries/s)",
        n_big as f64 / secs
    );
    measure("small", &small, n);
    measure("big", &big, n_big);
}
