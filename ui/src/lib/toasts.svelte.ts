// Messages shown briefly in the corner: every failed call ends up here
// instead of crashing a screen.

import { t } from "./i18n";

/** One message on screen. */
export interface Toast {
  id: number;
  text: string;
  kind: "error" | "info";
}

let nextId = 1;

/** The toasts on screen, oldest first. */
export const toasts = $state<Toast[]>([]);

/** Shows a message; errors stay until dismissed, notices fade after a few seconds. */
export function showToast(text: string, kind: Toast["kind"] = "info"): void {
  const id = nextId++;
  toasts.push({ id, text, kind });
  if (toasts.length > 5) toasts.splice(0, toasts.length - 5);
  if (kind === "info") setTimeout(() => dismissToast(id), 4000);
}

/** Shows whatever a rejected call gave (the shell rejects with a `{ kind, message }` object). */
export function showError(error: unknown): void {
  showToast(errorText(error), "error");
}

/** The readable text of a rejection: a string, an Error, or a `{ kind, message }` object. */
export function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  if (error && typeof error === "object" && "message" in error) return String(error.message);
  return t("common.somethingWrong");
}

export function dismissToast(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

/** Runs a call; on failure shows the error and gives back `undefined`. */
export async function attempt<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    showError(e);
    return undefined;
  }
}
