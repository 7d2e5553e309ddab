//! `starling dht-node`: BitTorrent Mainline DHT nodes (the `n0-mainline`
//! crate, which iroh's DHT address lookup uses) for a network with no way
//! to the public DHT — a LAN, a test network. Devices run with
//! `--dht-bootstrap HOST:PORT` then publish their signed addresses there
//! and find each other by key. A DHT keeps a record on the few nodes
//! closest to its key, so one process runs several, on ports from the
//! first up. It stores signed records it cannot forge; it keeps nothing
//! on disk.

use std::net::SocketAddrV4;
use std::time::Duration;

use anyhow::{Context, Result};
use starling_core::view::Event;

use crate::network::{emit, runtime, stop_signal};
use crate::out::Out;

/// What `starling dht-node` takes.
#[derive(Debug, clap::Args)]
pub(crate) struct DhtNodeArgs {
    /// Where devices reach the first node: this machine's address and the
    /// first port (the others follow it).
    #[arg(long, default_value = "127.0.0.1:6881")]
    announce: SocketAddrV4,
    /// How many nodes to run.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    nodes: u16,
}

/// `starling dht-node`: serves until SIGTERM or Ctrl-C.
pub(crate) fn run(out: Out, args: DhtNodeArgs) -> Result<()> {
    runtime()?.block_on(async {
        let first = args.announce.to_string();
        let mut nodes = Vec::new();
        for i in 0..args.nodes {
            let port = args
                .announce
                .port()
                .checked_add(i)
                .context("the ports run past 65535")?;
            let mut builder = n0_mainline::Dht::builder();
            builder.server_mode().port(port);
            if i == 0 {
                builder.no_bootstrap();
            } else {
                builder.bootstrap(std::slice::from_ref(&first));
            }
            let node = builder
                .build()
                .with_context(|| format!("cannot start a DHT node on port {port}"))?;
            nodes.push(node);
        }
        // The later nodes join through the first (bounded: a lone first
        // node has no one to bootstrap from).
        for node in &nodes[1..] {
            let _ = tokio::time::timeout(Duration::from_secs(10), node.bootstrapped()).await;
        }
        emit(
            out,
            &Event::DhtListening {
                bootstrap: first,
                nodes: args.nodes,
            },
        );
        stop_signal().await?;
        emit(out, &Event::Stopped);
        Ok(())
    })
}
