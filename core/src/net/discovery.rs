//! Local discovery: peers on the same network found by mDNS
//! (`iroh-mdns-address-lookup`). Only related peers are caught up with and
//! joined on the topics they write in; anyone else on the LAN is ignored.

use std::sync::Arc;

use iroh::Endpoint;
use n0_future::StreamExt;

use super::{Inner, device_of, guard};

pub(super) fn start_local_discovery(inner: &Arc<Inner>, endpoint: &Endpoint) -> Result<(), String> {
    let mdns = iroh_mdns_address_lookup::MdnsAddressLookup::builder()
        .build(endpoint.id())
        .map_err(|e| e.to_string())?;
    endpoint
        .address_lookup()
        .map_err(|e| e.to_string())?
        .add(mdns.clone());
    inner.spawn(watch_local_network(inner.clone(), mdns));
    Ok(())
}

/// Catches up with related peers that appear on the local network, and
/// joins them on the topics of the spaces they write in (a peer that merely
/// dialled this node once learns no topic).
async fn watch_local_network(inner: Arc<Inner>, mdns: iroh_mdns_address_lookup::MdnsAddressLookup) {
    let mut events = mdns.subscribe().await;
    while let Some(event) = events.next().await {
        if let iroh_mdns_address_lookup::DiscoveryEvent::Discovered { endpoint_info, .. } = event {
            let peer = device_of(&endpoint_info.endpoint_id);
            let related = inner.store.lock().is_related(&peer);
            if !matches!(related, Ok(true)) {
                continue;
            }
            inner.saw(peer);
            let _ = inner.catch_up.send(peer);
            for (space, sender) in inner.topic_senders() {
                let writes = inner
                    .store
                    .lock()
                    .log_devices(&space)
                    .is_ok_and(|ds| ds.contains(&peer));
                if writes || guard(&inner.met).of(&peer).contains(&space) {
                    let _ = sender.join_peers(vec![endpoint_info.endpoint_id]).await;
                }
            }
        }
    }
}
