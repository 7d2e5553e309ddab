// End to end: the real app (tauri-driver + WebKitWebDriver, under Xvfb)
// against CLI peers on loopback. One story, in order: onboarding, follow
// both ways, live posts both ways (with an image), literal rendering of
// markup, follow by a QR picture, a group with the CLI peer, then
// screenshots of the main screens at desktop and phone size.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { App, CliPeer, asking, scratch, out, join, writeFileSync, readFileSync, root, sleep, waitFor } from "./harness.mjs";
import { Notifications, answerFileDialog, canAnswerDialogs, screenPng } from "./desktop.mjs";
import { existsSync } from "node:fs";

const XSS = "<img src=x onerror=alert(1)>";
let app, bob, cat, me, group, desk;

before(async () => {
  desk = Notifications.start();
  bob = await new CliPeer("Bob").start();
  cat = new CliPeer("Cat");
  cat.cli(["init", "--name", "Cat"]);
  app = await App.launch({ home: join(scratch("app"), "home"), width: 1280, height: 800 });
});

after(async () => {
  await app?.quit();
  await bob?.stop();
  desk?.stop();
});

test("onboarding: create an identity, confirm its recovery phrase, see the QR code and ticket", async () => {
  await app.type("onboard-name", "Ann");
  await app.shot("desktop-onboarding");
  await app.click("onboard-create");
  await app.s.waitFind('[data-testid="phrase-word-24"]');
  const words = [];
  for (let i = 1; i <= 24; i++) words.push((await app.textOf(`phrase-word-${i}`)).trim());
  assert.equal(new Set(words).size > 1, true, "24 real words");
  await app.shot("desktop-onboarding-phrase");
  await app.click("phrase-written");
  // A wrong word is refused; the right ones go on.
  const asked = [];
  for (let i = 0; i < 3; i++) {
    const input = await app.s.waitFind(`[data-testid="confirm-word-${i}"]`);
    asked.push(Number(await input.attr("data-position")));
  }
  await app.type("confirm-word-0", "wrongword");
  await app.click("confirm-words");
  await app.s.waitFind('[data-testid="confirm-wrong"]');
  await app.shot("desktop-onboarding-confirm");
  for (let i = 0; i < 3; i++) await app.type(`confirm-word-${i}`, words[asked[i]]);
  await app.click("confirm-words");
  const ticket = await app.textOf("my-ticket");
  assert.match(ticket, /^starling:starling1/);
  const qr = await app.s.waitFind('[data-testid="my-qr"]');
  assert.match(await qr.attr("src"), /^data:image\/svg\+xml;base64,/);
  await app.shot("desktop-onboarding-ticket");
  await app.click("onboard-done");
  await app.s.waitFind('[data-testid="compose-text"]');
  me = { ticket };
});

test("follow both ways: the app by a pasted ticket, the CLI by the app's ticket", async () => {
  bob.cli(["follow", me.ticket]);
  await app.nav("follow");
  await app.type("follow-ticket", bob.ticket());
  await app.click("follow-submit");
  const result = await app.s.waitFind('[data-testid="follow-result"][data-ok="true"]');
  // A ticket carries no name: Bob's shows once his profile has synced.
  await waitFor("Bob's name", async () => /Bob/.test(await result.prop("textContent")), 30000);
});

test("a post made by the CLI appears in the app without a reload", async () => {
  await app.nav("home");
  const marker = await app.s.exec("window.__e2eMarker = 1; return 1;");
  assert.equal(marker, 1);
  bob.cli(["post", "Hello from the command line"]);
  await app.postWithText("Hello from the command line", 30000);
  // The same page: a reload would have dropped the marker.
  assert.equal(await app.s.exec("return window.__e2eMarker;"), 1);
  await app.shot("desktop-home");
});

test("a post whose text is markup shows as literal text", async () => {
  bob.cli(["post", XSS]);
  const post = await app.postWithText(XSS, 30000);
  const text = await post.find('[data-testid="post-text"]');
  assert.equal(await text.prop("textContent"), XSS);
  assert.equal((await text.findAll("img")).length, 0);
  assert.equal(await app.s.alertText(), null, "no script ran");
});

test("the app posts with an image and the CLI peer receives both", async () => {
  const photo = join(scratch("photo"), "dusk.png");
  writeFileSync(photo, readFileSync(join(root, "src-tauri", "icons", "icon.png")));
  await app.nav("home");
  await app.type("compose-text", "Dusk over the reeds");
  const file = await app.s.waitFind('[data-testid="compose-image"]');
  await file.type(photo);
  await app.s.waitFind('[data-testid="compose-preview"]');
  await app.type("compose-alt", "Orange light over the reeds at dusk");
  await app.shot("desktop-compose-image");
  await app.click("compose-submit");
  const mine = await app.postWithText("Dusk over the reeds", 10000);
  await waitFor("the image in the app", async () => (await mine.findAll('[data-testid="post-image"]')).length === 1);
  const got = await waitFor(
    "the post at the CLI peer",
    () => bob.timeline().find((p) => p.text === "Dusk over the reeds"),
    30000,
    500,
  );
  assert.equal(got.images.length, 1);
  assert.deepEqual(got.alts, ["Orange light over the reeds at dusk"]);
  await waitFor(
    "the image fetched by the CLI peer",
    () => bob.events.find((e) => e.kind === "blob_fetched" && e.hash === got.images[0]),
    30000,
    500,
  );
});

test("images open full size with their descriptions, arrows step between them, Escape closes", async () => {
  const dir = scratch("pictures");
  const [first, second] = [join(dir, "one.png"), join(dir, "two.png")];
  writeFileSync(first, readFileSync(join(root, "src-tauri", "icons", "icon.png")));
  writeFileSync(second, readFileSync(join(root, "fuzz", "seeds", "scan", "feed-ticket.png")));
  bob.cli([
    "post", "Two birds", "--image", first, "--alt", "The Starling logo: a bird in flight",
    "--image", second, "--alt", "A QR code of a feed ticket",
  ]);
  await app.nav("home");
  const post = await app.postWithText("Two birds", 30000);
  await waitFor("both images", async () => (await post.findAll('[data-testid="post-image"]')).length === 2, 30000);
  const images = await post.findAll('[data-testid="post-image"]');
  assert.equal(await images[0].attr("alt"), "The Starling logo: a bird in flight");
  assert.equal((await post.findAll('[data-testid="post-image-alt-badge"]')).length, 2);
  await (await post.findAll('[data-testid="post-image-open"]'))[0].click();
  const viewer = await app.s.waitFind('[data-testid="image-viewer"]');
  const alt = async () => (await viewer.find('[data-testid="image-viewer-alt"]')).prop("textContent");
  assert.match(await alt(), /The Starling logo: a bird in flight/);
  await waitFor("the full-size image", async () => (await viewer.findAll('img[data-testid="image-viewer-image"]')).length === 1, 10000);
  await app.shot("desktop-image-viewer");
  await viewer.type("\uE014"); // ArrowRight
  await waitFor("the second image", async () => /A QR code of a feed ticket/.test(await alt()), 5000);
  assert.match(await (await viewer.find('[data-testid="image-viewer-position"]')).prop("textContent"), /2 \/ 2/);
  await viewer.type("\uE012"); // ArrowLeft
  await waitFor("the first image again", async () => /bird in flight/.test(await alt()), 5000);
  await viewer.type("\uE00C"); // Escape
  await waitFor("the viewer closed", async () => (await app.s.findAll('[data-testid="image-viewer"]')).length === 0, 5000);
});

test("a quote and a reply show the post they name as a card", async () => {
  const mine = bob.timeline().find((p) => p.text === "Dusk over the reeds");
  bob.cli(["post", "--quote", mine.id, "Worth a look"]);
  bob.cli(["post", "--reply-to", mine.id, "Those reeds!"]);
  await app.nav("home");
  const quote = await app.postWithText("Worth a look", 30000);
  const card = await quote.find('[data-testid="quote-card"]');
  assert.equal(await (await card.find('[data-testid="quote-card-text"]')).prop("textContent"), "Dusk over the reeds");
  await waitFor("the quoted image in the card", async () => (await card.findAll('[data-testid="quote-card-image"]')).length === 1);
  assert.match(await card.prop("textContent"), /Ann/);
  await app.shot("desktop-quote-card");
  const reply = await app.postWithText("Those reeds!", 30000);
  const to = await reply.find('[data-testid="post-replying-to"]');
  assert.match(await to.prop("textContent"), /Replying to\s+@Ann/);
  await app.shot("desktop-reply-card");
  // The card opens the quoted post's thread.
  await card.click();
  await waitFor("the quoted post's thread", async () => (await app.s.exec("return location.hash;")) === `#/post/${mine.id}`, 10000);
  await app.nav("home");
});

test("a reply raises a system notification while the app shows another screen", async () => {
  assert.ok(desk.watching, "the tests run on their own D-Bus session (dbus-run-session)");
  await app.nav("home");
  const mine = bob.timeline().find((p) => p.text === "Dusk over the reeds");
  bob.cli(["post", "--reply-to", mine.id, "The light on those reeds"]);
  const raised = await desk.seen("Bob replied", "The light on those reeds", 40000);
  assert.match(raised.app, /starling/);
  // Likes stay inside the app.
  bob.cli(["like", mine.id]);
  await sleep(8000);
  assert.equal(desk.raised().filter((n) => /liked/.test(n.title ?? "")).length, 0);
  const screen = screenPng();
  if (screen) writeFileSync(join(out, "desktop-os-notification.png"), screen);
});

test("a #tag opens the posts tagged so, an @mention the profile of whoever goes by it", async () => {
  bob.cli(["post", "Starlings over the pier #Murmuration, hello @Ann"]);
  bob.cli(["post", "A murmuration with no tag"]);
  await app.nav("home");
  const post = await app.postWithText("Starlings over the pier #Murmuration, hello @Ann", 30000);
  await app.postWithText("A murmuration with no tag", 30000);
  // The right column counts the tag among the people followed this week.
  await waitFor("the tag among the trending", async () => {
    for (const el of await app.s.findAll('[data-testid="trending-tag"]')) {
      if ((await el.prop("textContent")) === "#murmuration") return true;
    }
    return false;
  }, 15000);
  await app.shot("desktop-trending");
  await (await post.find('[data-testid="post-tag"]')).click();
  await waitFor("the tag's search", async () => (await app.s.exec("return location.hash;")) === "#/search?q=%23murmuration", 10000);
  const found = await waitFor("the tagged post alone", async () => {
    const texts = [];
    for (const el of await app.s.findAll('[data-testid="post-text"]')) texts.push(await el.prop("textContent"));
    return texts.length === 1 ? texts : null;
  }, 10000);
  assert.deepEqual(found, ["Starlings over the pier #Murmuration, hello @Ann"]);
  await app.shot("desktop-hashtag-search");
  await (await app.s.waitFind('[data-testid="post-mention"]')).click();
  const me = (await app.invoke("status")).me.identity;
  await waitFor("Ann's profile", async () => (await app.s.exec("return location.hash;")) === `#/profile/${me}`, 10000);
  await app.nav("home");
});

test("a bookmark keeps a post on the Bookmarks screen until it is taken back", async () => {
  await app.nav("home");
  const post = await app.postWithText("Worth a look", 30000);
  const mark = await post.find('[data-testid="post-bookmark"]');
  await mark.click();
  await waitFor("the bookmark pressed", async () => (await mark.attr("aria-pressed")) === "true", 10000);
  await app.nav("bookmarks");
  const kept = await app.postWithText("Worth a look", 10000);
  assert.equal((await app.s.findAll('[data-testid="post"]')).length, 1);
  await app.shot("desktop-bookmarks");
  await (await kept.find('[data-testid="post-bookmark"]')).click();
  await app.s.waitFind('[data-testid="bookmarks-empty"]', 10000);
  await app.nav("home");
});

test("a profile says who follows you and shows their images; who to follow comes from whom people show they follow", async () => {
  const bobId = bob.cli(["whoami"], { json: true }).identity;
  const catId = cat.cli(["whoami"], { json: true }).identity;
  // Whom Bob follows is private until he shows it.
  assert.equal((await app.invoke("profile", { identity: bobId })).follows_you, false);
  bob.cli(["follow", cat.ticket()]);
  bob.cli(["profile", "show-follows", "on"]);
  await app.s.exec(`location.hash = "#/profile/${bobId}"; return 1;`);
  await waitFor("Bob's list at the app", async () => (await app.invoke("profile", { identity: bobId })).follows_you, 30000, 500);
  // The profile loaded before the list came: open it again.
  await app.nav("home");
  await app.s.exec(`location.hash = "#/profile/${bobId}"; return 1;`);
  await app.s.waitFind('[data-testid="profile-follows-you"]', 15000);
  // Who to follow: Cat, whom Bob follows; her code is needed (her key is not held here).
  const suggestion = await app.s.waitFind(`[data-testid="suggestion"][data-id="${catId}"]`, 20000);
  assert.match(await suggestion.prop("textContent"), /Followed by Bob/);
  assert.equal((await suggestion.findAll('[data-testid="suggestion-ask"]')).length, 1);
  await app.shot("desktop-follows-you");
  // The media tab: Bob's posts with images only.
  await app.click("profile-tab-media");
  const texts = await waitFor("Bob's media", async () => {
    const all = [];
    for (const el of await app.s.findAll('[data-testid="post-text"]')) all.push(await el.prop("textContent"));
    return all.length > 0 ? all : null;
  }, 15000);
  assert.deepEqual(texts, ["Two birds"]);
  await app.shot("desktop-profile-media");
  await app.click("profile-tab-posts");
  await app.postWithText("A murmuration with no tag", 15000);
  await app.nav("home");
});

test("follow by loading a QR picture", async () => {
  const png = join(scratch("qr"), "cat.png");
  cat.cli(["ticket", "--png", png]);
  await app.nav("follow");
  const input = await app.s.waitFind('[data-testid="follow-image"]');
  await input.type(png);
  const result = await app.s.waitFind('[data-testid="follow-result"][data-ok="true"]', 20000);
  // Cat has never been online, so the app knows her by identity only.
  const catId = cat.cli(["whoami"], { json: true }).identity;
  const link = await result.find("a");
  assert.ok((await link.attr("href")).endsWith(`#/profile/${catId}`));
  const following = await app.invoke("following");
  assert.ok(following.some((p) => p.identity === catId));
  // Followed now: no longer suggested.
  assert.ok(!(await app.invoke("suggestions")).some((s) => s.profile.identity === catId));
  await app.shot("desktop-follow");
});

test("a starling: link opened while the app runs says what it is, and follows when asked", async () => {
  const eve = new CliPeer("Eve");
  eve.cli(["init", "--name", "Eve"]);
  const eves = eve.cli(["whoami"], { json: true }).identity;
  const uri = eve.cli(["ticket"], { json: true }).uri;
  assert.match(uri, /^starling:starling1/);
  await app.nav("home");
  assert.equal(await app.openLink(uri), 0, "the second start hands the link over and exits");
  const dialog = await app.s.waitFind('[data-testid="link-dialog"]', 20000);
  assert.equal(await dialog.attr("data-kind"), "feed");
  assert.equal(await app.s.exec("return location.hash;"), "#/home", "nothing happens before the user answers");
  await app.shot("desktop-link-opened");
  await app.click("link-accept");
  await waitFor("Eve's profile", async () => (await app.s.exec("return location.hash;")) === `#/profile/${eves}`, 15000);
  const following = await app.invoke("following");
  assert.ok(following.some((p) => p.identity === eves), "Eve is followed");
  await app.nav("home");
});

test("a group: create, invite the CLI peer, exchange posts", async () => {
  await app.nav("groups");
  await app.type("group-name", "Dawn chorus");
  await app.type("group-description", "Who hears the first bird");
  await app.click("group-create");
  const item = await app.s.waitFind('[data-testid="group-item"]');
  group = await item.attr("data-id");
  await (await item.find("a")).click();
  await app.s.waitFind(`[data-testid="group-view"][data-id="${group}"]`);
  await app.click("group-invite");
  const invite = await app.textOf("invite-ticket");
  assert.match(invite, /^starling:starling1/);
  await app.shot("desktop-group-invite");

  bob.cli(["group", "join", invite]);
  bob.cli(["post", "--group", group, "Bob in the chorus"]);
  await app.postWithText("Bob in the chorus", 40000);

  await app.type("compose-text", "Ann hears it too");
  await app.click("compose-submit");
  await app.postWithText("Ann hears it too", 10000);
  await waitFor(
    "the app's group post at the CLI peer",
    () =>
      bob
        .cli(["group", "timeline", group], { json: true })
        .posts.find((p) => p.text === "Ann hears it too"),
    40000,
    1000,
  );
  const members = await app.s.findAll('[data-testid="group-member"]');
  // the member list may be folded; it lists two once opened
  if (members.length === 0) {
    const toggle = await app.s.find('button[aria-expanded="false"]');
    await toggle.click();
  }
  await waitFor("two members", async () => (await app.s.findAll('[data-testid="group-member"]')).length === 2);
  await app.shot("desktop-group");
  // The home timeline does not show group posts.
  await app.nav("home");
  await sleep(500);
  const texts = [];
  for (const el of await app.s.findAll('[data-testid="post-text"]')) texts.push(await el.prop("textContent"));
  assert.ok(!texts.includes("Bob in the chorus"));
});

test("a group the CLI peer made: join by invite, read it, leave it", async () => {
  const roost = bob.cli(["group", "create", "Night roost"], { json: true }).id;
  const invite = bob.cli(["group", "invite", roost], { json: true }).text;
  bob.cli(["post", "--group", roost, "Before you came"]);
  await app.nav("groups");
  await app.type("group-join-ticket", invite);
  await app.click("group-join");
  assert.match(await app.textOf("group-join-result", 20000), /^Joined Night roost\./);
  // Messages are forward secret: Bob's device shares its session with the
  // member devices it knows, so the app reads what Bob writes once Bob has
  // seen it join (and its keys), not what came before.
  await waitFor(
    "the owner to see the app join",
    () => bob.cli(["group", "show", roost], { json: true }).members.length === 2,
    40000,
    1000,
  );
  bob.cli(["post", "--group", roost, "Roosting at nine"]);
  await app.s.exec("location.hash = arguments[0];", `#/group/${roost}`);
  await app.s.waitFind(`[data-testid="group-view"][data-id="${roost}"]`);
  await app.postWithText("Roosting at nine", 40000);
  assert.ok(!(await app.invoke("group_timeline", { id: roost, limit: 50 })).posts.some((p) => p.text === "Before you came"));
  // A member who is not the owner cannot invite; they can leave.
  assert.equal((await app.s.findAll('[data-testid="group-invite"]')).length, 0);
  await app.shot("desktop-group-member");
  await app.click("group-leave");
  await app.click("confirm-yes");
  await app.s.waitFind('[data-testid="group-item"]');
  assert.ok(!(await app.invoke("groups")).some((g) => g.id === roost));
  await waitFor(
    "the owner to see the app leave",
    () => bob.cli(["group", "show", roost], { json: true }).members.length === 1,
    40000,
    1000,
  );
});

test("storage: Settings shows what the store holds by kind and keeps the budgets the user sets", async () => {
  await app.nav("settings");
  await app.s.waitFind('[data-testid="storage-kinds"] tr[data-kind="followed"]', 30000);
  await app.s.waitFind('[data-testid="storage-kinds"] tr[data-kind="own"]');
  await app.s.waitFind('[data-testid="storage-biggest"]');
  // Nothing of others' images kept: the budget is saved and kept to.
  await app.type("storage-media", "0");
  await app.click("storage-save");
  await waitFor("the budget to be saved and kept", async () => {
    const s = await app.invoke("storage");
    const cache = s.kinds.find((k) => k.kind === "media_cache");
    return s.budgets.media_cache_bytes === 0 && (cache === undefined || cache.bytes === 0);
  });
  await app.s.waitFind('[data-testid="notice"]');
  await app.s.exec(`document.querySelector('[data-testid="settings-storage-section"]').scrollIntoView();`);
  await app.shot("desktop-settings-storage");
  // Back to the defaults; a vacuum gives the free pages back.
  await app.type("storage-media", "1000");
  await app.click("storage-save");
  await waitFor("the default budget back", async () => (await app.invoke("storage")).budgets.media_cache_bytes === 1e9);
  await app.click("storage-vacuum");
  await waitFor("the vacuum's toast", async () =>
    app.s.exec(`return [...document.querySelectorAll('[data-testid="notice"]')].some((t) => t.textContent.includes("Reclaimed"));`),
  );
});

test("a bundle is saved and opened through the system's file dialogs", async (t) => {
  if (!canAnswerDialogs()) return t.skip("no X display or xdotool to answer the system's dialogs");
  await app.nav("settings");
  const dir = scratch("bundles");
  // Export: the save dialog, a path typed into it.
  const saved = join(dir, "ann-export.bundle");
  // (The storage test's notices may still cover the bottom of the screen.)
  await waitFor("no notices left", async () => (await app.s.findAll('[data-testid="notice"]')).length === 0, 15000);
  await app.s.exec(`document.querySelector('[data-testid="settings-export"]').scrollIntoView({ block: "center" });`);
  await app.click("settings-export");
  await answerFileDialog("Save a Starling bundle", saved, { shot: join(out, "desktop-save-dialog.png") });
  const shown = await app.s.waitFind('[data-testid="settings-export-path"]', 20000);
  assert.match(await shown.prop("textContent"), /ann-export\.bundle/);
  await waitFor("the bundle on disk", () => existsSync(saved), 10000);
  assert.equal(readFileSync(saved).subarray(0, 8).toString(), "STRLBNDL");
  // Import: Hal, never online, hands over his posts as a file.
  const hal = new CliPeer("Hal");
  hal.cli(["init", "--name", "Hal"]);
  hal.cli(["post", "Hal by bundle"]);
  await app.invoke("follow", { ticket: hal.ticket() });
  const me = (await app.invoke("status")).me.identity;
  const handed = join(dir, "from-hal.bundle");
  hal.cli(["export", "--out", handed, "--for", me]);
  await app.click("settings-import-file");
  await answerFileDialog("Open a Starling bundle", handed, { shot: join(out, "desktop-open-dialog.png") });
  const report = await app.s.waitFind('[data-testid="settings-import-report"]', 20000);
  assert.match(await report.prop("textContent"), /Imported: [1-9]\d* new/);
  await app.shot("desktop-settings-bundles");
  await app.nav("home");
  await app.postWithText("Hal by bundle", 15000);
});

test("a draft survives leaving and Escape, the counter warns near the limit, a delete asks in the app", async () => {
  await app.nav("home");
  const draft = "A thought half-written";
  await app.type("compose-text", draft);
  await app.nav("settings");
  await app.nav("home");
  const box = await app.s.waitFind('[data-testid="compose-text"]');
  assert.equal(await box.prop("value"), draft, "the draft came back after navigating");
  await app.shot("desktop-draft-restored");
  // The dialog (n) shares the feed's draft; Escape closes it and keeps it.
  await app.s.exec("document.activeElement?.blur();");
  await app.s.exec('document.dispatchEvent(new KeyboardEvent("keydown", { key: "n", bubbles: true }));');
  const inDialog = await app.s.waitFind('[role="dialog"] [data-testid="compose-text"]');
  assert.equal(await inDialog.prop("value"), draft);
  await inDialog.type(" more");
  await inDialog.type("\uE00C"); // Escape
  await waitFor("the dialog to close", async () => (await app.s.findAll('[role="dialog"]')).length === 0, 5000);
  const back = await app.s.waitFind('[data-testid="compose-text"]');
  assert.equal(await back.prop("value"), `${draft} more`);
  // The counter: nothing far from the limit, bytes left near it, over it
  // in red with Post disabled.
  const fill = (text) =>
    app.s.exec(
      `const t = document.querySelector('[data-testid="compose-text"]');
       t.value = arguments[0]; t.dispatchEvent(new Event("input", { bubbles: true }));`,
      text,
    );
  assert.equal((await app.s.findAll('[data-testid="compose-counter"]')).length, 0);
  await fill("é".repeat(1950));
  assert.equal(await app.textOf("compose-counter"), "196 left");
  await fill("x".repeat(4100));
  assert.equal(await app.textOf("compose-counter"), "4 over");
  assert.equal(await (await app.s.find('[data-testid="compose-submit"]')).prop("disabled"), true);
  await app.shot("desktop-compose-counter");
  // Posted, the draft is gone.
  await fill("To be deleted");
  await app.click("compose-submit");
  const post = await app.postWithText("To be deleted", 15000);
  assert.equal(await (await app.s.find('[data-testid="compose-text"]')).prop("value"), "");
  // Delete asks in the app's dialog, Cancel first; Cancel keeps the post.
  await (await post.find('[data-testid="post-delete"]')).click();
  await app.s.waitFind('[data-testid="confirm-dialog"]');
  assert.equal(await app.s.exec("return document.activeElement?.dataset.testid;"), "confirm-no");
  await app.shot("desktop-confirm-dialog");
  await app.click("confirm-no");
  await sleep(500);
  assert.ok(await app.postWithText("To be deleted", 2000));
  await (await (await app.postWithText("To be deleted")).find('[data-testid="post-delete"]')).click();
  await app.click("confirm-yes");
  await waitFor("the post to go", async () => !(await app.invoke("timeline", { limit: 50 })).posts.some((p) => p.text === "To be deleted"), 10000);
});

test("screenshots of the main screens at desktop and phone size", async () => {
  // Something in every list: a direct message and a reply that names Ann.
  const status = await app.invoke("status");
  bob.cli(["dm", status.me.identity, "See you at dawn?"]);
  const mine = bob.timeline().find((p) => p.text === "Dusk over the reeds");
  bob.cli(["post", "--reply-to", mine.id, "Lovely light, @Ann"]);
  await app.nav("home");
  await app.postWithText("Lovely light, @Ann", 30000);
  // Unread counts on the tabs (and in the title) until each is looked at.
  const badge = async (name) => {
    const found = await app.s.findAll(`[data-testid="unread-nav-${name}"]`);
    return found.length ? Number(await found[0].prop("textContent")) : 0;
  };
  await waitFor("unread counts on the tabs", async () => (await badge("notifications")) >= 1 && (await badge("messages")) === 1, 30000);
  const title = await app.s.exec("return document.title;");
  assert.match(title, /^\(\d+\) Starling$/);
  // The dock icon's count: the same number, sent on the session bus.
  const total = Number(title.match(/\d+/)[0]);
  if (desk.watching) {
    const shown = await waitFor("the count on the dock icon", () => desk.badges().findLast((b) => b.count === total && b.visible), 10000, 250);
    assert.equal(shown.app, "application://Starling.desktop");
  }
  await app.shot("desktop-unread-counts");
  await app.nav("notifications");
  await waitFor("the notifications read", async () => (await badge("notifications")) === 0, 10000);
  await waitFor("the reply among the notifications", async () => {
    const list = await app.invoke("notifications");
    return list.some((n) => n.kind === "reply" && n.post.text === "Lovely light, @Ann" && n.from_name === "Bob");
  });
  await app.nav("messages");
  await (await app.s.waitFind('[data-testid="conversation-item"]', 30000)).click();
  await waitFor("the conversation read", async () => (await badge("messages")) === 0, 10000);
  if (desk.watching) {
    await waitFor("the dock icon's count gone", () => {
      const last = desk.badges().at(-1);
      return last && last.count === 0 && !last.visible;
    }, 10000, 250);
  }
  await app.nav("messages");
  for (const [name] of [["home"], ["notifications"], ["search"], ["messages"], ["devices"], ["settings"], ["profile"]]) {
    await app.nav(name);
    await app.shot(`desktop-${name}`);
  }
  // The user's own profile (the last one shown) lists whom they follow.
  const follows = await app.s.waitFind('[data-testid="profile-following"]', 10000);
  assert.match(await follows.prop("textContent"), /Following \d+ people/);
  assert.ok((await follows.findAll('[data-testid="profile-following-item"]')).length >= 2);
  // "Sync now" catches up with Bob at once, with no error.
  await app.click("sync-now");
  await waitFor("the sync to finish", async () => (await (await app.s.find('[data-testid="sync-now"]')).prop("disabled")) === false);
  assert.equal((await app.s.findAll('[data-testid="toast"]')).length, 0);
  // The dark theme, chosen in Settings.
  await app.nav("settings");
  const pick = (value) =>
    app.s.exec(
      `const s = document.querySelector('[data-testid="settings-theme"]');
       s.value = arguments[0]; s.dispatchEvent(new Event("change", { bubbles: true }));`,
      value,
    );
  await pick("dark");
  assert.equal(await app.s.exec("return document.documentElement.dataset.theme;"), "dark");
  await app.nav("home");
  await app.shot("desktop-home-dark");
  await app.nav("settings");
  await pick("light");
  // The whole app in German, chosen in Settings, at once and without a reload.
  const speak = (value) =>
    app.s.exec(
      `const s = document.querySelector('[data-testid="settings-language"]');
       s.value = arguments[0]; s.dispatchEvent(new Event("change", { bubbles: true }));`,
      value,
    );
  await app.s.exec("window.__e2eMarker = 2; return 2;");
  await speak("de");
  assert.equal(await app.s.exec("return document.documentElement.lang;"), "de");
  await app.shot("desktop-settings-german");
  await app.nav("home");
  assert.match(await (await app.s.find('[data-testid="nav-home"]')).prop("textContent"), /Startseite/);
  const first = await app.s.waitFind('[data-testid="post-reply"]');
  assert.match(await first.prop("textContent"), /Antworten/);
  assert.equal(await app.s.exec("return window.__e2eMarker;"), 2, "no reload");
  await app.shot("desktop-german");
  await app.nav("settings");
  await speak("system");
  assert.match(await (await app.s.find('[data-testid="nav-home"]')).prop("textContent"), /Home/);
  await app.s.setRect(390, 844);
  await sleep(800);
  const rect = await app.s.exec("return [window.innerWidth, window.innerHeight];");
  assert.ok(rect[0] <= 420, `phone width, got ${rect}`);
  for (const name of ["home", "groups", "messages", "search", "follow", "settings"]) {
    await app.nav(name);
    // No right column on a phone: who to follow is on the Follow screen.
    if (name === "follow") await app.s.waitFind('[data-testid="suggestions"]', 10000);
    await app.shot(`phone-${name}`);
  }
  // the bottom tab bar is the navigation on a phone
  await app.s.waitFind('nav[aria-label] [data-testid="nav-home"]');
});

test("a second device links after both show the same code, and shows the identity's posts", async () => {
  const dan = await new CliPeer("Dan").start();
  let phone;
  try {
    dan.cli(["post", "Dan's first post, from the laptop"]);
    // Linking runs this device's network itself: one endpoint per device,
    // so Dan's `starling run` stops first.
    await dan.stop();
    const linker = dan.linkDevice();
    const link = await linker.ticket();
    phone = await App.launch({ home: join(scratch("phone"), "home"), width: 390, height: 844 });
    await phone.type("onboard-link-ticket", link);
    await phone.shot("phone-onboarding-link");
    await phone.click("onboard-link");
    // Both devices show the same code; the user confirms on both.
    const shown = await phone.textOf("link-code", 30000);
    assert.equal(await linker.code(), shown);
    await phone.shot("phone-onboarding-link-code");
    linker.answer(true);
    await phone.click("link-code-matches");
    await phone.s.waitFind('[data-testid="compose-text"]', 30000);
    const status = await phone.invoke("status");
    assert.equal(status.me.identity, dan.cli(["whoami"], { json: true }).identity);
    await phone.postWithText("Dan's first post, from the laptop", 30000);
    const devices = await waitFor("both devices listed", async () => {
      const list = await phone.invoke("devices");
      return list.length === 2 ? list : null;
    });
    assert.equal(devices.filter((d) => d.this_device).length, 1);
    await phone.nav("devices");
    await phone.shot("phone-devices");
    const ended = await linker.done;
    assert.equal(ended.code, 0, ended.stderr);
  } finally {
    await phone?.quit();
    await dan.stop();
  }
});

test("a lost device comes back from its recovery phrase and a follower", async () => {
  const gus = await new CliPeer("Gus").start();
  let fresh;
  let gusRunning = true;
  try {
    // Gus follows Bob (which writes his account backup into his feed), then
    // posts; Bob follows Gus. Entries of a log arrive in order, so once Bob
    // holds the post he holds the backup before it.
    gus.cli(["follow", bob.ticket()]);
    gus.cli(["post", "Gus before the loss"]);
    bob.cli(["follow", gus.ticket()]);
    await waitFor("Bob holds Gus's post", () => bob.timeline().some((p) => p.text === "Gus before the loss"), 30000);
    const words = gus.cli(["key", "phrase", "--yes"], { json: true }).words;
    assert.equal(words.length, 24);
    const gusId = gus.cli(["whoami"], { json: true }).identity;
    // Gus's device is lost.
    await gus.stop();
    gusRunning = false;
    // A new device: the phrase and Bob's ticket.
    fresh = await App.launch({ home: join(scratch("restored"), "home"), width: 1100, height: 800 });
    await fresh.type("onboard-phrase", words.join(" "));
    await fresh.type("onboard-restore-from", bob.ticket());
    await fresh.shot("desktop-onboarding-restore");
    await fresh.click("onboard-restore");
    const note = await fresh.textOf("restore-result", 60000);
    assert.match(note, /Restored 1 follow,/);
    await fresh.shot("desktop-onboarding-restored");
    await fresh.click("onboard-done");
    await fresh.postWithText("Gus before the loss", 30000);
    const status = await fresh.invoke("status");
    assert.equal(status.me.identity, gusId);
  } finally {
    await fresh?.quit();
    if (gusRunning) await gus.stop();
  }
});

test("the app links a new CLI device after both show the same code", async () => {
  const home = join(scratch("laptop"), "home");
  await app.nav("devices");
  await app.click("device-link");
  const link = await app.textOf("link-ticket");
  const joiner = asking(["--home", home, "--json", "device", "join", link, "--bind", "127.0.0.1:0", "--relay", "none"]);
  const asked = await joiner.code();
  const shown = await app.textOf("link-request-code", 30000);
  assert.equal(shown, asked);
  await app.shot("desktop-devices-link-request");
  joiner.answer(true);
  await app.click("link-accept");
  const ended = await joiner.done;
  assert.equal(ended.code, 0, ended.stderr);
  const me = JSON.parse(ended.stdout);
  const status = await app.invoke("status");
  assert.equal(me.identity, status.me.identity);
  await waitFor("both devices listed", async () => (await app.invoke("devices")).length === 2, 30000);
});
