import { describe, expect, it } from "vitest";
import { closeViewer, openViewer, stepIndex, stepViewer, viewer } from "./viewer.svelte";

describe("stepIndex", () => {
  it("moves forward and back", () => {
    expect(stepIndex(0, 1, 3)).toBe(1);
    expect(stepIndex(2, -1, 3)).toBe(1);
  });
  it("goes around the ends", () => {
    expect(stepIndex(2, 1, 3)).toBe(0);
    expect(stepIndex(0, -1, 3)).toBe(2);
  });
  it("stays put with one image or none", () => {
    expect(stepIndex(0, 1, 1)).toBe(0);
    expect(stepIndex(0, -1, 0)).toBe(0);
  });
});

describe("the viewer", () => {
  it("opens on an image, steps between them and closes", () => {
    openViewer({ owner: "o", images: ["a", "b"], alts: ["first", ""], index: 1, by: "Ann" });
    expect(viewer.showing?.index).toBe(1);
    stepViewer(1);
    expect(viewer.showing?.index).toBe(0);
    stepViewer(-1);
    expect(viewer.showing?.images[viewer.showing.index]).toBe("b");
    closeViewer();
    expect(viewer.showing).toBeNull();
  });
});
