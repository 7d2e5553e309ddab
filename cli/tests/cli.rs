//! The CLI contract, driven through the real binary, and crash safety.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use starling_core::bundle::BundleWriter;
use starling_core::synth::SynthAuthor;

/// The binary, with public relays off (tests run with no internet).
fn starling() -> Command {
    let mut c = Command::new(bin());
    c.env("STARLING_RELAY", "none");
    c
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_starling")
}

fn run(home: &Path, args: &[&str]) -> Output {
    starling()
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("STARLING_HOME")
        .output()
        .expect("run starling")
}

fn ok(home: &Path, args: &[&str]) -> String {
    let out = run(home, args);
    assert!(
        out.status.success(),
        "starling {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn json(home: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let text = ok(home, &a);
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{args:?} printed non-JSON {text:?}: {e}"))
}

/// The profile's feed ticket, as `starling ticket` prints it.
fn feed_ticket(home: &Path) -> String {
    json(home, &["ticket"])["text"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A group's timeline as `home` shows it, and its posts' texts.
fn group_timeline(home: &Path, group: &str) -> (Value, Vec<String>) {
    let tl = json(home, &["group", "timeline", group]);
    let texts = tl["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    (tl, texts)
}

/// One catch-up round with the profile's peers (`starling sync`).
fn sync_once(home: &Path) -> Value {
    json(home, &["sync", "--timeout", "20", "--bind", "127.0.0.1:0"])
}

fn fails(home: &Path, args: &[&str], needle: &str) {
    let out = run(home, args);
    assert!(!out.status.success(), "starling {args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(needle),
        "stderr of {args:?} lacks {needle:?}: {err}"
    );
}

fn homes() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("ann");
    let b = dir.path().join("bob");
    json(&a, &["init", "--name", "Ann"]);
    json(&b, &["init", "--name", "Bob"]);
    (dir, a, b)
}

fn png_file(dir: &Path) -> PathBuf {
    let p = dir.join("pic.png");
    let img = image::RgbImage::from_fn(8, 8, |x, y| image::Rgb([x as u8 * 30, y as u8 * 30, 128]));
    img.save(&p).unwrap();
    p
}

#[test]
fn whoami_and_init_twice() {
    let (_d, a, _b) = homes();
    let me = json(&a, &["whoami"]);
    assert_eq!(me["name"], "Ann");
    assert_eq!(me["identity"].as_str().unwrap().len(), 64);
    assert_eq!(me["device"].as_str().unwrap().len(), 64);
    fails(
        &a,
        &["init", "--name", "Again"],
        "already holds a Starling identity",
    );
    let empty = a.parent().unwrap().join("nobody");
    fails(&empty, &["whoami"], "no Starling identity");
}

#[test]
fn post_react_edit_delete_and_timeline() {
    let (d, a, _b) = homes();
    let p1 = json(&a, &["post", "hello flock"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let pic = png_file(d.path());
    let p2 = json(
        &a,
        &[
            "post",
            "with a picture",
            "--image",
            pic.to_str().unwrap(),
            "--alt",
            "A red square",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The description is in the post, and in its human output.
    let shown = json(&a, &["timeline", "--limit", "20"]);
    let pictured = shown["posts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["text"] == "with a picture")
        .unwrap()
        .clone();
    assert_eq!(pictured["alts"], serde_json::json!(["A red square"]));
    assert!(ok(&a, &["timeline"]).contains("[image: A red square]"));
    // Bookmarks: private, newest first, taken back by id.
    assert_eq!(json(&a, &["bookmark", &p1]), serde_json::json!([p1]));
    assert_eq!(json(&a, &["bookmark", &p2]), serde_json::json!([p2, p1]));
    let marked: Vec<String> = json(&a, &["bookmarks"])
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(marked, ["with a picture", "hello flock"]);
    assert_eq!(json(&a, &["unbookmark", &p2]), serde_json::json!([p1]));
    assert!(ok(&a, &["unbookmark", &p2]).contains("was not bookmarked"));
    fails(&a, &["bookmark", &"0".repeat(64)], "not found");
    let r = json(&a, &["post", "replying", "--reply-to", &p1])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let q = json(&a, &["post", "quoting", "--quote", &p2])["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&a, &["like", &p1]);
    ok(&a, &["repost", &p1]);
    ok(&a, &["edit", &p1, "hello, flock"]);
    let tl = json(&a, &["timeline", "--limit", "10"]);
    let posts = tl["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 4);
    assert_eq!(posts[0]["id"], q.as_str(), "newest first");
    let keys = [
        "id",
        "author",
        "author_name",
        "text",
        "timestamp",
        "reply_to",
        "quote_of",
        "likes",
        "reposts",
        "edited",
        "images",
    ];
    for k in keys {
        assert!(posts[0].get(k).is_some(), "post object lacks {k}");
    }
    let first = posts.iter().find(|p| p["id"] == p1.as_str()).unwrap();
    assert_eq!(first["text"], "hello, flock");
    assert_eq!(first["edited"], true);
    assert_eq!(first["likes"], 1);
    assert_eq!(first["reposts"], 1);
    assert_eq!(first["liked_by_me"], true);
    assert_eq!(first["reposted_by_me"], true);
    assert_eq!(first["author_name"], "Ann");
    // Taken back, and again: the post as it now stands, or nothing to do.
    let unliked = json(&a, &["unlike", &p1]);
    assert_eq!(
        (unliked["likes"].clone(), unliked["liked_by_me"].clone()),
        (0.into(), false.into())
    );
    assert!(ok(&a, &["unlike", &p1]).contains("no like"));
    let unreposted = json(&a, &["unrepost", &p1]);
    assert_eq!(unreposted["reposts"], 0);
    assert_eq!(unreposted["reposted_by_me"], false);
    ok(&a, &["like", &p1]);
    ok(&a, &["repost", &p1]);
    let pic_post = posts.iter().find(|p| p["id"] == p2.as_str()).unwrap();
    assert_eq!(pic_post["images"].as_array().unwrap().len(), 1);
    let quote = posts.iter().find(|p| p["id"] == q.as_str()).unwrap();
    assert_eq!(quote["quote_of"], p2.as_str());
    let thread = json(&a, &["thread", &p1]);
    let ids: Vec<&str> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![p1.as_str(), r.as_str()]);
    let found = json(&a, &["search", "flock"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    ok(&a, &["delete", &p2]);
    let tl = json(&a, &["timeline"]);
    assert_eq!(tl["posts"].as_array().unwrap().len(), 3);
    // Paging.
    let page = json(&a, &["timeline", "--limit", "2"]);
    assert_eq!(page["posts"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap().to_string();
    let rest = json(&a, &["timeline", "--limit", "2", "--before", &next]);
    assert_eq!(rest["posts"].as_array().unwrap().len(), 1);
    assert!(rest["next"].is_null());
    // Errors name the problem.
    fails(&a, &["like", &"0".repeat(64)], "not found");
    fails(&a, &["like", "xyz"], "64 hex characters");
    fails(
        &a,
        &["post", "x", "--image", "/nonexistent.png"],
        "cannot read",
    );
    let not_image = d.path().join("notes.txt");
    std::fs::write(&not_image, "just text").unwrap();
    fails(
        &a,
        &["post", "x", "--image", not_image.to_str().unwrap()],
        "not a supported image",
    );
    fails(&a, &["post", &"y".repeat(5000)], "at most");
    fails(
        &a,
        &["post", "x", "--alt", "nothing to describe"],
        "more image descriptions",
    );
}

#[test]
fn profiles_tickets_follow_export_import() {
    let (d, a, b) = homes();
    let pic = png_file(d.path());
    let p = json(
        &a,
        &[
            "profile",
            "set",
            "--name",
            "Ann Lark",
            "--bio",
            "birds",
            "--avatar",
            pic.to_str().unwrap(),
        ],
    );
    assert_eq!(p["name"], "Ann Lark");
    let shown = json(&a, &["profile", "show"]);
    assert_eq!(shown["bio"], "birds");
    assert!(shown["avatar"].is_string());
    let ticket = feed_ticket(&a);
    assert!(ticket.starts_with("starling1"));
    let qr = ok(&a, &["ticket", "--qr"]);
    assert!(qr.lines().count() > 10 && qr.contains(&ticket));
    let png = d.path().join("t.png");
    ok(&a, &["ticket", "--png", png.to_str().unwrap()]);
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let svg = d.path().join("t.svg");
    ok(&a, &["ticket", "--svg", svg.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    // The picture reads back to the same ticket.
    let scanned = json(&b, &["scan", png.to_str().unwrap()]);
    assert_eq!(scanned["ticket"], ticket.as_str());
    assert_eq!(scanned["kind"], "feed");
    assert_eq!(ok(&b, &["scan", png.to_str().unwrap()]).trim(), ticket);
    json(&a, &["post", "ann was here"]);
    // Bob follows Ann by the picture of her QR code, and receives her bundle.
    let who = json(&b, &["follow", png.to_str().unwrap()]);
    let ann_id = json(&a, &["whoami"])["identity"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(who["identity"], ann_id.as_str());
    // Ann exports what she may share with Bob (her feed: not her private
    // account space, which Bob would not keep).
    let bundle = d.path().join("ann.bundle");
    let bob_id = json(&b, &["whoami"])["identity"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &a,
        &[
            "export",
            "--out",
            bundle.to_str().unwrap(),
            "--for",
            &bob_id,
        ],
    );
    let r = json(&b, &["import", bundle.to_str().unwrap()]);
    assert_eq!(r["refused"], 0);
    assert!(r["accepted"].as_u64().unwrap() >= 3);
    let again = json(&b, &["import", bundle.to_str().unwrap()]);
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["known"], r["accepted"]);
    let tl = json(&b, &["timeline"]);
    assert_eq!(tl["posts"][0]["text"], "ann was here");
    assert_eq!(tl["posts"][0]["author_name"], "Ann Lark");
    let shown = json(&b, &["profile", "show", &ann_id]);
    assert_eq!(shown["name"], "Ann Lark");
    assert_eq!(shown["followed"], true);
    // Mute and unfollow.
    ok(&b, &["mute", &ann_id]);
    assert_eq!(
        json(&b, &["timeline"])["posts"].as_array().unwrap().len(),
        0
    );
    ok(&b, &["unmute", &ann_id]);
    assert_eq!(
        json(&b, &["timeline"])["posts"].as_array().unwrap().len(),
        1
    );
    ok(&b, &["unfollow", &ann_id]);
    assert_eq!(
        json(&b, &["timeline"])["posts"].as_array().unwrap().len(),
        0
    );
    // Bad tickets, pictures and bundles.
    fails(&b, &["follow", "hello"], "not a Starling ticket");
    let avatar = png_file(d.path());
    fails(
        &b,
        &["scan", avatar.to_str().unwrap()],
        "no readable QR code",
    );
    fails(
        &b,
        &["follow", avatar.to_str().unwrap()],
        "no readable QR code",
    );
    fails(
        &b,
        &["scan", svg.to_str().unwrap()],
        "cannot read the picture",
    );
    let mut typo = ticket.clone();
    typo.replace_range(20..21, if &ticket[20..21] == "a" { "b" } else { "a" });
    fails(&b, &["follow", &typo], "checksum");
    let junk = d.path().join("junk.bundle");
    std::fs::write(&junk, b"garbage").unwrap();
    fails(
        &b,
        &["import", junk.to_str().unwrap()],
        "not a Starling bundle",
    );
    assert_eq!(json(&b, &["check"])["ok"], true);
}

#[test]
fn home_from_environment() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("envhome");
    let out = starling()
        .args(["init", "--name", "Env", "--json"])
        .env("STARLING_HOME", &home)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(home.join("starling.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.join("identity.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "secret key readable by others");
    }
}

/// SIGKILL mid-import of a large bundle: the store reopens consistent, no
/// entry is half-applied, and nothing acknowledged before is lost.
#[test]
fn killed_import_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("fay");
    json(&home, &["init", "--name", "Fay"]);
    let acked = json(&home, &["post", "acknowledged before the crash"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 40 authors × 1000 entries.
    let mut w = BundleWriter::new();
    let mut total = 0u64;
    for s in 0..40u64 {
        let mut a = SynthAuthor::new(1000 + s);
        let t = a.ticket().encode();
        ok(&home, &["follow", &t]);
        w.entry(&a.cert(1).encode());
        for i in 0..999u64 {
            w.entry(
                &a.post(&format!("post {i} by author {s}"), None, 10 + i)
                    .encode(),
            );
        }
        total += 1000;
    }
    let bundle = dir.path().join("big.bundle");
    std::fs::write(&bundle, w.finish()).unwrap();

    let baseline = json(&home, &["check"])["entries"].as_u64().unwrap();
    // The import says when each batch is on disk; it is killed (SIGKILL) as
    // soon as the first one is, with four more batches still to go.
    let mut child = starling()
        .arg("--home")
        .arg(&home)
        .args(["import", bundle.to_str().unwrap(), "--progress", "--json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut said = None;
    for line in stderr.lines() {
        let Ok(line) = line else { break };
        if let Ok(p) = serde_json::from_str::<Value>(&line)
            && p.get("imported").is_some()
        {
            child.kill().unwrap(); // SIGKILL
            said = Some(p);
            break;
        }
    }
    child.wait().unwrap();
    let said = said.expect("the import never said a batch was on disk");
    let (done, of) = (
        said["imported"].as_u64().unwrap(),
        said["of"].as_u64().unwrap(),
    );
    assert!(0 < done && done < of, "{said}");
    let check = json(&home, &["check"]);
    assert_eq!(check["ok"], true, "{check}");
    let found = json(&home, &["search", "acknowledged"]);
    assert_eq!(found[0]["id"], acked.as_str(), "acknowledged post lost");
    let held = check["entries"].as_u64().unwrap();
    // What was said to be on disk is; what came after it is not all there.
    assert!(
        held >= baseline + done && held < baseline + total,
        "held {held}, baseline {baseline}, said {said}"
    );
    // Finishing the import afterwards brings everything in, exactly once.
    let deadline = Instant::now() + Duration::from_secs(300);
    let r = json(&home, &["import", bundle.to_str().unwrap()]);
    assert!(Instant::now() < deadline);
    assert_eq!(r["refused"], 0, "{r}");
    let check = json(&home, &["check"]);
    assert_eq!(check["ok"], true);
    // Fay's own feed (cert, profile change, device keys, post, and an
    // account backup after each of the 40 follows) and account space
    // (cert, 40 follows and the 40 conversation keys they opened) plus the
    // bundle.
    assert_eq!(check["entries"].as_u64().unwrap(), total + 4 + 40 + 81);
    let page = json(&home, &["timeline", "--limit", "5"]);
    assert_eq!(page["posts"].as_array().unwrap().len(), 5);
}

/// `run` serves peers and stops cleanly on SIGTERM; `sync --once` catches
/// up from it; `peers` lists it. Loopback only, bounded waits.
/// `starling run` on loopback in `home`: the child, its output lines, and
/// its first event (`listening`).
fn spawn_run(
    home: &Path,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    Value,
) {
    spawn_run_with(home, "none")
}

/// `starling run` on loopback in `home` with `relay` (`none` or a URL).
fn spawn_run_with(
    home: &Path,
    relay: &str,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    Value,
) {
    let mut cmd = starling();
    cmd.env("STARLING_RELAY", relay)
        .arg("--home")
        .arg(home)
        .args([
            "run",
            "--bind",
            "127.0.0.1:0",
            "--sync-interval",
            "3600",
            "--no-local-discovery",
            "--json",
        ]);
    let (child, rx, ev) = spawn_lines(cmd);
    assert_eq!(ev["kind"], "listening");
    (child, rx, ev)
}

/// Spawns `cmd`, reads its stdout line by line in the background, and
/// returns the first line as JSON.
fn spawn_lines(
    mut cmd: Command,
) -> (
    std::process::Child,
    std::sync::mpsc::Receiver<String>,
    Value,
) {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the process printed nothing");
    let ev: Value = serde_json::from_str(&first).unwrap();
    (child, rx, ev)
}

/// `starling relay` on loopback carries a sync between two nodes that know
/// each other only through it: Ann's node takes it as its home relay, Bob
/// follows a ticket that names the relay and no address, and catches up.
/// SIGTERM stops the relay cleanly.
#[test]
fn our_own_relay_carries_a_sync() {
    let (_d, a, b) = homes();
    json(&a, &["post", "through our relay"]);
    let mut cmd = starling();
    cmd.args(["--json", "relay", "--bind", "127.0.0.1:0"]);
    let (relay, relay_rx, ev) = spawn_lines(cmd);
    assert_eq!(ev["kind"], "relay_listening");
    let url = ev["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (run, rx, ev) = spawn_run_with(&a, &url);
    let home_relay = ev["relay"].as_str().unwrap_or_default();
    assert!(home_relay.starts_with(&url), "{ev}");
    // A ticket with the relay and no direct address.
    let text = feed_ticket(&a);
    let starling_core::Ticket::Feed(mut t) = starling_core::Ticket::decode(&text).unwrap() else {
        panic!("a feed ticket")
    };
    let peer = t.peer.as_mut().unwrap();
    assert!(!peer.addrs.is_empty(), "the ticket names where run listens");
    assert!(peer.addrs.iter().all(starling_core::PeerAddr::dialable));
    peer.addrs.clear();
    peer.relay = Some(home_relay.to_string());
    let relay_only = starling_core::Ticket::Feed(t).encode();
    json(&b, &["follow", &relay_only]);
    let out = starling()
        .env("STARLING_RELAY", &url)
        .arg("--home")
        .arg(&b)
        .args([
            "sync",
            "--once",
            "--timeout",
            "20",
            "--bind",
            "127.0.0.1:0",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["accepted"].as_u64().unwrap() >= 3, "{r}");
    assert_eq!(
        json(&b, &["timeline"])["posts"][0]["text"],
        "through our relay"
    );
    stop_run(run, rx);
    let last = stop_run(relay, relay_rx);
    assert!(last.iter().any(|l| l.contains("stopped")), "{last:?}");
}

/// A `starling` process that asks on the terminal: stdin piped, stderr
/// read line by line in the background.
struct Interactive {
    child: std::process::Child,
    asked: std::sync::mpsc::Receiver<String>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn interactive(home: &Path, args: &[&str]) -> Interactive {
    use std::io::Read;
    let mut child = starling()
        .arg("--home")
        .arg(home)
        .args(args)
        .args(["--bind", "127.0.0.1:0"])
        .env_remove("STARLING_HOME")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, asked) = std::sync::mpsc::channel();
    let all = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let log = all.clone();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            log.lock().unwrap().push_str(&text);
            seen.push_str(&text);
            if let Some(at) = seen.find("show the code ") {
                // The question may come in pieces: wait for the whole code.
                let code: String = seen[at + 14..].chars().take(7).collect();
                if code.len() == 7 {
                    if tx.send(code).is_err() {
                        break;
                    }
                    seen.clear();
                }
            }
        }
    });
    Interactive {
        child,
        asked,
        stderr: all,
    }
}

/// The confirmation code an interactive process asks about.
fn asked_code(p: &Interactive) -> String {
    p.asked
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            panic!(
                "not asked to compare codes; it printed: {}",
                p.stderr.lock().unwrap()
            )
        })
}

fn answer(p: &mut Interactive, text: &str) {
    use std::io::Write;
    let stdin = p.child.stdin.as_mut().unwrap();
    writeln!(stdin, "{text}").unwrap();
}

/// Waits (bounded) for an interactive process to succeed; its stdout.
fn finish(mut p: Interactive) -> String {
    use std::io::Read;
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            assert!(
                status.success(),
                "exited with {status}: {}",
                p.stderr.lock().unwrap()
            );
            let mut out = String::new();
            p.child
                .stdout
                .take()
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            return out;
        }
        assert!(Instant::now() < deadline, "did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops a `starling run` with SIGTERM and checks it stops cleanly;
/// returns its last lines.
fn stop_run(mut child: std::process::Child, rx: std::sync::mpsc::Receiver<String>) -> Vec<String> {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "run exited with {s}");
            break;
        }
        assert!(Instant::now() < deadline, "run did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    rx.try_iter().collect()
}

#[test]
fn groups_by_invite_picture_and_sync() {
    let (d, a, b) = homes();
    let id = json(
        &a,
        &["group", "create", "birders", "--description", "dawn walks"],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    json(&a, &["post", "--group", &id, "hello group"]);
    json(&a, &["post", "a public post"]);
    let (child, rx, _) = spawn_run(&a);
    // The invite carries the running node's address; Bob joins by its picture.
    let png = d.path().join("invite.png");
    let invite = json(
        &a,
        &["group", "invite", &id, "--png", png.to_str().unwrap()],
    );
    assert!(invite["text"].as_str().unwrap().starts_with("starling1"));
    assert_eq!(json(&b, &["scan", png.to_str().unwrap()])["kind"], "group");
    let joined = json(&b, &["group", "join", png.to_str().unwrap()]);
    assert_eq!(joined["id"], id.as_str());
    assert_eq!(joined["name"], "birders");
    json(&b, &["post", "--group", &id, "bob says hi"]);
    let r = sync_once(&b);
    assert!(r["accepted"].as_u64().unwrap() >= 2, "{r}");
    let (_, texts) = group_timeline(&b, &id);
    // Ann's post from before Bob joined stays closed to him: a sender
    // shares its session with the member devices it knows (forward
    // secrecy; history before a join is not handed over).
    assert_eq!(texts, vec!["bob says hi"]);
    json(&a, &["post", "--group", &id, "welcome bob"]);
    sync_once(&b);
    let (tl, texts) = group_timeline(&b, &id);
    assert_eq!(texts, vec!["welcome bob", "bob says hi"]);
    // The same post objects as the home timeline.
    let home = json(&a, &["timeline"]);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&tl["posts"][0]), keys(&home["posts"][0]));
    // Group posts stay out of home timelines.
    assert_eq!(home["posts"].as_array().unwrap().len(), 1);
    // Ann's node got Bob's post in the same session; both see two members.
    let (_, on_a) = group_timeline(&a, &id);
    assert_eq!(on_a, vec!["welcome bob", "bob says hi", "hello group"]);
    let shown = json(&b, &["group", "show", &id]);
    assert_eq!(shown["members"].as_array().unwrap().len(), 2);
    assert_eq!(shown["my_role"], "member");
    assert_eq!(json(&a, &["group", "list"])[0]["my_role"], "owner");
    // Only admins invite; a stranger's home cannot read the group.
    fails(&b, &["group", "invite", &id], "owner");
    // With --json the error is typed, for scripts to branch on.
    let out = run(&b, &["group", "invite", &id, "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["kind"], "not_allowed", "{err}");
    assert!(err["message"].as_str().unwrap().contains("owner"));
    let c = d.path().join("c");
    ok(&c, &["init", "--name", "Cat"]);
    fails(&c, &["group", "timeline", &id], "not a member");
    // Ann removes Bob: the key moves to epoch 1.
    let bob_id = json(&b, &["whoami"])["identity"]
        .as_str()
        .unwrap()
        .to_string();
    fails(&b, &["group", "remove", &id, &bob_id], "owner");
    let removed = json(&a, &["group", "remove", &id, &bob_id]);
    assert_eq!(removed["epoch"], 1);
    assert_eq!(
        json(&a, &["group", "show", &id])["members"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    fails(&a, &["group", "remove", &id, &bob_id], "not a member");
    // Direct messages: they follow each other, Bob writes, Ann reads.
    let ta = feed_ticket(&a);
    let tb = feed_ticket(&b);
    json(&a, &["follow", &tb]);
    json(&b, &["follow", &ta]);
    let ann_id = json(&a, &["whoami"])["identity"]
        .as_str()
        .unwrap()
        .to_string();
    json(&b, &["dm", &ann_id, "just between us"]);
    sync_once(&b);
    let list = json(&a, &["dm", "list"]);
    assert_eq!(list[0]["with"], bob_id.as_str());
    assert_eq!(list[0]["last"]["text"], "just between us");
    let shown = json(&a, &["dm", "show", &bob_id]);
    assert_eq!(shown["posts"][0]["text"], "just between us");
    fails(&a, &["dm", &ann_id, "to myself"], "that is you");
    // Linking needs this device's network, which `starling run` holds:
    // the CLI says so instead of starting a second endpoint with Ann's
    // device key.
    fails(
        &a,
        &["device", "link", "--relay", "none"],
        &format!("(pid {}) runs the network for", child.id()),
    );
    stop_run(child, rx);
    // A second device for Ann, linked by a picture of the link code: both
    // processes ask whether the other shows the same code.
    let link = d.path().join("link.png");
    let mut linker = interactive(&a, &["device", "link", "--png", link.to_str().unwrap()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !link.exists() {
        assert!(Instant::now() < deadline, "no link code written");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        json(&b, &["scan", link.to_str().unwrap()])["kind"],
        "device"
    );
    let a2 = d.path().join("ann-phone");
    let mut joiner = interactive(&a2, &["--json", "device", "join", link.to_str().unwrap()]);
    let asked_new = asked_code(&joiner);
    let asked_old = asked_code(&linker);
    assert_eq!(asked_new, asked_old, "both devices show the same code");
    answer(&mut linker, "y");
    answer(&mut joiner, "y");
    let joined = finish(joiner);
    let joined: Value = serde_json::from_str(&joined).unwrap();
    assert_eq!(joined["identity"], ann_id.as_str());
    finish(linker);
    fails(
        &a2,
        &["device", "join", link.to_str().unwrap()],
        "already holds",
    );
    assert_eq!(
        json(&a2, &["timeline"])["posts"],
        json(&a, &["timeline"])["posts"]
    );
    let devices = json(&a2, &["device", "list"]);
    assert_eq!(devices.as_array().unwrap().len(), 2);
    fails(&b, &["follow", link.to_str().unwrap()], "device join");
    // Linked without `--trusted`, the phone holds no identity key: no
    // phrase to show, no device to link or revoke from it.
    assert!(!a2.join("identity.key").exists());
    for args in [
        &["key", "phrase", "--yes"][..],
        &["device", "link", "--relay", "none"][..],
    ] {
        fails(&a2, args, "does not hold your identity key");
    }
}

#[test]
fn run_serves_and_sync_once_catches_up() {
    let (_d, a, b) = homes();
    json(&a, &["post", "served over iroh"]);
    let (child, rx, ev) = spawn_run(&a);
    // The ticket now carries the running node's address.
    let ticket = feed_ticket(&a);
    json(&b, &["follow", &ticket]);
    let r = sync_once(&b);
    assert!(r["accepted"].as_u64().unwrap() >= 3, "{r}");
    assert_eq!(
        json(&b, &["timeline"])["posts"][0]["text"],
        "served over iroh"
    );
    let peers = json(&b, &["peers"]);
    assert_eq!(peers[0]["device"], ev["device"]);
    assert!(peers[0]["last_seen"].is_u64());
    // Which path the session took (loopback: direct) and its round trip.
    assert_eq!(peers[0]["path"], "direct", "{peers}");
    assert!(peers[0]["rtt_ms"].is_u64(), "{peers}");
    // One endpoint per device: a second process on Ann's home is told
    // which process runs her network; what it writes through the store
    // still goes out through the running one.
    fails(
        &a,
        &["sync", "--once", "--timeout", "5", "--bind", "127.0.0.1:0"],
        &format!("(pid {}) runs the network for", child.id()),
    );
    json(&a, &["post", "written beside the running node"]);
    let r = sync_once(&b);
    assert!(r["accepted"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(
        json(&b, &["timeline"])["posts"][0]["text"],
        "written beside the running node"
    );
    // The running node reports the session.
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("\"synced\"")) {
        let line = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no event for the session, only {lines:?}"));
        lines.push(line);
    }
    // SIGTERM stops it cleanly.
    let last = stop_run(child, rx);
    assert!(last.iter().any(|l| l.contains("stopped")), "{last:?}");
}

/// Resident memory of a process, in bytes (Linux).
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// What one hostile client does to the node's sync port.
#[derive(Debug, Clone, Copy)]
enum Abuse {
    /// Frames as large as allowed, full of garbage.
    Garbage,
    /// Frames announcing 4 GiB.
    Lengths,
    /// Frames announced at the limit, sent almost whole, then left hanging.
    Stall,
}

/// Sends `budget` bytes of `abuse` to `to` over as many connections as it
/// takes (each is cut off by the node); returns the bytes it got out (for
/// announced lengths, the lengths announced).
async fn abuse(
    client: iroh::Endpoint,
    to: iroh::EndpointAddr,
    kind: Abuse,
    budget: u64,
    deadline: Instant,
) -> u64 {
    let max = starling_core::net::MAX_FRAME;
    let garbage = vec![0xa5u8; max];
    let mut sent = 0u64;
    while sent < budget && Instant::now() < deadline {
        let Ok(Ok(conn)) = tokio::time::timeout(
            Duration::from_secs(5),
            client.connect(to.clone(), starling_core::net::SYNC_ALPN),
        )
        .await
        else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let Ok((mut send, _recv)) = conn.open_bi().await else {
            continue;
        };
        loop {
            let (len, body): (u32, &[u8]) = match kind {
                Abuse::Garbage => (max as u32, &garbage),
                Abuse::Lengths => (u32::MAX, &garbage[..1024]),
                Abuse::Stall => (max as u32, &garbage[..max - 4096]),
            };
            let wrote = send.write_all(&len.to_le_bytes()).await.is_ok()
                && send.write_all(body).await.is_ok();
            if !wrote {
                break;
            }
            sent += match kind {
                Abuse::Lengths => u64::from(len),
                _ => 4 + body.len() as u64,
            };
            if let Abuse::Stall = kind {
                // Hold what was sent until the node gives up on it.
                tokio::time::sleep(starling_core::net::FRAME_STALL + Duration::from_secs(1)).await;
                break;
            }
            if sent >= budget || Instant::now() >= deadline {
                break;
            }
        }
        conn.close(0u32.into(), b"");
    }
    sent
}

/// Eight hostile clients each push up to 1 GiB of garbage frames, huge
/// announced lengths and stalled frames at a running node: its memory
/// grows by less than 100 MiB, and an honest peer syncs with it meanwhile.
#[test]
fn a_flood_of_hostile_sessions_stays_within_memory_and_service_goes_on() {
    let (_d, a, b) = homes();
    json(&a, &["post", "still here"]);
    let (child, rx, ev) = spawn_run(&a);
    let pid = child.id();
    let ticket = feed_ticket(&a);
    json(&b, &["follow", &ticket]);
    // Warm up: one honest session, then the baseline.
    let r = sync_once(&b);
    assert!(r["accepted"].as_u64().unwrap() >= 1, "{r}");
    std::thread::sleep(Duration::from_millis(500));
    let baseline = rss(pid);
    let device: starling_core::DeviceId = ev["device"].as_str().unwrap().parse().unwrap();
    let addrs: Vec<std::net::SocketAddr> = ev["addrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().parse().unwrap())
        .collect();
    let to = iroh::EndpointAddr::from_parts(
        iroh::PublicKey::from_bytes(device.as_bytes()).unwrap(),
        addrs.iter().map(|a| iroh::TransportAddr::Ip(*a)),
    );
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(baseline));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss(pid), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = Instant::now();
    let flood = rt.spawn(async move {
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (kind, budget) = match i {
                0..=5 => (Abuse::Garbage, 1 << 30),
                6 => (Abuse::Lengths, 1 << 30),
                // Two frames left hanging, a stall each.
                _ => (Abuse::Stall, 2 * starling_core::net::MAX_FRAME as u64),
            };
            let client = iroh::Endpoint::builder(iroh::endpoint::presets::Minimal)
                .relay_mode(iroh::RelayMode::Disabled)
                .clear_ip_transports()
                .bind_addr("127.0.0.1:0")
                .unwrap()
                .bind()
                .await
                .unwrap();
            let to = to.clone();
            tasks.push(tokio::spawn(abuse(client, to, kind, budget, deadline)));
        }
        let mut sent = Vec::new();
        for t in tasks {
            sent.push(t.await.unwrap_or(0));
        }
        sent
    });
    // Meanwhile the honest peer syncs, and gets Ann's new post.
    std::thread::sleep(Duration::from_secs(2));
    json(&a, &["post", "posted during the flood"]);
    let r = json(
        &b,
        &["sync", "--once", "--timeout", "60", "--bind", "127.0.0.1:0"],
    );
    assert!(r["accepted"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(
        json(&b, &["timeline"])["posts"][0]["text"],
        "posted during the flood"
    );
    let sent = rt.block_on(flood).unwrap();
    let secs = started.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    let grew = peak
        .load(std::sync::atomic::Ordering::Relaxed)
        .saturating_sub(baseline);
    eprintln!(
        "hostile clients pushed {:?} MiB in {secs:.1} s; node RSS baseline {} MiB, grew at most {} MiB",
        sent.iter().map(|b| b >> 20).collect::<Vec<_>>(),
        baseline >> 20,
        grew >> 20
    );
    assert!(grew < 100 << 20, "memory grew by {} MiB", grew >> 20);
    // It still answers.
    let r = sync_once(&b);
    assert_eq!(r["peers"][0]["ok"], true, "{r}");
    stop_run(child, rx);
}

/// The recovery phrase through the CLI: `init` prints it, `key phrase`
/// shows it again after asking, and `init --recover --from` brings the
/// identity, its posts and its follows back on a new device from one
/// follower running `starling run`.
#[test]
fn a_phrase_and_one_follower_bring_an_identity_back() {
    use std::io::Write;
    let (dir, ann, bob) = homes();
    let text = ok(&bob, &["post", "bob before the loss"]);
    assert!(!text.is_empty());
    // Without --yes it asks, and a "no" shows nothing.
    let mut child = starling()
        .arg("--home")
        .arg(&bob)
        .args(["key", "phrase"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let refused = child.wait_with_output().unwrap();
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty());
    let words: Vec<String> = json(&bob, &["key", "phrase", "--yes"])["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap().to_string())
        .collect();
    assert_eq!(words.len(), 24);
    let bob_id = json(&bob, &["whoami"])["identity"]
        .as_str()
        .unwrap()
        .to_string();
    // Bob follows Ann and Ann follows Bob; Ann keeps running.
    let (child, rx, _) = spawn_run(&ann);
    json(&bob, &["follow", &feed_ticket(&ann)]);
    json(&ann, &["follow", &feed_ticket(&bob)]);
    // A catch-up with Ann's running node moves entries both ways: Ann now
    // holds Bob's feed, his account backup in it.
    sync_once(&bob);
    std::fs::remove_dir_all(&bob).unwrap();

    // A new device from the phrase, restoring from Ann.
    let bob2 = dir.path().join("bob2");
    let mut child2 = starling()
        .arg("--home")
        .arg(&bob2)
        .args([
            "init",
            "--recover",
            "--from",
            &feed_ticket(&ann),
            "--bind",
            "127.0.0.1:0",
            "--json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Typed in any case, over two lines.
    let typed = format!(
        "{}\n{}\n",
        words[..12].join(" "),
        words[12..].join(" ").to_uppercase()
    );
    child2
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    let out = child2.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(restored["found"], true, "{restored}");
    assert_eq!(restored["follows"], 1, "{restored}");
    assert_eq!(json(&bob2, &["whoami"])["identity"], bob_id.as_str());
    let texts: Vec<String> = json(&bob2, &["timeline"])["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts.contains(&"bob before the loss".to_string()),
        "{texts:?}"
    );
    // A wrong phrase is refused with a clear error.
    let mut wrong = words.clone();
    wrong[3] = "starling".into();
    let mut child3 = starling()
        .arg("--home")
        .arg(dir.path().join("eve"))
        .args(["init", "--recover"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child3
        .stdin
        .take()
        .unwrap()
        .write_all(wrong.join(" ").as_bytes())
        .unwrap();
    let bad = child3.wait_with_output().unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a recovery phrase"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    stop_run(child, rx);
}

#[test]
fn storage_reports_keeps_budgets_and_drops_an_unfollowed_feed() {
    let (d, a, b) = homes();
    let pic = png_file(d.path());
    for i in 0..5 {
        json(&a, &["post", &format!("ann {i} {}", "words ".repeat(40))]);
    }
    json(
        &a,
        &["post", "with a picture", "--image", pic.to_str().unwrap()],
    );
    let ann = json(&a, &["whoami"])["identity"]
        .as_str()
        .unwrap()
        .to_string();
    json(&b, &["post", "bob's own"]);
    json(&b, &["follow", &feed_ticket(&a)]);
    let bundle = d.path().join("ann.bundle");
    json(&a, &["export", "--out", bundle.to_str().unwrap()]);
    json(&b, &["import", bundle.to_str().unwrap()]);

    let s = json(&b, &["storage"]);
    let kind = |s: &Value, k: &str| {
        s["kinds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["kind"] == k)
            .map_or(0, |x| x["bytes"].as_u64().unwrap())
    };
    assert!(kind(&s, "followed") > 1000, "{s}");
    assert!(kind(&s, "media_cache") > 0, "{s}");
    assert!(kind(&s, "own") > 0, "{s}");
    assert_eq!(s["biggest"][0]["identity"], ann.as_str());
    assert_eq!(s["budgets"]["keep_others_posts_days"], 365);
    let human = ok(&b, &["storage"]);
    assert!(human.contains("people you follow"), "{human}");

    // Budgets of nothing for others: Ann's posts keep their headers only.
    let e = json(&b, &["storage", "budget", "--posts", "0", "--media", "0B"]);
    assert_eq!(e["posts"], 6, "{e}");
    assert_eq!(e["images"], 1, "{e}");
    let s = json(&b, &["storage"]);
    assert_eq!(kind(&s, "media_cache"), 0);
    assert_eq!(s["budgets"]["others_posts_bytes"], 0);
    let texts: Vec<Value> = json(&b, &["timeline"])["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].clone())
        .collect();
    assert_eq!(texts, vec![Value::from("bob's own")]);
    assert!(json(&b, &["check"])["ok"].as_bool().unwrap());
    fails(
        &b,
        &["storage", "budget"],
        "--media, --posts or --keep-days",
    );
    fails(&b, &["storage", "budget", "--media", "lots"], "not a size");

    // Unfollow and drop: gone, and the file shrinks after a vacuum.
    let dropped = json(&b, &["unfollow", &ann, "--drop"]);
    assert!(dropped["kept"].is_null(), "{dropped}");
    assert!(dropped["entries"].as_u64().unwrap() >= 7, "{dropped}");
    let before = json(&b, &["storage"])["file_bytes"].as_u64().unwrap();
    let after = json(&b, &["storage", "vacuum"])["file_bytes"]
        .as_u64()
        .unwrap();
    assert!(after < before, "{before} → {after}");
    let s = json(&b, &["storage"]);
    assert_eq!(kind(&s, "followed") + kind(&s, "mirrored"), 0, "{s}");
    assert_eq!(json(&b, &["storage", "check"])["posts"], 0);
}

/// Runs `starling --home HOME ARGS` with `stdin` on its standard input.
fn run_with_stdin(home: &Path, args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = starling()
        .arg("--home")
        .arg(home)
        .args(args)
        .env_remove("STARLING_HOME")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run starling");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().expect("wait for starling")
}

/// The error `starling ARGS --json` printed, and its exit status.
fn json_error(home: &Path, args: &[&str]) -> (Value, Option<i32>) {
    let mut a = args.to_vec();
    a.push("--json");
    let out = run(home, &a);
    assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
    let err = serde_json::from_slice(&out.stderr).unwrap_or_else(|e| {
        panic!(
            "{args:?} printed a non-JSON error {:?}: {e}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (err, out.status.code())
}

#[test]
fn exit_statuses_tell_failures_apart_and_json_errors_cover_usage() {
    let (_d, a, b) = homes();
    // Usage: an unknown command, a missing argument, a bad id.
    let (err, code) = json_error(&a, &["frobnicate"]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("invalid"), Some(2)),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("frobnicate"),
        "{err}"
    );
    assert_eq!(run(&a, &["frobnicate"]).status.code(), Some(2));
    let (err, code) = json_error(&a, &["like"]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("invalid"), Some(2)),
        "{err}"
    );
    let (err, code) = json_error(&a, &["run", "--dht-bootstrap", "not an address"]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("invalid"), Some(2)),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains("host:port"),
        "{err}"
    );
    let (err, code) = json_error(&a, &["follow", "not-a-ticket"]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("invalid"), Some(2)),
        "{err}"
    );
    // Help and the version are no errors.
    let help = run(&a, &["--help", "--json"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("Exit status"));
    // Not found: a post, a file, an identity.
    let missing = "ab".repeat(32);
    let (err, code) = json_error(&a, &["thread", &missing]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("not_found"), Some(3)),
        "{err}"
    );
    let (err, code) = json_error(&a, &["import", "/no/such/bundle"]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("not_found"), Some(3)),
        "{err}"
    );
    let empty = a.parent().unwrap().join("nobody");
    let (err, code) = json_error(&empty, &["whoami"]);
    assert_eq!(
        (err["kind"].as_str(), code),
        (Some("no_identity"), Some(3)),
        "{err}"
    );
    // The network: the one peer known does not answer.
    let starling_core::Ticket::Feed(mut t) =
        starling_core::Ticket::decode(&feed_ticket(&a)).unwrap()
    else {
        panic!("a feed ticket")
    };
    let device: starling_core::DeviceId = json(&a, &["whoami"])["device"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut gone = starling_core::PeerAddr::bare(device);
    gone.addrs.push("127.0.0.1:9".parse().unwrap());
    t.peer = Some(gone);
    json(&b, &["follow", &starling_core::Ticket::Feed(t).encode()]);
    // The summary still goes to stdout, the error to stderr.
    let out = run(
        &b,
        &["sync", "--timeout", "5", "--bind", "127.0.0.1:0", "--json"],
    );
    assert_eq!(out.status.code(), Some(4));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["peers"][0]["ok"], false, "{summary}");
    let err: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["kind"], "network", "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("could not sync"),
        "{err}"
    );
}

#[test]
fn dash_is_standard_input_and_output() {
    let (_d, a, b) = homes();
    // A post from standard input (the newline `echo` adds is not its).
    let out = run_with_stdin(&a, &["post", "-"], "from a pipe\nsecond line\n".as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tl = json(&a, &["timeline"]);
    assert_eq!(tl["posts"][0]["text"], "from a pipe\nsecond line");
    // A bundle to standard output: the bundle alone there, the summary on
    // stderr (JSON under --json).
    let out = run(&a, &["export", "--out", "-", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(
        said["bytes"].as_u64(),
        Some(out.stdout.len() as u64),
        "{said}"
    );
    assert!(said["records"].as_u64().unwrap() > 0);
    // ... and in again from standard input, at a follower.
    json(&b, &["follow", &feed_ticket(&a)]);
    let back = run_with_stdin(&b, &["--json", "import", "-"], &out.stdout);
    assert!(
        back.status.success(),
        "{}",
        String::from_utf8_lossy(&back.stderr)
    );
    let r: Value = serde_json::from_slice(&back.stdout).unwrap();
    assert!(r["accepted"].as_u64().unwrap() > 0, "{r}");
    // Garbage on standard input is refused with a clear error.
    let bad = run_with_stdin(&b, &["import", "-"], b"not a bundle");
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("error:"));
}

#[test]
fn completions_manual_page_and_local_time() {
    let (_d, a, _b) = homes();
    let bash = ok(&a, &["completions", "bash"]);
    assert!(
        bash.contains("_starling") && bash.contains("timeline"),
        "{bash}"
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(
            ok(&a, &["completions", shell]).contains("timeline"),
            "{shell}"
        );
    }
    let man = ok(&a, &["man"]);
    assert!(man.contains(".TH starling 1"), "{man}");
    assert!(
        man.contains("timeline") && man.contains("Exit status"),
        "{man}"
    );
    // Times for people are in the local zone (here TZ's), not UTC.
    json(&a, &["post", "what time is it"]);
    let ms = json(&a, &["timeline"])["posts"][0]["timestamp"]
        .as_u64()
        .unwrap();
    let shown = starling()
        .arg("--home")
        .arg(&a)
        .arg("timeline")
        .env("TZ", "ABC-2")
        .output()
        .unwrap();
    let text = String::from_utf8(shown.stdout).unwrap();
    let expected = jiff::Timestamp::from_millisecond(ms as i64)
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::posix("ABC-2").unwrap())
        .strftime("%Y-%m-%d %H:%M ABC")
        .to_string();
    assert!(text.contains(&expected), "{expected} not in {text}");
    assert!(!text.contains(" UTC"), "{text}");
}

/// `profile show-follows`, `suggestions`, `profile media` and `follow ID`:
/// Bob shows whom he follows; Ann, who follows him, sees that he follows
/// her and is offered Cat; Cat's key is not held, so her id alone does not
/// follow her (a clear error), and Bob's media is his post with an image.
#[test]
fn show_follows_suggestions_and_media() {
    let (d, a, b) = homes();
    let c = d.path().join("cat");
    json(&c, &["init", "--name", "Cat"]);
    let id = |h: &Path| {
        json(h, &["whoami"])["identity"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ann, cat) = (id(&a), id(&c));
    json(&b, &["follow", &feed_ticket(&a)]);
    json(&b, &["follow", &feed_ticket(&c)]);
    json(&a, &["follow", &feed_ticket(&b)]);
    assert_eq!(
        json(&b, &["profile", "show-follows"])["show_follows"],
        false
    );
    assert_eq!(
        json(&b, &["profile", "show-follows", "on"])["show_follows"],
        true
    );
    let pic = png_file(d.path());
    json(&b, &["post", "words only"]);
    json(&b, &["post", "a picture", "--image", pic.to_str().unwrap()]);
    let bundle = d.path().join("bob.bundle");
    ok(
        &b,
        &["export", "--out", bundle.to_str().unwrap(), "--for", &ann],
    );
    json(&a, &["import", bundle.to_str().unwrap()]);
    let bob = id(&b);
    assert_eq!(json(&a, &["profile", "show", &bob])["follows_you"], true);
    assert!(ok(&a, &["profile", "show", &bob]).contains("follows you"));
    let s = json(&a, &["suggestions"]);
    assert_eq!(s.as_array().unwrap().len(), 1, "{s}");
    assert_eq!(s[0]["profile"]["identity"], cat.as_str());
    assert_eq!(s[0]["followed_by"][0], "Bob");
    assert_eq!(s[0]["key_held"], false);
    assert!(ok(&a, &["suggestions"]).contains("ask them for their ticket"));
    let (err, code) = json_error(&a, &["follow", &cat]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err["message"].as_str().unwrap().contains("ticket"), "{err}");
    let media = json(&a, &["profile", "media", &bob]);
    let texts: Vec<&str> = media["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["a picture"]);
}
