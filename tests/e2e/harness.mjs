// Processes for the end-to-end tests: the app under tauri-driver (with
// Debian's WebKitWebDriver), and CLI peers on loopback. Every peer keeps
// relays and public discovery off; every wait is bounded.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session, waitFor, sleep } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const target = process.env.CARGO_TARGET_DIR ?? join(root, "target");

/** Binaries under test, from the environment or the Cargo target folder. */
export const bins = {
  app: process.env.STARLING_APP ?? join(target, "debug", "starling-app"),
  cli: process.env.STARLING_BIN ?? join(target, "debug", "starling"),
  driver: process.env.TAURI_DRIVER ?? "tauri-driver",
  native: process.env.WEBKIT_WEBDRIVER ?? "/usr/bin/WebKitWebDriver",
};

/** Where screenshots and logs go (not committed). */
export const out = process.env.STARLING_E2E_OUT ?? join(root, "tests", "e2e", "out");
mkdirSync(out, { recursive: true });

/** A fresh temporary folder. */
export function scratch(name) {
  return mkdtempSync(join(tmpdir(), `starling-e2e-${name}-`));
}

/** The loopback-only network settings every app and peer here uses. */
export const loopbackEnv = {
  STARLING_BIND: "127.0.0.1:0",
  STARLING_RELAY: "none",
  STARLING_LOCAL_DISCOVERY: "0",
};

let nextPort = 4444 + (process.pid % 200) * 2;

/** The app in a real window, driven over WebDriver. */
export class App {
  static async launch({ home, width, height, env = {} } = {}) {
    const port = nextPort;
    nextPort += 2;
    // Output goes straight to a file: no pipe for a stray app to hold open.
    const log = openSync(join(out, `driver-${port}.log`), "w");
    // Its own process group, so quitting ends WebKitWebDriver and the app too.
    const driver = spawn(
      bins.driver,
      ["--port", String(port), "--native-port", String(port + 1), "--native-driver", bins.native],
      {
        env: { ...process.env, ...loopbackEnv, STARLING_HOME: home, ...env },
        stdio: ["ignore", log, log],
        detached: true,
      },
    );
    closeSync(log);
    const base = `http://127.0.0.1:${port}`;
    await waitFor("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 15000, 100);
    const launchedAt = Date.now();
    const session = await Session.start(base, {
      "tauri:options": { application: bins.app },
    });
    const app = new App(driver, session, home, launchedAt);
    if (width && height) await session.setRect(width, height);
    return app;
  }

  constructor(driver, session, home, launchedAt) {
    this.driver = driver;
    this.s = session;
    this.home = home;
    this.launchedAt = launchedAt;
  }

  /** Calls one of the shell's commands from the page, as the UI does. */
  async invoke(cmd, args = {}) {
    const r = await this.s.execAsync(
      `const done = arguments[arguments.length - 1];
       window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
         .then((v) => done({ ok: v }), (e) => done({ err: String(e) }));`,
      30000,
      cmd,
      args,
    );
    if (r.err !== undefined) throw new Error(`${cmd}: ${r.err}`);
    return r.ok;
  }

  /** Starts the app's binary again with `uri`, as a browser, a phone's
   *  camera or `xdg-open` would: the running app (same profile) takes the
   *  link and the new process exits. Resolves its exit status. */
  openLink(uri) {
    const child = spawn(bins.app, [uri], {
      env: { ...process.env, ...loopbackEnv, STARLING_HOME: this.home },
      stdio: "ignore",
    });
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("the second start did not hand its link over within 20 s"));
      }, 20000);
      child.once("exit", (code) => {
        clearTimeout(t);
        resolve(code);
      });
    });
  }

  /** Clicks the element `testid` names (waiting for it). */
  async click(testid, ms) {
    const el = await this.s.waitFind(`[data-testid="${testid}"]`, ms);
    await el.click();
    return el;
  }

  /** Types into the element `testid` names. */
  async type(testid, text) {
    const el = await this.s.waitFind(`[data-testid="${testid}"]`);
    await el.clear().catch(() => {});
    await el.type(text);
    return el;
  }

  /** The text of the element `testid` names, once it is not empty. */
  textOf(testid, ms) {
    return waitFor(
      `text of ${testid}`,
      async () => (await (await this.s.find(`[data-testid="${testid}"]`)).prop("textContent"))?.trim(),
      ms,
    );
  }

  /** Goes to a screen by its navigation button (through "More" on phones). */
  async nav(name) {
    const direct = await this.s.findAll(`[data-testid="nav-${name}"]`);
    if (direct.length === 0) await this.click("nav-more");
    await this.click(`nav-${name}`);
    await sleep(300);
  }

  /** The post element whose text is exactly `text`, once it shows. */
  postWithText(text, ms = 30000) {
    return waitFor(
      `a post reading ${JSON.stringify(text)}`,
      async () => {
        for (const el of await this.s.findAll('[data-testid="post"]')) {
          const t = await (await el.find('[data-testid="post-text"]')).prop("textContent");
          if (t === text) return el;
        }
        return null;
      },
      ms,
      250,
    );
  }

  /** Saves a screenshot as `name.png` (after the frame settles). */
  async shot(name) {
    await sleep(600);
    const png = await this.s.screenshot();
    writeFileSync(join(out, `${name}.png`), png);
    return png;
  }

  async quit() {
    await this.s.close();
    const group = (signal) => {
      try {
        process.kill(-this.driver.pid, signal);
      } catch {
        // already gone
      }
    };
    group("SIGTERM");
    await new Promise((r) => {
      if (this.driver.exitCode !== null || this.driver.signalCode !== null) return r();
      const t = setTimeout(r, 5000);
      this.driver.once("exit", () => {
        clearTimeout(t);
        r();
      });
    });
    await sleep(300);
    group("SIGKILL");
  }
}

/** A `starling` command that asks whether two devices show the same
 * code: `code` resolves the code it asks about, `answer` types the reply,
 * `done` resolves `{code, stdout, stderr}` when it exits. */
export function asking(args) {
  const child = spawn(bins.cli, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return {
    stdout: () => stdout,
    code: () => waitFor("the confirmation question", () => stderr.match(/show the code (\d{3} \d{3})\?/)?.[1], 30000),
    answer: (yes) => child.stdin.write(yes ? "y\n" : "n\n"),
    done: new Promise((resolve) => child.once("exit", (code) => resolve({ code, stdout, stderr }))),
  };
}

/** A CLI peer: its own home and a `starling run` on loopback. */
export class CliPeer {
  constructor(name) {
    this.name = name;
    this.home = scratch(name.toLowerCase());
    this.events = [];
  }

  /** Runs a `starling` command against this peer's home; JSON when asked. */
  cli(args, { json = false } = {}) {
    const full = ["--home", this.home, ...(json ? ["--json"] : []), ...args];
    const text = execFileSync(bins.cli, full, { encoding: "utf8", timeout: 60000 });
    return json ? JSON.parse(text) : text;
  }

  async start() {
    this.cli(["init", "--name", this.name]);
    this.run = spawn(
      bins.cli,
      ["--home", this.home, "--json", "run", "--bind", "127.0.0.1:0", "--relay", "none", "--no-local-discovery", "--sync-interval", "5"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let buf = "";
    this.run.stdout.on("data", (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.events.push(JSON.parse(line));
        } catch {
          // not an event line
        }
      }
    });
    await waitFor(`${this.name} listening`, () => this.events.find((e) => e.kind === "listening"), 20000);
    return this;
  }

  ticket() {
    return this.cli(["ticket"]).trim();
  }

  /** Runs `starling device link` for this identity: resolves the link
   * code it prints, then the confirmation code it asks about; `answer`
   * types the user's reply; `done` resolves when it exits. */
  linkDevice() {
    const link = asking(["--home", this.home, "device", "link", "--bind", "127.0.0.1:0", "--relay", "none"]);
    return {
      ...link,
      ticket: () => waitFor("a link code", () => link.stdout().split(/\s+/).find((w) => w.startsWith("starling1")), 20000),
    };
  }

  /** The home timeline's posts, newest first. */
  timeline() {
    return this.cli(["timeline", "--limit", "100"], { json: true }).posts;
  }

  async stop() {
    if (!this.run) return;
    this.run.kill("SIGTERM");
    await new Promise((r) => {
      const t = setTimeout(() => {
        this.run.kill("SIGKILL");
        r();
      }, 5000);
      this.run.once("exit", () => {
        clearTimeout(t);
        r();
      });
    });
    writeFileSync(join(out, `${this.name}-run.log`), this.events.map((e) => JSON.stringify(e)).join("\n"));
  }
}

export { readFileSync, existsSync, writeFileSync, join, root, sleep, waitFor };
