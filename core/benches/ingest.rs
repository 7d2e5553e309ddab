//! Import throughput against the ed25519 batch-verify rate, measured in the
//! same run.
//!
//! Run: `cargo bench -p starling-core --features test-utils --bench ingest`
//!
//! 1. Baseline: single-core ed25519 batch verification (batches of 256) of
//!    messages the size of an entry header, with `ed25519-dalek`.
//! 2. Starling's own batch check (`entry::verify_batch`: cofactored, one
//!    verdict with the single check) over the bundle's entries, 1,024 per
//!    batch as the store does.
//! 3. Import of 100k entries from 100 authors (a bundle on disk, a fresh
//!    store on disk that follows every author), three runs, median.
//! 4. The ratios.

use std::time::Instant;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use starling_core::bundle::BundleWriter;
use starling_core::synth::SynthAuthor;
use starling_core::{Node, Ticket};

const AUTHORS: u64 = 100;
const PER_AUTHOR: u64 = 1000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn batch_verify_rate() -> f64 {
    let n = 256 * 200;
    let keys: Vec<SigningKey> = (0..64u8)
        .map(|i| SigningKey::from_bytes(&[i; 32]))
        .collect();
    let vks: Vec<VerifyingKey> = keys.iter().map(|k| k.verifying_key()).collect();
    let msgs: Vec<Vec<u8>> = (0..n)
        .map(|i: usize| format!("{i:0>180}").into_bytes())
        .collect();
    let sigs: Vec<Signature> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| keys[i % 64].sign(m))
        .collect();
    let vk_list: Vec<VerifyingKey> = (0..n).map(|i| vks[i % 64]).collect();
    let mut rates = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        for c in 0..n / 256 {
            let r = c * 256..(c + 1) * 256;
            let m: Vec<&[u8]> = msgs[r.clone()].iter().map(Vec::as_slice).collect();
            ed25519_dalek::verify_batch(&m, &sigs[r.clone()], &vk_list[r]).expect("valid batch");
        }
        rates.push(n as f64 / t.elapsed().as_secs_f64());
    }
    median(rates)
}

fn main() {
    println!("ingest benchmark: {AUTHORS} authors x {PER_AUTHOR} entries");
    let verify = batch_verify_rate();
    println!("baseline  ed25519 batch verify (256/batch, 1 core): {verify:>9.0} sig/s");

    let mut tickets: Vec<Ticket> = Vec::new();
    let mut w = BundleWriter::new();
    for s in 0..AUTHORS {
        let mut a = SynthAuthor::new(s);
        tickets.push(a.ticket());
        w.entry(&a.cert(1).encode());
        for i in 1..PER_AUTHOR {
            let text = format!(
                "entry {i} of author {s}: a short post about starlings and their murmurations"
            );
            w.entry(
                &a.post(&text, None, 1_700_000_000_000 + i * 1000 + s)
                    .encode(),
            );
        }
    }
    let bundle = w.finish();
    let total = AUTHORS * PER_AUTHOR;
    println!(
        "bundle    {} entries, {:.1} MB",
        total,
        bundle.len() as f64 / 1e6
    );

    let entries: Vec<starling_core::Entry> = starling_core::bundle::parse(&bundle)
        .expect("bundle")
        .into_iter()
        .filter_map(|i| match i {
            starling_core::bundle::Item::Entry(b) => starling_core::Entry::decode(b).ok(),
            _ => None,
        })
        .collect();
    let mut own = Vec::new();
    for _ in 0..3 {
        let mut cache = starling_core::entry::KeyCache::default();
        let t = Instant::now();
        for c in entries.chunks(1024) {
            let r = starling_core::entry::verify_batch(c, &mut cache);
            assert!(r.iter().all(Result::is_ok));
        }
        own.push(entries.len() as f64 / t.elapsed().as_secs_f64());
    }
    let own = median(own);
    println!("starling  entry batch check (1024/batch, 1 core): {own:>9.0} sig/s");

    let mut rates = Vec::new();
    for run in 0..3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut node = Node::init(&dir.path().join("bench"), "Bench").expect("init");
        for t in &tickets {
            node.follow(t).expect("follow");
        }
        let t = Instant::now();
        let r = node.import(&bundle).expect("import");
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(r.accepted, total, "{:?}", r.rejected.first());
        let rate = total as f64 / secs;
        println!(
            "run {run}    import {total} (verify + check + decrypt + project): {secs:.2} s, {rate:>9.0} entries/s"
        );
        rates.push(rate);
    }
    let rate = median(rates);
    println!("result    import (median of 3): {rate:>9.0} entries/s");
    println!(
        "ratio     starling batch check / dalek batch verify: {:.2}",
        own / verify
    );
    println!(
        "ratio     import / batch-verify rate: {:.2} (goal >= 0.85)",
        rate / verify
    );
}
