/// <reference types="svelte" />
/// <reference types="vite/client" />

interface Window {
  /** ms from process start to the first painted timeline, as the shell measured it */
  __starlingFirstPaint?: number;
}
