//! Records across software versions: a peer keeps, passes on and hides
//! what newer software writes, and still reads what older software wrote.

use starling_core::entry::ENTRY_VERSION;
use starling_core::record::{Envelope, Post, Record};
use starling_core::synth::SynthAuthor;
use starling_core::{Entry, EntryId};

use crate::net::{Running, bounded, until};
use crate::support::{bundle_of, texts};

const T: u64 = 1_700_000_000_000;

/// A record envelope written by hand: `kind ‖ version ‖ body`, the
/// numbers as LEB128 varints.
fn envelope(kind: u32, version: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for mut v in [kind, version] {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out.extend_from_slice(body);
    out
}

/// The entries of `space` that `node` holds, as it would pass them on.
fn held(node: &mut starling_core::Node, space: starling_core::SpaceId) -> Vec<Entry> {
    let bundle = node.store().export(&[space]).unwrap();
    starling_core::bundle::parse(&bundle)
        .unwrap()
        .into_iter()
        .filter_map(|i| match i {
            starling_core::bundle::Item::Entry(b) => Entry::decode(b).ok(),
            _ => None,
        })
        .collect()
}

/// The record envelope inside `entry`, opened with its author's key.
fn opened(author: &SynthAuthor, entry: &Entry) -> Envelope {
    let plain = entry.open(author.space_key()).unwrap();
    Envelope::decode(entry.header().version, &plain).unwrap()
}

/// A poll (a record kind this code does not know), a post with alt text
/// (a field this code does not know) and a post in a layout only newer
/// readers can read: a peer verifies and keeps all three, shows the first
/// post and nothing for the others, passes every byte on to a peer that
/// learns of the author only from it, and the author's later entries are
/// not held up by them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_newer_software_are_kept_passed_on_and_not_shown() {
    let mut author = SynthAuthor::new(61);
    let cert = author.cert(T);
    let poll = author.write_plain(
        ENTRY_VERSION,
        &envelope(200, 1, b"which bird sings first?"),
        T + 1,
    );
    let with_alt = Envelope {
        record: Record::Post(Post {
            text: "dawn".into(),
            reply_to: None,
            quote_of: None,
            images: vec![],
        }),
        extensions: vec![(7, b"a starling on a wire".to_vec())],
    };
    let alt = author.write_plain(ENTRY_VERSION, &with_alt.encode(), T + 2);
    let post_v2 = author.write_plain(ENTRY_VERSION, &envelope(1, 2, &[0xde, 0xad]), T + 3);
    let later = author.post("after", None, T + 4);
    let written = [cert, poll, alt, post_v2, later];

    let old = Running::new("old");
    old.with(|n| n.follow(&author.ticket())).unwrap();
    let r = old.with(|n| n.import(&bundle_of(&written))).unwrap();
    assert_eq!((r.accepted, r.refused), (5, 0), "{r:?}");
    assert_eq!(old.with(texts), ["after", "dawn"]);
    assert_eq!(old.with(|n| n.store().waiting().unwrap()), 0);
    assert!(old.with(|n| n.store().check()).unwrap().problems.is_empty());

    // Passed on over a catch-up, byte for byte.
    let next = Running::new("next");
    next.with(|n| n.follow(&author.ticket())).unwrap();
    let po = old.start_catch_up_only().await;
    let pn = next.start_catch_up_only().await;
    bounded(pn.sync_with(&po.addr())).await.unwrap();
    until(|| next.with(texts) == ["after", "dawn"]).await;
    let mut relayed = next.with(|n| held(n, written[0].header().space));
    relayed.sort_by_key(|e| e.header().seq);
    let ids = |es: &[Entry]| es.iter().map(Entry::id).collect::<Vec<EntryId>>();
    assert_eq!(ids(&relayed), ids(&written));
    for (got, sent) in relayed.iter().zip(&written) {
        assert_eq!(got.encode(), sent.encode());
    }
    // The alt text reaches a newer reader through this one.
    assert_eq!(opened(&author, &relayed[2]), with_alt);
    assert_eq!(
        opened(&author, &relayed[1]).record,
        Record::Unknown {
            kind: 200,
            version: 1
        }
    );
    for p in [po, pn] {
        p.shutdown().await;
    }
}

/// Entries of the first format (header version 1, records without an
/// envelope) are still read: a store keeps old histories, and a peer may
/// pass on entries written before the envelope.
#[test]
fn entries_of_the_first_format_are_still_read() {
    let mut author = SynthAuthor::new(62);
    let first_format = |r: &Record| {
        // The first format: the kind and the fields, no version.
        let mut bytes = r.encode();
        bytes.remove(1);
        bytes
    };
    let cert = author.cert(T);
    let cert_bytes = opened(&author, &cert).record;
    let mut old = SynthAuthor::new(62);
    let written = vec![
        old.write_plain(1, &first_format(&cert_bytes), T),
        old.write_plain(
            1,
            &first_format(&Record::Post(Post {
                text: "written long ago".into(),
                reply_to: None,
                quote_of: None,
                images: vec![],
            })),
            T + 1,
        ),
        old.post("written today", None, T + 2),
    ];
    assert_eq!(written[0].header().version, 1);
    assert_eq!(written[2].header().version, ENTRY_VERSION);
    let reader = Running::new("reader");
    reader.with(|n| n.follow(&old.ticket())).unwrap();
    let r = reader.with(|n| n.import(&bundle_of(&written))).unwrap();
    assert_eq!((r.accepted, r.refused), (3, 0), "{r:?}");
    assert_eq!(reader.with(texts), ["written today", "written long ago"]);
    assert!(
        reader
            .with(|n| n.store().check())
            .unwrap()
            .problems
            .is_empty()
    );
}
