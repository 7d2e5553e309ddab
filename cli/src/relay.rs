//! `starling relay`: a relay anyone can run, iroh's own relay server (the
//! `iroh-relay` crate). Devices that cannot reach each other directly (two
//! home routers, a phone on a mobile network) exchange their encrypted QUIC
//! packets through it until hole punching finds a direct path. It sees
//! which device ids talk and how much, never what they say; it keeps
//! nothing. Point devices at it with `--relay URL` (the CLI) or Settings →
//! Relay (the app).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use iroh_relay::server::{CertConfig, RelayConfig, Server, ServerConfig, TlsConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use starling_core::view::Event;

use crate::network::{emit, runtime, stop_signal};
use crate::out::Out;

/// What `starling relay` takes.
#[derive(Debug, clap::Args)]
pub(crate) struct RelayArgs {
    /// Address for plain HTTP: the relay itself when no certificate is
    /// given (fine on a LAN or in tests), else only the captive-portal
    /// probe.
    #[arg(long, default_value = "0.0.0.0:3340")]
    bind: SocketAddr,
    /// PEM certificate chain for HTTPS (with `--tls-key`).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS (with `--tls-cert`).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Address for HTTPS, when a certificate is given.
    #[arg(long, default_value = "0.0.0.0:443")]
    https_bind: SocketAddr,
}

/// A rustls server configuration from PEM files.
fn tls_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not a PEM certificate chain", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("{} is not a PEM private key", key.display()))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the certificate and key do not fit together")
}

/// `starling relay`: serves until SIGTERM or Ctrl-C.
pub(crate) fn run(out: Out, args: RelayArgs) -> Result<()> {
    let mut relay = RelayConfig::new(args.bind);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        relay.tls = Some(TlsConfig::new(
            args.https_bind,
            CertConfig::Manual {
                server_config: tls_config(cert, key)?,
            },
        ));
    }
    let mut config = ServerConfig::default();
    config.relay = Some(relay);
    runtime()?.block_on(async {
        let server = Server::spawn(config)
            .await
            .context("cannot start the relay")?;
        let url = match (server.https_addr(), server.http_addr()) {
            (Some(a), _) => format!("https://{a}"),
            (None, Some(a)) => format!("http://{a}"),
            (None, None) => anyhow::bail!("the relay listens nowhere"),
        };
        emit(out, &Event::RelayListening { url });
        stop_signal().await?;
        server
            .shutdown()
            .await
            .context("the relay did not stop cleanly")?;
        emit(out, &Event::Stopped);
        Ok(())
    })
}
