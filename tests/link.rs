//! Linking a device without a secret in the link code: whoever holds only
//! the code gets nothing, and a wrong or unconfirmed code fails cleanly on
//! both sides.

use starling_core::net::{NetConfig, join_link};
use starling_core::{DeviceKey, Node, Ticket};

use crate::net::{Running, bounded};

fn new_device() -> DeviceKey {
    DeviceKey::from_secret_bytes(starling_core::node::fresh_secret().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_with_only_the_link_code_gets_nothing() {
    let ann = Running::new("ann");
    let pa = ann.start_catch_up_only().await;
    let (ticket, mut requests) = pa.link_offer(600_000).unwrap();
    // The code holds no key of the identity: not its secret, not the feed
    // or account key.
    let text = ticket.encode();
    let Ticket::Device(t) = Ticket::decode(&text).unwrap() else {
        panic!("a link code")
    };
    let phone = starling_core::DeviceId([7; 32]);
    let grant = ann.with(|n| n.link_grant(&phone, true)).unwrap();
    for secret in grant.chunks(32).filter(|c| c.len() == 32) {
        assert!(!text.as_bytes().windows(32).any(|w| w == secret));
    }
    // Mallory photographed the code and connects first. Ann's device shows
    // a code that Ann's own new device does not show, so Ann says no.
    let mallory = new_device();
    let (mallory_saw, mallory_code) = tokio::sync::oneshot::channel();
    let config = NetConfig::loopback();
    let attempt = join_link(&t, &mallory, &config, |code| async move {
        let _ = mallory_saw.send(code);
        true
    });
    let answer = async {
        let request = bounded(requests.recv()).await.unwrap();
        assert_eq!(request.device, mallory.id());
        request.answer(false, false).await
    };
    let (stolen, refused) = tokio::join!(bounded(attempt), answer);
    let err = stolen.unwrap_err().to_string();
    assert!(err.contains("said no"), "{err}");
    assert!(refused.is_err());
    assert_eq!(mallory_code.await.unwrap().len(), 7);
    // The code is used up: the next one to try it (Mallory again, or the
    // real phone) gets a clear refusal and nothing else.
    let again = bounded(join_link(
        &t,
        &new_device(),
        &NetConfig::loopback(),
        |_| async { true },
    ))
    .await
    .unwrap_err()
    .to_string();
    assert!(again.contains("no link code is open"), "{again}");
    // Nothing was made anywhere: Ann still has one device.
    assert_eq!(ann.with(|n| n.devices()).unwrap().len(), 1);
    pa.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_unconfirmed_code_fails_cleanly_on_both_sides() {
    let ann = Running::new("ann");
    let pa = ann.start_catch_up_only().await;
    // The new device's user sees a different code and says no.
    let config = NetConfig::loopback();
    let (one, two) = (new_device(), new_device());
    let (ticket, mut requests) = pa.link_offer(600_000).unwrap();
    let Ticket::Device(t) = ticket else { panic!() };
    let joiner = join_link(&t, &one, &config, |_| async { false });
    let linker = async {
        bounded(requests.recv())
            .await
            .unwrap()
            .answer(true, false)
            .await
    };
    let (joined, linked) = tokio::join!(bounded(joiner), linker);
    assert!(joined.unwrap_err().to_string().contains("not confirmed"));
    let why = linked.unwrap_err();
    assert!(why.contains("said no"), "{why}");
    // The linking device's user says no.
    let (ticket, mut requests) = pa.link_offer(600_000).unwrap();
    let Ticket::Device(t) = ticket else { panic!() };
    let joiner = join_link(&t, &two, &config, |_| async { true });
    let linker = async {
        bounded(requests.recv())
            .await
            .unwrap()
            .answer(false, false)
            .await
    };
    let (joined, linked) = tokio::join!(bounded(joiner), linker);
    assert!(joined.unwrap_err().to_string().contains("said no"));
    assert!(linked.is_err());
    // An expired code is refused before anything is sent.
    let (ticket, _requests) = pa.link_offer(600_000).unwrap();
    let Ticket::Device(mut t) = ticket else {
        panic!()
    };
    t.expires_at = 1;
    let err = join_link(&t, &new_device(), &NetConfig::loopback(), |_| async {
        true
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("expired"), "{err}");
    // Still one device, and a grant was never handed out.
    assert_eq!(ann.with(|n| n.devices()).unwrap().len(), 1);
    let dir = tempfile::tempdir().unwrap();
    assert!(!Node::exists(&dir.path().join("phone")));
    pa.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_without_the_code_cannot_use_it_up() {
    let ann = Running::new("ann");
    let pa = ann.start_catch_up_only().await;
    let (ticket, mut requests) = pa.link_offer(600_000).unwrap();
    let Ticket::Device(real) = ticket else {
        panic!()
    };
    // A stranger knows Ann's device and address (any peer does) but not
    // the code's key.
    let mut guessed = real.clone();
    guessed.ephemeral = [42; 32];
    let config = NetConfig::loopback();
    let stranger = new_device();
    let err = bounded(join_link(&guessed, &stranger, &config, |_| async { true }))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no link code is open"), "{err}");
    // Ann was not asked, and the code still works for her own device.
    assert!(requests.try_recv().is_err());
    let phone = new_device();
    let joining = join_link(&real, &phone, &config, |_| async { true });
    let linking = async {
        bounded(requests.recv())
            .await
            .unwrap()
            .answer(true, false)
            .await
    };
    let (grant, answered) = tokio::join!(bounded(joining), linking);
    answered.unwrap();
    assert!(!grant.unwrap().is_empty());
    pa.shutdown().await;
}
