// A small W3C WebDriver client over fetch: just what the end-to-end tests
// use (tauri-driver speaks W3C WebDriver and hands the session to
// WebKitWebDriver, which drives the app's real webview).

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** Waits until `check` returns a truthy value, at most `ms`; returns it. */
export async function waitFor(what, check, ms = 20000, every = 200) {
  const until = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await sleep(every);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class WebDriverError extends Error {
  constructor(status, value) {
    super(`${value?.error ?? status}: ${value?.message ?? ""}`.slice(0, 500));
    this.code = value?.error;
  }
}

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** Opens a session on the WebDriver server at `base` for `capabilities`. */
  static async start(base, capabilities, ms = 60000) {
    const v = await call(base, "POST", "/session", { capabilities: { alwaysMatch: capabilities } }, ms);
    return new Session(base, v.sessionId);
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return new Element(this, v[ELEMENT]);
  }

  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => new Element(this, e[ELEMENT]));
  }

  /** Waits for an element matching `css` to exist. */
  waitFind(css, ms = 20000) {
    return waitFor(css, () => this.find(css), ms);
  }

  /** Runs `script` (a function body) in the page with `args`. */
  exec(script, ...args) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** Runs async `script`; it must call `arguments[arguments.length - 1](result)`. */
  async execAsync(script, ms, ...args) {
    await this.cmd("POST", "/timeouts", { script: ms });
    return this.cmd("POST", "/execute/async", { script, args });
  }

  async screenshot() {
    return Buffer.from(await this.cmd("GET", "/screenshot"), "base64");
  }

  setRect(width, height) {
    return this.cmd("POST", "/window/rect", { width, height });
  }

  async alertText() {
    try {
      return await this.cmd("GET", "/alert/text");
    } catch (e) {
      if (e.code === "no such alert") return null;
      throw e;
    }
  }

  acceptAlert() {
    return this.cmd("POST", "/alert/accept", {});
  }

  async close() {
    try {
      await this.cmd("DELETE", "");
    } catch {
      // the app may already be gone
    }
  }
}

export class Element {
  constructor(session, id) {
    this.s = session;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.s.cmd(method, `/element/${this.id}${path}`, body);
  }

  click() {
    return this.cmd("POST", "/click", {});
  }

  type(text) {
    return this.cmd("POST", "/value", { text });
  }

  clear() {
    return this.cmd("POST", "/clear", {});
  }

  text() {
    return this.cmd("GET", "/text");
  }

  attr(name) {
    return this.cmd("GET", `/attribute/${name}`);
  }

  prop(name) {
    return this.cmd("GET", `/property/${name}`);
  }

  async find(css) {
    const v = await this.cmd("POST", "/element", { using: "css selector", value: css });
    return new Element(this.s, v[ELEMENT]);
  }

  async findAll(css) {
    const v = await this.cmd("POST", "/elements", { using: "css selector", value: css });
    return v.map((e) => new Element(this.s, e[ELEMENT]));
  }
}

async function call(base, method, path, body, ms = 30000) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(ms),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new WebDriverError(res.status, json.value);
  return json.value;
}
