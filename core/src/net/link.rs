//! The device-link driver: serves one [`Offer`](crate::protocol::link) at a
//! time on the linker's endpoint, and joins from a new device's own
//! endpoint. Messages are `u32 LE length ‖ postcard(LinkMessage)` on one
//! bi-stream; every wait is bounded by the offer's expiry.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler};
use iroh::{Endpoint, SecretKey};
use tokio::sync::{mpsc, oneshot};

use super::{NetConfig, NetError, SharedNode, guard, lock};
use crate::id::DeviceId;
use crate::identity::DeviceKey;
use crate::node::now_ms;
use crate::protocol::link::{Ephemeral, LINK_ALPN, LinkMessage, MAX_LINK_MESSAGE, code_proof};
use crate::ticket::DeviceTicket;

/// Someone connected with this node's link code: the code to compare with
/// what the new device shows, and the answer to give.
#[derive(Debug)]
pub struct LinkRequest {
    /// The device that asks to join.
    pub device: DeviceId,
    /// The confirmation code this device shows.
    pub code: String,
    decide: oneshot::Sender<Option<bool>>,
    outcome: oneshot::Receiver<Result<(), String>>,
}

impl LinkRequest {
    /// Answers: `yes` when the new device shows the same code; `trusted`
    /// also hands it the identity key (it may then link and revoke
    /// devices and show the phrase). Returns once the grant was sent (or
    /// why not).
    pub async fn answer(self, yes: bool, trusted: bool) -> Result<(), String> {
        let _ = self.decide.send(yes.then_some(trusted));
        self.outcome
            .await
            .unwrap_or_else(|_| Err("the link session ended".into()))
    }
}

/// The offer this node serves, until one session uses it.
pub(super) struct Pending {
    ephemeral: Ephemeral,
    expires_at: u64,
    requests: mpsc::Sender<LinkRequest>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where a node keeps its link offer.
pub(super) type Offers = Arc<Mutex<Option<Pending>>>;

/// Makes an offer valid for `valid_ms`: the ticket to show, and the
/// requests that arrive with it.
pub(super) fn offer(
    offers: &Offers,
    me: crate::ticket::PeerAddr,
    random: [u8; 32],
    valid_ms: u64,
) -> (DeviceTicket, mpsc::Receiver<LinkRequest>) {
    let ephemeral = Ephemeral::new(random);
    let expires_at = now_ms().saturating_add(valid_ms);
    let ticket = DeviceTicket {
        peer: me,
        ephemeral: ephemeral.public,
        expires_at,
    };
    let (tx, rx) = mpsc::channel(1);
    *guard(offers) = Some(Pending {
        ephemeral,
        expires_at,
        requests: tx,
    });
    (ticket, rx)
}

/// How long a side that ends a link session waits for the other's last
/// message before closing.
const LAST_WORD: Duration = Duration::from_secs(10);

fn until(expires_at: u64) -> Duration {
    Duration::from_millis(expires_at.saturating_sub(now_ms()).max(1))
}

async fn write(send: &mut SendStream, m: &LinkMessage) -> Result<(), String> {
    let bytes = m.encode();
    send.write_all(&(bytes.len() as u32).to_le_bytes())
        .await
        .map_err(|e| e.to_string())?;
    send.write_all(&bytes).await.map_err(|e| e.to_string())
}

async fn read(recv: &mut RecvStream) -> Result<LinkMessage, String> {
    let mut len = [0u8; 4];
    recv.read_exact(&mut len).await.map_err(|e| e.to_string())?;
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_LINK_MESSAGE {
        return Err(format!("a {len}-byte link message"));
    }
    let mut buf = vec![0u8; len];
    recv.read_exact(&mut buf).await.map_err(|e| e.to_string())?;
    LinkMessage::decode(&buf).map_err(|e| e.to_string())
}

/// The link protocol on the linker's router.
#[derive(Debug, Clone)]
pub(super) struct LinkHandler {
    pub(super) offers: Offers,
    pub(super) node: SharedNode,
    pub(super) me: DeviceId,
}

impl ProtocolHandler for LinkHandler {
    async fn accept(&self, connection: Connection) -> Result<(), AcceptError> {
        let joiner = DeviceId(*connection.remote_id().as_bytes());
        let Ok((mut send, mut recv)) = connection.accept_bi().await else {
            return Ok(());
        };
        let hello = tokio::time::timeout(LAST_WORD, read(&mut recv)).await;
        let Ok(Ok(LinkMessage::Hello { ephemeral, proof })) = hello else {
            return Ok(());
        };
        // One session per offer, and only for whoever read the code: a
        // peer without it neither shows a request nor uses the code up.
        let pending = {
            let mut slot = guard(&self.offers);
            let good = slot.as_ref().is_some_and(|p| {
                now_ms() < p.expires_at
                    && code_proof(&p.ephemeral.public, &ephemeral, &joiner) == proof
            });
            if good { slot.take() } else { None }
        };
        let Some(p) = pending else {
            let _ = write(
                &mut send,
                &LinkMessage::Refused("no link code is open on this device for you".into()),
            )
            .await;
            let _ = send.finish();
            let _ = tokio::time::timeout(LAST_WORD, connection.closed()).await;
            return Ok(());
        };
        let outcome = self
            .serve(&p, joiner, ephemeral, &mut send, &mut recv)
            .await;
        if let Err(reason) = &outcome {
            let _ = write(&mut send, &LinkMessage::Refused(reason.clone())).await;
        }
        let _ = send.finish();
        // Let the last message reach the joiner before the connection goes.
        let _ = tokio::time::timeout(LAST_WORD, connection.closed()).await;
        Ok(())
    }
}

impl LinkHandler {
    async fn serve(
        &self,
        p: &Pending,
        joiner: DeviceId,
        ephemeral: [u8; 32],
        send: &mut SendStream,
        recv: &mut RecvStream,
    ) -> Result<(), String> {
        let wait = until(p.expires_at);
        let agreement = p
            .ephemeral
            .agree(
                &ephemeral,
                (&self.me, &p.ephemeral.public),
                (&joiner, &ephemeral),
            )
            .ok_or("the new device's key is not usable")?;
        let (decide, decision) = oneshot::channel();
        let (report, outcome) = oneshot::channel();
        p.requests
            .send(LinkRequest {
                device: joiner,
                code: agreement.code(),
                decide,
                outcome,
            })
            .await
            .map_err(|_| "nobody is here to confirm".to_string())?;
        let (mine, theirs) = tokio::join!(
            tokio::time::timeout(wait, decision),
            tokio::time::timeout(wait, read(recv))
        );
        let result = match (mine, theirs) {
            (Ok(Ok(Some(trusted))), Ok(Ok(LinkMessage::Confirmed))) => {
                let grant = lock(&self.node)
                    .link_grant(&joiner, trusted)
                    .map_err(|e| e.to_string())?;
                let nonce: [u8; 24] = crate::node::random().map_err(|e| e.to_string())?;
                write(send, &LinkMessage::Grant(agreement.seal(&grant, nonce))).await
            }
            (Ok(Ok(Some(_))), Ok(Ok(LinkMessage::Refused(r)))) => {
                Err(format!("the new device said no: {r}"))
            }
            (Ok(Ok(None)), _) => Err("not confirmed on this device".into()),
            (Err(_), _) | (Ok(Err(_)), _) => Err("not confirmed in time".into()),
            (_, Err(_)) => Err("the new device did not confirm in time".into()),
            (_, Ok(Err(e))) => Err(e),
            (_, Ok(Ok(_))) => Err("the new device broke the link protocol".into()),
        };
        let _ = report.send(result.clone());
        result
    }
}

/// Joins the identity a link ticket names from the new device `device`:
/// connects to the linker, shows `confirm` the code, and returns the
/// grant's bytes once both sides confirmed.
pub async fn join<F, Fut>(
    ticket: &DeviceTicket,
    device: &DeviceKey,
    config: &NetConfig,
    confirm: F,
) -> Result<Vec<u8>, NetError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let fail = |reason: String| NetError::Link(reason);
    if now_ms() > ticket.expires_at {
        return Err(fail(
            "this link code has expired; make a new one on your other device".into(),
        ));
    }
    let endpoint = super::bind(
        SecretKey::from_bytes(&device.secret_bytes()),
        config,
        iroh::address_lookup::memory::MemoryLookup::new(),
    )
    .await?;
    let result = join_on(&endpoint, ticket, device, config, confirm).await;
    endpoint.close().await;
    result
}

async fn join_on<F, Fut>(
    endpoint: &Endpoint,
    ticket: &DeviceTicket,
    device: &DeviceKey,
    config: &NetConfig,
    confirm: F,
) -> Result<Vec<u8>, NetError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let peer = ticket.peer.device.fmt_short();
    let stream = |reason: String| NetError::Stream {
        peer: peer.clone(),
        reason,
    };
    let conn = super::connect(endpoint, config, &ticket.peer, LINK_ALPN).await?;
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| stream(e.to_string()))?;
    let ephemeral = Ephemeral::new(crate::node::random()?);
    write(
        &mut send,
        &LinkMessage::Hello {
            ephemeral: ephemeral.public,
            proof: code_proof(&ticket.ephemeral, &ephemeral.public, &device.id()),
        },
    )
    .await
    .map_err(stream)?;
    let agreement = ephemeral
        .agree(
            &ticket.ephemeral,
            (&ticket.peer.device, &ticket.ephemeral),
            (&device.id(), &ephemeral.public),
        )
        .ok_or_else(|| NetError::Link("the link code's key is not usable".into()))?;
    let wait = until(ticket.expires_at);
    // The linker may refuse at once (a used or expired code) while the
    // user here is still looking at the code.
    let yes = confirm(agreement.code()).await;
    if !yes {
        let _ = write(
            &mut send,
            &LinkMessage::Refused("the codes did not match".into()),
        )
        .await;
        let _ = send.finish();
        // Let the refusal arrive before the connection goes (the linker
        // answers once its user has too; not longer than a few seconds).
        let _ = tokio::time::timeout(LAST_WORD, read(&mut recv)).await;
        return Err(NetError::Link("not confirmed on this device".into()));
    }
    // The linker may already have refused (a used or expired code): its
    // refusal is read below even if this write fails.
    let _ = write(&mut send, &LinkMessage::Confirmed).await;
    let reply = tokio::time::timeout(wait, read(&mut recv))
        .await
        .map_err(|_| NetError::Link("the other device did not confirm in time".into()))
        .and_then(|r| r.map_err(stream));
    let _ = send.finish();
    conn.close(0u32.into(), b"done");
    let reply = reply?;
    match reply {
        LinkMessage::Grant(sealed) => agreement
            .open(&sealed)
            .ok_or_else(|| NetError::Link("the grant does not open".into())),
        LinkMessage::Refused(r) => Err(NetError::Link(format!("the other device said no: {r}"))),
        _ => Err(NetError::Link(
            "the other device broke the link protocol".into(),
        )),
    }
}
