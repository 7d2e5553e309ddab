//! Makes a profile holding many posts, for the app's benchmarks:
//! `cargo run --release -p starling-core --features test-utils --example seed -- HOME POSTS`
//! (100 followed synthetic authors; the profile's own name is "Bench").

use starling_core::Node;
use starling_core::synth::seed_home;

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
    let (n, secs) = seed_home(node, authors, posts / authors + 1)?;
    println!("{n} entries from {authors} authors imported in {secs:.1} s");
    Ok(())
}
