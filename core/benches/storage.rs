//! Eviction of a large store down to its budgets, and the home timeline
//! while it runs: 1M entries from 1,000 followed authors plus 2 GB of
//! others' images (10,000 of 200 kB, on posts of 10 more authors); the
//! budgets then allow a quarter of the images (500 MB) and half of
//! others' posts. The evictor runs chunk by chunk as a running node does; a second
//! connection pages the timeline meanwhile. The same pages are timed
//! before the eviction, in the same run, as the baseline.
//!
//! Run: `cargo bench -p starling-core --features test-utils --bench storage`
//! (`STARLING_BENCH_ENTRIES=100000 STARLING_BENCH_IMAGE_MB=200` for a
//! quicker, smaller run).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use starling_core::bundle::BundleWriter;
use starling_core::id::Hash;
use starling_core::record::ImageRef;
use starling_core::synth::{SynthAuthor, seed_home};
use starling_core::view::Budgets;
use starling_core::{Node, node::now_ms};

const IMAGE_LEN: usize = 200_000;
const IMAGE_AUTHORS: u64 = 10;
const IMAGES_PER_BUNDLE: usize = 500;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Pages the home timeline (the first page, then deeper by cursor, back
/// to the top every 20 pages) until `stop`, or `most` pages; ms each.
fn page_times(node: &mut Node, stop: &AtomicBool, most: usize) -> Vec<f64> {
    let mut times = Vec::new();
    let mut cursor: Option<String> = None;
    while times.len() < most && !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        let page = node.timeline(50, cursor.as_deref()).expect("timeline");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        cursor = if times.len() % 20 == 0 {
            None
        } else {
            page.next
        };
    }
    times
}

/// Others' images on posts of `IMAGE_AUTHORS` more followed authors.
fn add_images(node: &mut Node, count: usize) {
    let mut authors: Vec<SynthAuthor> = (0..IMAGE_AUTHORS)
        .map(|i| SynthAuthor::new(50_000 + i))
        .collect();
    for a in &authors {
        node.follow(&a.ticket()).expect("follow");
    }
    let mut done = 0;
    let mut first = true;
    while done < count {
        let mut w = BundleWriter::new();
        if first {
            for a in &mut authors {
                w.entry(&a.cert(1).encode());
            }
            first = false;
        }
        for i in done..(done + IMAGES_PER_BUNDLE).min(count) {
            let mut data = vec![0u8; IMAGE_LEN];
            blake3::Hasher::new()
                .update(&(i as u64).to_le_bytes())
                .finalize_xof()
                .fill(&mut data);
            let hash = Hash::of(&data);
            let a = &mut authors[i % IMAGE_AUTHORS as usize];
            let image = ImageRef {
                hash,
                len: IMAGE_LEN as u32,
                mime: "image/jpeg".into(),
                alt: String::new(),
            };
            let ts = 1_700_000_000_000 + i as u64 * 60_000;
            w.entry(
                &a.post_with_images(&format!("picture {i}"), None, vec![image], ts)
                    .encode(),
            );
            w.blob(&hash, &a.space(), &data);
        }
        let r = node.import(&w.finish()).expect("import");
        assert!(r.rejected.is_empty(), "{:?}", r.rejected.first());
        done = (done + IMAGES_PER_BUNDLE).min(count);
    }
}

fn main() {
    let entries = env("STARLING_BENCH_ENTRIES", 1_000_000);
    let image_mb = env("STARLING_BENCH_IMAGE_MB", 2_000);
    let images = (image_mb * 1_000_000 / IMAGE_LEN as u64) as usize;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let t = Instant::now();
    let (n, _) = seed_home(
        Node::init(&home, "Bench").expect("init"),
        1000,
        entries / 1000,
    )
    .expect("seed");
    let seeded = t.elapsed().as_secs_f64();
    let mut node = Node::open(&home).expect("open");
    add_images(&mut node, images);
    node.store().checkpoint().expect("checkpoint");
    let before = node.storage().expect("storage");
    println!(
        "store: {n} entries + {images} images ({:.0} MB of images, {:.1} MB of others' posts), \
         {:.0} MB on disk; built in {:.0} s (entries {seeded:.0} s)",
        before.blob_bytes as f64 / 1e6,
        node.store().others_posts_bytes().expect("bytes") as f64 / 1e6,
        before.file_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // Baseline: the same pages with nothing else running.
    let idle = AtomicBool::new(false);
    let mut reader = Node::open(&home).expect("open");
    let baseline = page_times(&mut reader, &idle, 2000);

    // Eviction, chunk by chunk, while a second connection pages.
    let posts_held = node.store().others_posts_bytes().expect("bytes");
    let budgets = Budgets {
        media_cache_bytes: before.blob_bytes / 4,
        others_posts_bytes: posts_held / 2,
        keep_others_posts_days: 36_500,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let reading = std::thread::spawn(move || page_times(&mut reader, &flag, usize::MAX));
    let t = Instant::now();
    let mut eviction = node
        .store()
        .plan_eviction(now_ms(), &budgets)
        .expect("plan");
    let planned = t.elapsed().as_secs_f64();
    let mut chunks = 1;
    while node.store().evict_some(&mut eviction, 256).expect("evict") {
        chunks += 1;
    }
    node.store().scrub().expect("scrub");
    let evict_secs = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let during = reading.join().expect("reader");
    let report = eviction.report().clone();
    let after = node.storage().expect("storage");
    let t = Instant::now();
    node.store().vacuum().expect("vacuum");
    let vacuum_secs = t.elapsed().as_secs_f64();
    let vacuumed = node.storage().expect("storage");

    println!(
        "eviction: {:.1} s ({planned:.2} s planning, {chunks} chunks): {} posts ({:.1} MB) to headers, \
         {} images ({:.0} MB) dropped",
        evict_secs,
        report.posts,
        report.post_bytes as f64 / 1e6,
        report.images,
        report.image_bytes as f64 / 1e6
    );
    println!(
        "after: others' images {:.0} MB (budget {:.0}), others' posts {:.1} MB (budget {:.1})",
        node.store().media_cache_bytes().expect("bytes") as f64 / 1e6,
        budgets.media_cache_bytes as f64 / 1e6,
        node.store().others_posts_bytes().expect("bytes") as f64 / 1e6,
        budgets.others_posts_bytes as f64 / 1e6,
    );
    println!(
        "timeline page of 50, idle:           p50 {:.2} ms, p99 {:.2} ms ({} pages)",
        pct(baseline.clone(), 0.5),
        pct(baseline.clone(), 0.99),
        baseline.len()
    );
    println!(
        "timeline page of 50, during eviction: p50 {:.2} ms, p99 {:.2} ms ({} pages), max {:.1} ms",
        pct(during.clone(), 0.5),
        pct(during.clone(), 0.99),
        during.len(),
        pct(during.clone(), 1.0)
    );
    println!(
        "ratio p99 during / idle: {:.2} (goal: p99 during < 10 ms)",
        pct(during, 0.99) / pct(baseline, 0.99)
    );
    println!(
        "vacuum: {:.1} s; file {:.0} MB before eviction, {:.0} MB after ({:.0} MB free), {:.0} MB after vacuum",
        vacuum_secs,
        before.file_bytes as f64 / 1e6,
        after.file_bytes as f64 / 1e6,
        after.free_bytes as f64 / 1e6,
        vacuumed.file_bytes as f64 / 1e6
    );
}
