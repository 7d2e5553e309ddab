//! Deletes that erase: after a post, an edit, a message or a group's
//! content is deleted and the node is closed, none of its text, sealed
//! payload or image bytes is left in any file of the home (the database,
//! its WAL, free pages, the search index).

use starling_core::bundle::{Item, parse};
use starling_core::{Audience, EntryId, NewPost, Node, SpaceId};

use crate::support::{TestNode, contains, files_under, png};

/// Asserts that none of `needles` (named) is in any file under `home`.
fn nowhere(home: &std::path::Path, needles: &[(&str, &[u8])]) {
    for (path, bytes) in files_under(home) {
        for (what, needle) in needles {
            assert!(
                !contains(&bytes, needle),
                "{what} is still in {}",
                path.display()
            );
        }
    }
}

/// Asserts that each of `needles` is somewhere under `home` (so the
/// search above can find what it looks for).
fn somewhere(home: &std::path::Path, needles: &[(&str, &[u8])]) {
    let files = files_under(home);
    for (what, needle) in needles {
        assert!(
            files.iter().any(|(_, b)| contains(b, needle)),
            "{what} is not in the home before the delete"
        );
    }
}

/// The sealed payload of entry `id` as the store holds it, from an export.
fn sealed_payload(node: &mut Node, id: &EntryId) -> Vec<u8> {
    let bundle = node.export(Audience::Identity(node.identity())).unwrap();
    for r in parse(&bundle).unwrap() {
        if let Item::Entry(bytes) = r {
            let e = starling_core::Entry::decode(bytes).unwrap();
            if e.id() == *id {
                return e.payload().expect("a payload").to_vec();
            }
        }
    }
    panic!("entry {id} not exported")
}

/// A slice from the middle of `bytes`, long enough to be unique.
fn middle(bytes: &[u8]) -> &[u8] {
    let n = bytes.len().min(48);
    let start = (bytes.len() - n) / 2;
    &bytes[start..start + n]
}

/// Writes a few hundred unrelated posts, so that the deleted ones share
/// pages with live rows (what SQLite keeps after a delete if nothing
/// scrubs it).
fn filler(node: &mut Node, group: Option<SpaceId>) {
    for i in 0..200 {
        node.post(NewPost {
            text: format!("filler post number {i} about nothing in particular"),
            group,
            ..Default::default()
        })
        .unwrap();
    }
}

#[test]
fn a_deleted_post_its_edit_and_its_image_leave_no_trace_in_the_home() {
    let mut t = TestNode::new("ann");
    let home = t.home.clone();
    filler(&mut t.node, None);
    let canary = "canary-a1b2c3 the secret that must go";
    let edit = "canary-d4e5f6 the edited secret";
    let image = png(77, 96);
    let id = t
        .node
        .post(NewPost {
            text: canary.into(),
            images: vec![image.clone()],
            ..Default::default()
        })
        .unwrap();
    let edit_id = t.node.edit(&id, edit).unwrap();
    filler(&mut t.node, None);
    let view = t.node.thread(&id).unwrap().remove(0);
    assert_eq!(view.text, edit);
    let blob = t
        .node
        .store()
        .blob(&view.images[0])
        .unwrap()
        .expect("sealed image");
    let payload = sealed_payload(&mut t.node, &id);
    let edit_payload = sealed_payload(&mut t.node, &edit_id);
    let needles: Vec<(&str, &[u8])> = vec![
        ("the sealed post", middle(&payload)),
        ("the sealed edit", middle(&edit_payload)),
        ("the sealed image", middle(&blob)),
    ];
    somewhere(&home, &needles);
    t.node.delete(&id).unwrap();
    assert!(t.node.search("canary", 10).unwrap().is_empty());
    let (home, _dir) = t.close();
    let mut all = needles.clone();
    all.push(("the post's text", canary.as_bytes()));
    all.push(("the post's first word", b"a1b2c3"));
    all.push(("the edit's text", edit.as_bytes()));
    all.push(("the edit's first word", b"d4e5f6"));
    all.push(("the image", middle(&image)));
    nowhere(&home, &all);
    // The store is still whole, and the rest is still there.
    let mut node = Node::open(&home).unwrap();
    let check = node.store().check().unwrap();
    assert!(check.problems.is_empty(), "{check:?}");
    assert_eq!(node.timeline(500, None).unwrap().posts.len(), 400);
    assert_eq!(
        node.search("filler", 10).unwrap().len(),
        10,
        "search still works"
    );
}

#[test]
fn a_deleted_message_and_a_left_group_leave_no_trace_in_the_home() {
    let mut ann = TestNode::new("ann");
    let mut bob = TestNode::new("bob");
    let bob_id = bob.node.identity();
    // A message from ann to bob, and a group ann owns that bob joins.
    let group = ann.node.group_create("roost", None).unwrap();
    let ticket = ann.node.group_invite(&group, 3_600_000).unwrap();
    bob.node.group_join(&ticket).unwrap();
    let from_bob = bob
        .node
        .export(Audience::Identity(ann.node.identity()))
        .unwrap();
    ann.node.import(&from_bob).unwrap();
    let bob_ticket = bob.node.ticket().unwrap();
    ann.node.follow(&bob_ticket).unwrap();
    let ann_ticket = ann.node.ticket().unwrap();
    bob.node.follow(&ann_ticket).unwrap();
    filler(&mut ann.node, Some(group));
    let group_canary = "groupcanary-778899 plans for the roost";
    let group_image = png(91, 80);
    let in_group = ann
        .node
        .post(NewPost {
            text: group_canary.into(),
            images: vec![group_image.clone()],
            group: Some(group),
            ..Default::default()
        })
        .unwrap();
    let message_canary = "dmcanary-445566 meet me at noon";
    let message = ann.node.dm(&bob_id, message_canary).unwrap();
    let to_bob = ann.node.export(Audience::Identity(bob_id)).unwrap();
    let report = bob.node.import(&to_bob).unwrap();
    assert!(report.rejected.is_empty(), "{report:?}");
    // Bob holds the image too (as a fetch would have brought it).
    let blob_hash = bob.node.thread(&in_group).unwrap().remove(0).images[0];
    let blob = ann.node.store().blob(&blob_hash).unwrap().unwrap();
    let blob_space = ann.node.store().blob_space(&blob_hash).unwrap().unwrap();
    bob.node
        .store()
        .put_blob(&blob_space, &blob_hash, &blob)
        .unwrap();
    let group_payload = sealed_payload(&mut ann.node, &in_group);
    let message_payload = sealed_payload(&mut ann.node, &message);
    let needles: Vec<(&str, &[u8])> = vec![
        ("the sealed group post", middle(&group_payload)),
        ("the sealed message", middle(&message_payload)),
        ("the sealed image", middle(&blob)),
    ];
    somewhere(&bob.home, &needles);

    // Ann deletes her message; bob receives the delete; bob leaves the group.
    ann.node.delete(&message).unwrap();
    let delete = ann.node.export(Audience::Identity(bob_id)).unwrap();
    bob.node.import(&delete).unwrap();
    assert!(
        bob.node
            .dm_show(&ann.node.identity(), 10, None)
            .unwrap()
            .posts
            .is_empty()
    );
    bob.node.group_leave(&group).unwrap();
    assert!(
        !bob.node.store().has_blob(&blob_hash).unwrap(),
        "blob row kept"
    );
    assert!(bob.node.groups().unwrap().is_empty());
    // What the group sends later is not kept readable either.
    let later = ann
        .node
        .post(NewPost {
            text: "latercanary-112233 after bob left".into(),
            group: Some(group),
            ..Default::default()
        })
        .unwrap();
    let later_payload = sealed_payload(&mut ann.node, &later);
    let again = ann.node.export(Audience::Identity(bob_id)).unwrap();
    bob.node.import(&again).unwrap();
    let (home, _dir) = bob.close();
    let mut all = needles.clone();
    all.push(("the group post's text", group_canary.as_bytes()));
    all.push(("the group post's word", b"778899"));
    all.push(("the message's text", message_canary.as_bytes()));
    all.push(("the message's word", b"445566"));
    all.push(("the image", middle(&group_image)));
    all.push(("a group post after leaving", middle(&later_payload)));
    all.push(("its word", b"112233"));
    nowhere(&home, &all);
    let mut node = Node::open(&home).unwrap();
    let check = node.store().check().unwrap();
    assert!(check.problems.is_empty(), "{check:?}");
}
