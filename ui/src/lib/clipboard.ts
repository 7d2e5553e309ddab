// Copying ticket text to the clipboard.
import { showError, showToast } from "./toasts.svelte";

/** Copies text and says so; shows an error if the clipboard refuses. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    showToast("Copied to the clipboard.");
  } catch (e) {
    showError(e instanceof Error ? `Could not copy: ${e.message}` : "Could not copy to the clipboard.");
  }
}
