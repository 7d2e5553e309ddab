// App benchmarks, in the end-to-end harness (release build, under Xvfb):
//
// 1. Start to first timeline paint: from the app process starting (the
//    shell's clock) to the UI having painted the first page of the home
//    timeline (two animation frames after it rendered), with 100,000 posts
//    stored, against the same profile shape with no posts (the baseline).
// 2. Scrolling 10,000 posts: the timeline is scrolled 400 px per animation
//    frame, loading pages of 50 as it goes, until post 10,000 is the first
//    row in view; frame times are recorded. Dropped frames count how many
//    60 Hz frames each interval missed. Baselines in the same window:
//    scrolling back up over the loaded rows (no page loads, heights known),
//    a plain static page of 10,000 text rows scrolled the same way (what
//    the webview itself manages here: software painting under Xvfb), and
//    the same number of frames (at most 1,200) with no scrolling.
//
// Run: `bash scripts/e2e.sh bench` (figures go to stdout and
// tests/e2e/out/bench.json).

import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { App, scratch, join, out, writeFileSync, waitFor } from "./harness.mjs";

const seed = process.env.STARLING_SEED;
const POSTS = Number(process.env.STARLING_BENCH_POSTS ?? 100000);
const RUNS = 3;
/** Pixels scrolled per frame: 400 at 60 Hz is a fast fling (24,000 px/s). */
const STEP = Number(process.env.STARLING_BENCH_STEP ?? 400);
const results = {};

function seeded(posts) {
  const home = join(scratch(`seed-${posts}`), "home");
  const text = execFileSync(seed, [home, String(posts)], { encoding: "utf8", timeout: 600000 });
  console.log(`# seeded ${posts} posts: ${text.trim()}`);
  return home;
}

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function firstPaint(home) {
  const app = await App.launch({ home, width: 1280, height: 800 });
  try {
    const ms = await waitFor("first paint", () => app.s.exec("return window.__starlingFirstPaint ?? null;"), 60000, 50);
    const shown = await app.s.exec('return document.querySelectorAll("[data-testid=post]").length;');
    return { ms, shown };
  } finally {
    await app.quit();
  }
}

let big, empty;

test("start to first timeline paint", async () => {
  assert.ok(seed, "STARLING_SEED names the seed example");
  big = seeded(POSTS);
  empty = seeded(0);
  const withPosts = [];
  const without = [];
  for (let i = 0; i < RUNS; i++) {
    const a = await firstPaint(big);
    assert.ok(a.shown > 0, "the timeline shows posts");
    withPosts.push(a.ms);
    without.push((await firstPaint(empty)).ms);
  }
  results.first_paint = {
    posts: POSTS,
    runs_ms: withPosts,
    baseline_runs_ms: without,
    median_ms: median(withPosts),
    baseline_median_ms: median(without),
    ratio: median(withPosts) / median(without),
  };
  console.log(
    `# first timeline paint with ${POSTS} posts: median ${median(withPosts)} ms (runs ${withPosts.join(", ")}); ` +
      `with none: ${median(without)} ms (runs ${without.join(", ")}); ratio ${(median(withPosts) / median(without)).toFixed(2)}`,
  );
});

// Starts a scroll in the page that runs until the first row in view is
// row `want` (pages load as it goes), recording every frame's time, then idles as
// many frames (at most 1,200); the result lands in window.__scroll.
const SCROLL = `
  const [want, step] = [arguments[0], arguments[1]];
  const el = document.querySelector('[data-testid="timeline-scroller"]');
  const down = [];
  const up = [];
  const idle = [];
  const phases = { down, up, idle };
  let last = null;
  let phase = "down";
  let idleLeft = 0;
  // Frames spent at the end of what is loaded (waiting for the next page).
  let stalled = 0;
  const deadline = performance.now() + 240000;
  window.__scroll = null;
  function frame(t) {
    if (last !== null) phases[phase].push(t - last);
    last = t;
    const count = Number(el.dataset.count);
    if (performance.now() > deadline) {
      window.__scroll = { error: "deadline", down, up, idle, count, stalled };
      return;
    }
    if (phase === "down") {
      const before = el.scrollTop;
      el.scrollTop += step;
      if (el.scrollTop === before) stalled++;
      if (Number(el.dataset.first) >= want) {
        phase = "up";
        last = null;
      }
    } else if (phase === "up") {
      el.scrollTop -= step;
      if (el.scrollTop <= 0) {
        phase = "idle";
        idleLeft = Math.min(down.length, 1200);
        last = null;
      }
    } else if (--idleLeft <= 0) {
      window.__scroll = { down, up, idle, count, stalled };
      return;
    }
    requestAnimationFrame(frame);
  }
  requestAnimationFrame(frame);
  return true;
`;

// The paint baseline: the same window scrolling a plain static page of
// 10,000 text rows (no framework, nothing loaded) for 1,200 frames.
const STATIC = `
  const step = arguments[0];
  const box = document.createElement("div");
  box.style.cssText = "position:fixed;inset:0;overflow-y:scroll;background:#fff;z-index:9999";
  for (let i = 0; i < 10000; i++) {
    const r = document.createElement("div");
    r.style.cssText = "padding:12px 16px;border-bottom:1px solid #ddd;font:15px sans-serif";
    r.textContent = "Static row " + i + " starling murmuration flock wing dusk reed marsh song nest feather";
    box.appendChild(r);
  }
  document.body.appendChild(box);
  const frames = [];
  let last = null;
  window.__static = null;
  function frame(t) {
    if (last !== null) frames.push(t - last);
    last = t;
    box.scrollTop += step;
    if (frames.length < 1200) requestAnimationFrame(frame);
    else { box.remove(); window.__static = frames; }
  }
  requestAnimationFrame(frame);
  return true;
`;

function stats(dts) {
  const budget = 1000 / 60;
  const dropped = dts.reduce((n, dt) => n + Math.max(0, Math.round(dt / budget) - 1), 0);
  const sorted = [...dts].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  return {
    frames: dts.length,
    dropped,
    dropped_pct: (100 * dropped) / (dts.length + dropped),
    p50_ms: pct(0.5),
    p99_ms: pct(0.99),
    fps: (1000 * dts.length) / dts.reduce((a, b) => a + b, 0),
  };
}

test("scroll through 10,000 posts", async () => {
  big ??= seeded(POSTS);
  const app = await App.launch({ home: big, width: 1280, height: 800 });
  try {
    await waitFor("first paint", () => app.s.exec("return window.__starlingFirstPaint ?? null;"), 60000, 50);
    const t0 = Date.now();
    await app.s.exec(SCROLL, 10000, STEP);
    const r = await waitFor("the scroll to finish", () => app.s.exec("return window.__scroll;"), 300000, 2000);
    if (r.error) {
      const s = stats(r.down);
      console.log(
        `# scroll stopped at ${r.count} posts: ${s.frames} frames, p50 ${s.p50_ms.toFixed(1)} ms, p99 ${s.p99_ms.toFixed(1)} ms, ${s.fps.toFixed(1)} fps; ${r.stalled} frames waiting for a page`,
      );
    }
    assert.ok(!r.error, `scroll ended early: ${r.error} at ${r.count} posts`);
    assert.ok(r.count >= 10000, `loaded ${r.count}`);
    const scroll = stats(r.down);
    const back = stats(r.up);
    const idle = stats(r.idle);
    await app.s.exec(STATIC, STEP);
    const plain = stats(await waitFor("the static scroll", () => app.s.exec("return window.__static;"), 120000, 1000));
    results.scroll = {
      posts: r.count,
      step_px: STEP,
      seconds: (Date.now() - t0) / 1000,
      scroll,
      back_up_loaded: back,
      static_page_baseline: plain,
      idle_baseline: idle,
      fps_ratio_vs_static: scroll.fps / plain.fps,
    };
    const f = (s) =>
      `${s.frames} frames, ${s.dropped} dropped (${s.dropped_pct.toFixed(1)} %), p50 ${s.p50_ms.toFixed(1)} ms, p99 ${s.p99_ms.toFixed(1)} ms, ${s.fps.toFixed(1)} fps`;
    console.log(`# scroll down through ${r.count} posts (${STEP} px/frame, loading pages): ${f(scroll)}; ${r.stalled} frames waiting for a page`);
    console.log(`# scroll back up over the loaded posts: ${f(back)}`);
    console.log(`# baseline, a static page of 10,000 plain rows: ${f(plain)}`);
    console.log(`# baseline, no scrolling: ${f(idle)}`);
    console.log(`# frame rate, timeline / static page: ${(scroll.fps / plain.fps).toFixed(2)}`);
  } finally {
    await app.quit();
  }
});

after(() => {
  writeFileSync(join(out, "bench.json"), JSON.stringify(results, null, 2));
});
