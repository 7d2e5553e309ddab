import { describe, expect, it } from "vitest";
import { bytesToBase64, imageProblem, readBase64, readImage, svgDataUrl, textToBase64 } from "./files";

describe("base64 file reading", () => {
  it("encodes bytes", () => {
    expect(bytesToBase64(new Uint8Array([]))).toBe("");
    expect(bytesToBase64(new Uint8Array([0, 1, 2, 253, 254, 255]))).toBe("AAEC/f7/");
  });

  it("encodes large inputs without overflowing", () => {
    const bytes = new Uint8Array(200_000).fill(65);
    expect(atob(bytesToBase64(bytes)).length).toBe(200_000);
  });

  it("encodes UTF-8 text", () => {
    expect(textToBase64("é<svg/>")).toBe(btoa("\xc3\xa9<svg/>"));
  });

  it("reads a blob without the data: prefix", async () => {
    const blob = new Blob([new Uint8Array([104, 105, 0, 255])], { type: "application/octet-stream" });
    expect(await readBase64(blob)).toBe("aGkA/w==");
  });

  it("reads an allowed image with its type", async () => {
    const file = new File([new Uint8Array([137, 80, 78, 71])], "a.png", { type: "image/png" });
    expect(await readImage(file)).toEqual({ base64: "iVBORw==", mime: "image/png" });
  });

  it("refuses other types and large files", async () => {
    expect(imageProblem({ name: "x.svg", type: "image/svg+xml", size: 10 })).toMatch(/not a PNG/);
    expect(imageProblem({ name: "big.jpg", type: "image/jpeg", size: 5 * 1024 * 1024 + 1 })).toMatch(/larger than 5 MB/);
    expect(imageProblem({ type: "image/webp", size: 5 * 1024 * 1024 })).toBeNull();
    const svg = new File(["<svg/>"], "x.svg", { type: "image/svg+xml" });
    await expect(readImage(svg)).rejects.toMatch(/not a PNG/);
  });

  it("wraps an SVG as a data URL", () => {
    expect(svgDataUrl("<svg/>")).toBe(`data:image/svg+xml;base64,${btoa("<svg/>")}`);
  });
});
