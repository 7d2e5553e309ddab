//! What commands print: with `--json`, one of the core's views as one JSON
//! document; otherwise text for people.

use serde::Serialize;
use starling_core::{Page, PostView, ProfileView};

/// Where and how a command prints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// Print JSON (one document on stdout) instead of text.
    pub(crate) json: bool,
}

impl Out {
    /// Prints `value` as one line of JSON, or calls `human` to print text.
    pub(crate) fn show<T: Serialize + ?Sized>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            println!("{}", serde_json::to_string(value).unwrap_or_default());
        } else {
            human();
        }
    }

    /// Prints a page of posts: the posts, `empty` when there are none, and
    /// how to get the next page (`more` is the command that printed this
    /// one).
    pub(crate) fn page(&self, page: &Page, empty: &str, more: &str) {
        self.show(page, || {
            if page.posts.is_empty() {
                println!("{empty}");
            }
            for p in &page.posts {
                print_post(p);
            }
            if let Some(n) = &page.next {
                println!("more: {more} --before {n}");
            }
        });
    }

    /// Prints a list of posts (`empty`, if any, when there are none).
    pub(crate) fn posts(&self, posts: &[PostView], empty: &str) {
        self.show(posts, || {
            if posts.is_empty() && !empty.is_empty() {
                println!("{empty}");
            }
            for p in posts {
                print_post(p);
            }
        });
    }
}

/// A profile, for people.
pub(crate) fn print_profile(p: &ProfileView) {
    println!("{}", p.name.as_deref().unwrap_or("(no name)"));
    println!("  identity: {}", p.identity);
    if let Some(b) = &p.bio {
        println!("  bio:      {b}");
    }
    if let Some(a) = &p.avatar {
        println!("  avatar:   {}", a.fmt_short());
    }
    println!(
        "  {} posts here{}{}",
        p.posts,
        if p.followed { " · followed" } else { "" },
        if p.muted { " · muted" } else { "" }
    );
}

/// A post, for people.
pub(crate) fn print_post(p: &PostView) {
    let name = p.author_name.as_deref().unwrap_or("?");
    println!("{name} ({}) · {}", p.author.fmt_short(), utc(p.timestamp));
    if let Some(r) = p.reply_to {
        println!("  ↳ reply to {}", r.fmt_short());
    }
    for line in p.text.lines() {
        println!("  {line}");
    }
    if let Some(q) = p.quote_of {
        println!("  ❝ quoting {}", q.fmt_short());
    }
    let mut meta = vec![format!("id {}", p.id)];
    let count = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    if p.likes > 0 {
        meta.push(count(p.likes, "like"));
    }
    if p.reposts > 0 {
        meta.push(count(p.reposts, "repost"));
    }
    if !p.images.is_empty() {
        meta.push(count(p.images.len() as u64, "image"));
    }
    if p.edited {
        meta.push("edited".into());
    }
    println!("  {}", meta.join(" · "));
    println!();
}

/// `YYYY-MM-DD HH:MM` in UTC from milliseconds since the epoch.
pub(crate) fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(1_795_000_000_000), "2026-11-18 11:06 UTC");
    }
}
