// Reading files the user picks, drops or pastes into what the shell takes:
// base64 text and, for images, a checked MIME type.
import type { ImageInput } from "./api";
import { t } from "./i18n";

/** Image types a post or avatar may carry. */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
/** The largest image accepted, in bytes. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
/** The most images one post may carry. */
export const MAX_IMAGES = 4;
/** Longest image description the compose box takes, in UTF-16 units:
 *  at most 4,000 bytes of UTF-8, the core's limit, whatever the script. */
export const MAX_ALT_CHARS = 1000;

/** Base64 of raw bytes (chunked so large files don't overflow the call stack). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Base64 of UTF-8 text. */
export function textToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

/** Reads a file or blob as base64, without the `data:` prefix. */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result ?? "");
      const comma = url.indexOf(",");
      resolve(comma >= 0 ? url.slice(comma + 1) : "");
    };
    reader.onerror = () => reject(t("files.readFailed", { error: reader.error?.message ?? t("files.unknownError") }));
    reader.readAsDataURL(file);
  });
}

/** Why an image can't be attached, or null if it can. */
export function imageProblem(file: { name?: string; type: string; size: number }): string | null {
  const label = file.name ? t("files.named", { name: file.name }) : t("files.theImage");
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) {
    return t("files.notImage", { label });
  }
  if (file.size > MAX_IMAGE_BYTES) return t("files.tooLarge", { label });
  return null;
}

/** Reads an image for upload; rejects with a readable message if it is not allowed. */
export async function readImage(file: File): Promise<ImageInput> {
  const problem = imageProblem(file);
  if (problem) throw problem;
  return { base64: await readBase64(file), mime: file.type };
}

/** A `data:` URL for showing an image input (previews never need a blob: URL). */
export function imageDataUrl(image: ImageInput): string {
  return `data:${image.mime};base64,${image.base64}`;
}

/** A `data:` URL for an SVG string, so it is shown as an image and never inlined as markup. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${textToBase64(svg)}`;
}

/** The image files among a drop's or a paste's items. */
export function imageFiles(list: FileList | DataTransfer | null | undefined): File[] {
  if (!list) return [];
  const files = "files" in list ? list.files : list;
  return Array.from(files).filter((f) => f.type.startsWith("image/"));
}

/** The image chosen in a file input's change `event`, read and checked;
 * null when nothing was chosen. Rejects with a message for a bad file. */
export async function pickedImage(event: Event): Promise<ImageInput | null> {
  const file = (event.currentTarget as HTMLInputElement | null)?.files?.[0];
  return file ? readImage(file) : null;
}
