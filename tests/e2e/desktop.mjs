// The desktop around the app, for what happens outside its window: the
// system's notifications (a notification daemon on the test's own D-Bus
// session, watched with dbus-monitor) and a photograph of the whole
// virtual screen (xwd, turned into a PNG here).

import { spawn, execFileSync } from "node:child_process";
import { deflateSync } from "node:zlib";
import { writeFileSync } from "node:fs";
import { waitFor } from "./webdriver.mjs";

function have(cmd) {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A notification daemon (dunst) and a record of every `Notify` call on
 *  the session bus. */
export class Notifications {
  static start() {
    const n = new Notifications();
    if (!process.env.DBUS_SESSION_BUS_ADDRESS || !have("dbus-monitor")) return n;
    n.monitor = spawn(
      "dbus-monitor",
      ["--session", "interface='org.freedesktop.Notifications',member='Notify'", "type='signal',interface='com.canonical.Unity.LauncherEntry'"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    n.monitor.stdout.on("data", (d) => (n.log += d));
    if (have("dunst")) n.daemon = spawn("dunst", [], { stdio: "ignore" });
    return n;
  }

  constructor() {
    this.log = "";
    this.monitor = null;
    this.daemon = null;
  }

  /** Whether notifications can be watched here at all. */
  get watching() {
    return this.monitor !== null;
  }

  /** The titles and bodies of the notifications raised so far. */
  raised() {
    const calls = this.messages().filter((m) => /member=Notify\b/.test(m));
    return calls.map((call) => {
      const strings = [...call.matchAll(/^\s+string "(.*)"$/gm)].map((m) => m[1]);
      // Notify(app_name, replaces_id, app_icon, summary, body, …)
      return { app: strings[0], title: strings[2], body: strings[3] };
    });
  }

  /** Every message recorded, one string each. */
  messages() {
    return this.log.split(/^(?=method call |signal )/m).filter((m) => /^(method call|signal) /.test(m));
  }

  /** The counts sent for the app's dock icon (Unity's LauncherEntry
   *  signal), oldest first: `{app, count, visible}`. */
  badges() {
    return this.messages()
      .filter((m) => /interface=com\.canonical\.Unity\.LauncherEntry; member=Update/.test(m))
      .map((m) => ({
        app: m.match(/^\s+string "(application:\/\/[^"]*)"$/m)?.[1],
        count: Number(m.match(/string "count"\s+variant\s+int64 (\d+)/)?.[1]),
        visible: m.match(/string "count-visible"\s+variant\s+boolean (\w+)/)?.[1] === "true",
      }));
  }

  /** Waits for a notification with this title and body. */
  seen(title, body, ms = 30000) {
    return waitFor(
      `a system notification ${JSON.stringify(title)}: ${JSON.stringify(body)}`,
      () => this.raised().find((n) => n.title === title && n.body === body),
      ms,
      250,
    );
  }

  stop() {
    for (const p of [this.monitor, this.daemon]) p?.kill("SIGTERM");
  }
}

function xdotool(args) {
  return execFileSync("xdotool", args, { stdio: ["ignore", "pipe", "ignore"] }).toString();
}

/** Whether the system's dialogs can be answered here (xdotool on an X display). */
export function canAnswerDialogs() {
  return Boolean(process.env.DISPLAY) && have("xdotool");
}

/** Answers the system's file dialog titled `title` (GTK's file chooser,
 *  outside the webview, where WebDriver cannot reach) as a person would:
 *  focus it, open its location field (Ctrl+L), type `path` over what is
 *  there, press Enter. Resolves once the dialog has gone. `shot`: a PNG
 *  path for the whole screen with the dialog filled in (and, if it does
 *  not close, with `-stuck` added to its name). */
export async function answerFileDialog(title, path, { shot = null, ms = 20000 } = {}) {
  const find = () => {
    try {
      return xdotool(["search", "--onlyvisible", "--name", `^${title}$`]).trim().split("\n")[0] || null;
    } catch {
      return null;
    }
  };
  const id = await waitFor(`the dialog ${JSON.stringify(title)}`, find, ms, 250);
  xdotool(["windowfocus", "--sync", id]);
  xdotool(["key", "--clearmodifiers", "ctrl+l"]);
  xdotool(["key", "--clearmodifiers", "ctrl+a"]);
  xdotool(["type", "--delay", "15", path]);
  // (The chooser completes the typed path; Enter counts once it has.)
  await new Promise((r) => setTimeout(r, 700));
  if (shot) photograph(shot);
  xdotool(["key", "--clearmodifiers", "Return"]);
  try {
    await waitFor(`the dialog ${JSON.stringify(title)} closed`, () => find() === null, ms, 250);
  } catch (e) {
    if (shot) photograph(shot.replace(/\.png$/, "-stuck.png"));
    throw e;
  }
}

/** Saves a PNG of the whole screen at `path` (nothing where xwd is missing). */
function photograph(path) {
  const png = screenPng();
  if (png) writeFileSync(path, png);
}

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(bytes) {
  let c = -1;
  for (const b of bytes) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "ascii");
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, sum]);
}

function shift(mask) {
  let s = 0;
  while (mask && !(mask & 1)) {
    mask >>>= 1;
    s++;
  }
  return s;
}

/** A PNG of an XWD picture in ZPixmap format, 24 or 32 bits per pixel. */
export function xwdToPng(xwd) {
  const h = (i) => xwd.readUInt32BE(i * 4);
  const [headerSize, format, width, height, byteOrder, bpp, stride] = [h(0), h(2), h(4), h(5), h(7), h(11), h(12)];
  const [red, green, blue, ncolors] = [h(14), h(15), h(16), h(19)];
  if (format !== 2 || (bpp !== 32 && bpp !== 24)) throw new Error(`xwd: format ${format}, ${bpp} bits per pixel`);
  const start = headerSize + ncolors * 12;
  const step = bpp / 8;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  const [rs, gs, bs] = [shift(red), shift(green), shift(blue)];
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const at = start + y * stride + x * step;
      const v =
        step === 4
          ? byteOrder === 0
            ? xwd.readUInt32LE(at)
            : xwd.readUInt32BE(at)
          : byteOrder === 0
            ? xwd.readUIntLE(at, 3)
            : xwd.readUIntBE(at, 3);
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = (v & red) >>> rs;
      raw[o + 1] = (v & green) >>> gs;
      raw[o + 2] = (v & blue) >>> bs;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A PNG of the whole virtual screen, or null where xwd is missing. */
export function screenPng() {
  if (!process.env.DISPLAY || !have("xwd")) return null;
  return xwdToPng(execFileSync("xwd", ["-root", "-silent"], { maxBuffer: 64 << 20 }));
}
