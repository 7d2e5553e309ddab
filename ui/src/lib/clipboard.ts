// Copying ticket text to the clipboard.
import { showError, showToast } from "./toasts.svelte";
import { t } from "./i18n";

/** Copies text and says so; shows an error if the clipboard refuses. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    showToast(t("common.copied"));
  } catch (e) {
    showError(e instanceof Error ? t("common.copyFailed", { error: e.message }) : t("common.copyFailedPlain"));
  }
}
