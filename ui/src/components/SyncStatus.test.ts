import { cleanup, render } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import { network, reachLabel } from "../lib/network.svelte";
import SyncStatus from "./SyncStatus.svelte";

vi.mock("@tauri-apps/api/core", () => ({ invoke: vi.fn(() => Promise.resolve()) }));
vi.mock("@tauri-apps/api/event", () => ({ listen: vi.fn(() => Promise.resolve(() => {})) }));

describe("SyncStatus", () => {
  afterEach(cleanup);

  it("says when peers are reached only through a relay, or not at all", () => {
    expect(reachLabel(false, "direct")).toBe("Offline");
    expect(reachLabel(true, "direct")).toBe("Online");
    expect(reachLabel(true, "relay")).toBe("Online, through a relay only");
    expect(reachLabel(true, null)).toBe("Online, no peer reached yet");
  });

  it("colours the dot by the best path", () => {
    network.online = true;
    network.reach = "relay";
    const { getByTestId, unmount } = render(SyncStatus);
    const status = getByTestId("sync-status");
    expect(status.dataset.reach).toBe("relay");
    expect(status.querySelector(".dot")?.classList.contains("relayed")).toBe(true);
    expect(status.textContent).toContain("through a relay only");
    unmount();
    network.reach = null;
    const again = render(SyncStatus).getByTestId("sync-status");
    expect(again.dataset.reach).toBe("none");
    expect(again.querySelector(".dot")?.classList.contains("alone")).toBe(true);
  });
});
