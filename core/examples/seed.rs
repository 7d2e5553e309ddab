//! Makes a profile holding many posts, for the app's benchmarks:
//! `cargo run --release -p starling-core --features test-utils --example seed -- HOME POSTS`
//! (100 followed synthetic authors, posts up to a minute ago; the
//! profile's own name is "Bench").

use starling_core::Node;
use starling_core::synth::seed_home_from;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(home), Some(posts)) = (args.next(), args.next()) else {
        return Err("usage: seed HOME POSTS".into());
    };
    let posts: u64 = posts.parse()?;
    let home = std::path::PathBuf::from(home);
    if Node::exists(&home) {
        return Err(format!("{} already holds a profile", home.display()).into());
    }
    let authors = 100;
    let node = Node::init(&home, "Bench")?;
    // Posts a minute apart per author, the newest a minute ago: the app
    // keeps others' posts older than a year as headers only, so posts
    // from long ago would leave the timeline while it is measured.
    let per_author = posts / authors + 1;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let first = now.saturating_sub((per_author + 1) * 60_000);
    let (n, secs) = seed_home_from(node, authors, per_author, first)?;
    println!("{n} entries from {authors} authors imported in {secs:.1} s");
    Ok(())
}
