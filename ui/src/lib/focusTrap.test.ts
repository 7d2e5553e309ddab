import { describe, expect, it } from "vitest";
import { nextIndex, trapFocus } from "./focusTrap";

describe("the focus trap", () => {
  it("goes around the ends, never out", () => {
    expect(nextIndex(0, 3, false)).toBe(1);
    expect(nextIndex(2, 3, false)).toBe(0);
    expect(nextIndex(0, 3, true)).toBe(2);
    expect(nextIndex(-1, 3, false)).toBe(0);
    expect(nextIndex(-1, 3, true)).toBe(2);
    expect(nextIndex(-1, 0, false)).toBe(-1);
  });

  it("takes focus in, keeps Tab inside and gives focus back", () => {
    document.body.innerHTML = `<button id="outside">out</button>
      <div id="dialog"><button id="a">a</button><button id="b" data-autofocus>b</button></div>`;
    const outside = document.getElementById("outside") as HTMLElement;
    outside.focus();
    const dialog = document.getElementById("dialog") as HTMLElement;
    const release = trapFocus(dialog);
    expect(document.activeElement?.id).toBe("b");
    const tab = (shiftKey: boolean) =>
      (document.activeElement as HTMLElement).dispatchEvent(
        new KeyboardEvent("keydown", { key: "Tab", shiftKey, bubbles: true, cancelable: true }),
      );
    tab(false);
    expect(document.activeElement?.id).toBe("a");
    tab(false);
    expect(document.activeElement?.id).toBe("b");
    tab(true);
    expect(document.activeElement?.id).toBe("a");
    tab(true);
    expect(document.activeElement?.id).toBe("b");
    release();
    expect(document.activeElement?.id).toBe("outside");
  });
});
