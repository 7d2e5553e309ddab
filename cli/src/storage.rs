//! `starling storage`: what the store holds, its budgets, a check that
//! keeps to them now, and a vacuum.

use anyhow::{Result, bail};
use clap::Subcommand;
use starling_core::Node;
use starling_core::view::{Budgets, StorageKind};

use crate::out::Out;

/// What `starling storage` does besides reporting.
#[derive(Debug, Subcommand)]
pub(crate) enum StorageCmd {
    /// Set what this device keeps of others' data (the rest stays as it
    /// is); checks the store against the new budgets at once.
    Budget {
        /// Most bytes of others' images kept, e.g. 1GB, 500MB.
        #[arg(long, value_parser = parse_size)]
        media: Option<u64>,
        /// Most bytes of others' posts kept whole; the oldest beyond it
        /// keep their headers only.
        #[arg(long, value_parser = parse_size)]
        posts: Option<u64>,
        /// Others' posts older than this many days keep their headers only.
        #[arg(long)]
        keep_days: Option<u32>,
    },
    /// Bring the store within its budgets now (a running node does it
    /// every hour).
    Check,
    /// Give space freed by eviction and cleanup back to the filesystem.
    Vacuum,
}

/// A size in bytes: a number with an optional unit (B, KB, MB, GB, TB;
/// powers of 1000; KiB, MiB, GiB, TiB: powers of 1024).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 500MB, 2GB)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?} (use B, KB, MB, GB, TB)"
            ));
        }
    };
    let bytes = n * scale;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(bytes.round() as u64)
}

/// Bytes for people: B, kB, MB or GB.
fn human(bytes: u64) -> String {
    match bytes {
        b if b < 1_000 => format!("{b} B"),
        b if b < 1_000_000 => format!("{:.1} kB", b as f64 / 1e3),
        b if b < 1_000_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b => format!("{:.2} GB", b as f64 / 1e9),
    }
}

fn kind_name(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Own => "your posts and records",
        StorageKind::OwnMedia => "your images",
        StorageKind::Followed => "people you follow",
        StorageKind::Groups => "groups",
        StorageKind::Conversations => "conversations",
        StorageKind::Mirrored => "held for others (not followed)",
        StorageKind::MediaCache => "others' images (cache)",
        StorageKind::SearchIndex => "search index",
    }
}

/// `starling storage [budget|check|vacuum]`.
pub(crate) fn run(out: Out, node: &mut Node, action: Option<StorageCmd>) -> Result<()> {
    match action {
        None => report(out, node),
        Some(StorageCmd::Budget {
            media,
            posts,
            keep_days,
        }) => {
            if media.is_none() && posts.is_none() && keep_days.is_none() {
                bail!("say what to change: --media, --posts or --keep-days");
            }
            let old = node.store().budgets()?;
            let budgets = Budgets {
                media_cache_bytes: media.unwrap_or(old.media_cache_bytes),
                others_posts_bytes: posts.unwrap_or(old.others_posts_bytes),
                keep_others_posts_days: keep_days.unwrap_or(old.keep_others_posts_days),
            };
            let evicted = node.set_budgets(&budgets)?;
            out.show(&evicted, || {
                print_budgets(&budgets);
                print_evicted(&evicted);
            });
            Ok(())
        }
        Some(StorageCmd::Check) => {
            let evicted = node.check_storage()?;
            out.show(&evicted, || print_evicted(&evicted));
            Ok(())
        }
        Some(StorageCmd::Vacuum) => {
            let before = node.storage()?.file_bytes;
            node.store().vacuum()?;
            let s = node.storage()?;
            out.show(&s, || {
                println!("{} on disk (was {})", human(s.file_bytes), human(before))
            });
            Ok(())
        }
    }
}

fn report(out: Out, node: &mut Node) -> Result<()> {
    let s = node.storage()?;
    out.show(&s, || {
        println!(
            "{} entries in {} logs ({} waiting for earlier ones, {} kept as headers only), {} posts",
            s.entries, s.logs, s.waiting, s.headers_only, s.posts
        );
        println!(
            "{} on disk ({} free, {} in the write-ahead log)",
            human(s.file_bytes),
            human(s.free_bytes),
            human(s.wal_bytes)
        );
        for k in &s.kinds {
            println!(
                "  {:<32} {:>10}  {:>8}",
                kind_name(k.kind),
                human(k.bytes),
                k.count
            );
        }
        if !s.biggest.is_empty() {
            println!("taking the most room:");
            for a in &s.biggest {
                let name = a.name.clone().unwrap_or_else(|| a.identity.fmt_short());
                println!("  {:<32} {:>10}  {:>8}", name, human(a.bytes), a.entries);
            }
        }
        print_budgets(&s.budgets);
    });
    Ok(())
}

fn print_budgets(b: &Budgets) {
    println!(
        "budgets: others' images {}, others' posts {}, others' posts kept {} days",
        human(b.media_cache_bytes),
        human(b.others_posts_bytes),
        b.keep_others_posts_days
    );
}

fn print_evicted(e: &starling_core::view::Evicted) {
    println!(
        "evicted {} posts ({}) and {} images ({}); data of {} blocked identities dropped",
        e.posts,
        human(e.post_bytes),
        e.images,
        human(e.image_bytes),
        e.blocked_dropped
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2k"), Ok(2000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").is_err());
        assert!(parse_size("-5MB").is_err());
    }
}
