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
    if p.follows_you {
        println!("  follows you");
    }
}

/// A post, for people.
pub(crate) fn print_post(p: &PostView) {
    let name = p.author_name.as_deref().unwrap_or("?");
    println!("{name} ({}) · {}", p.author.fmt_short(), local(p.timestamp));
    if let Some(r) = p.reply_to {
        match (&p.reply_to_author, &p.reply_to_name) {
            (_, Some(name)) => println!("  ↳ reply to @{name} ({})", r.fmt_short()),
            (Some(who), None) => println!("  ↳ reply to {} ({})", who.fmt_short(), r.fmt_short()),
            (None, None) => println!("  ↳ reply to {}", r.fmt_short()),
        }
    }
    for line in p.text.lines() {
        println!("  {line}");
    }
    if let Some(q) = p.quote_of {
        match &p.quoted {
            Some(card) => {
                let name = card.author_name.as_deref().unwrap_or("?");
                let first = card.text.lines().next().unwrap_or("");
                println!("  ❝ {name} ({}): {first}", q.fmt_short());
            }
            None => println!("  ❝ quoting {}", q.fmt_short()),
        }
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
    for alt in p.alts.iter().filter(|a| !a.is_empty()) {
        println!("  [image: {alt}]");
    }
    println!("  {}", meta.join(" · "));
    println!();
}

/// `YYYY-MM-DD HH:MM ZONE` in this system's time zone (`TZ`, else
/// `/etc/localtime`; UTC when neither names one) from milliseconds since
/// the epoch.
pub(crate) fn local(ms: u64) -> String {
    in_zone(ms, &jiff::tz::TimeZone::system())
}

fn in_zone(ms: u64, tz: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX)) {
        Ok(t) => t
            .to_zoned_datetime(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        // Past the year 9999: no honest clock says so.
        Err(_) => format!("{ms} ms after 1970"),
    }
}

#[cfg(test)]
mod tests {
    use jiff::tz::TimeZone;

    #[test]
    fn times_show_in_the_zone_given() {
        let t = 1_795_000_000_000;
        assert_eq!(super::in_zone(0, &TimeZone::UTC), "1970-01-01 00:00 UTC");
        assert_eq!(super::in_zone(t, &TimeZone::UTC), "2026-11-18 11:06 UTC");
        let east = TimeZone::posix("ABC-2").unwrap();
        assert_eq!(super::in_zone(t, &east), "2026-11-18 13:06 ABC");
        let west = TimeZone::posix("XYZ10").unwrap();
        assert_eq!(super::in_zone(t, &west), "2026-11-18 01:06 XYZ");
        assert_eq!(
            super::in_zone(u64::MAX, &east),
            format!("{} ms after 1970", u64::MAX)
        );
    }
}
