import { describe, expect, it } from "vitest";
import type { ScannedTicket } from "./api";
import { links, nextLink, queueLinks } from "./links.svelte";

const feed = (n: number): ScannedTicket => ({ ticket: `starling1t${n}`, kind: "feed", identity: `id${n}`, group: null, name: null });

describe("opened links", () => {
  it("show one at a time, in order", () => {
    queueLinks([feed(1), feed(2)]);
    expect(links.showing?.ticket).toBe("starling1t1");
    queueLinks([feed(3)]);
    expect(links.showing?.ticket).toBe("starling1t1");
    nextLink();
    expect(links.showing?.ticket).toBe("starling1t2");
    nextLink();
    expect(links.showing?.ticket).toBe("starling1t3");
    nextLink();
    expect(links.showing).toBeNull();
  });

  it("keep only the newest few waiting", () => {
    queueLinks(Array.from({ length: 20 }, (_, i) => feed(i)));
    expect(links.showing?.ticket).toBe("starling1t12");
    expect(links.waiting.length).toBe(7);
    expect(links.waiting.at(-1)?.ticket).toBe("starling1t19");
    while (links.showing) nextLink();
  });
});
