/// <reference types="vitest/config" />
// Vite builds the UI into `dist/`, which the Tauri shell serves. The dev
// server runs on a fixed port so `tauri dev` can find it.
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { outDir: "dist", target: "es2022", sourcemap: false },
  // Component tests need Svelte's browser build, not its server one.
  resolve: mode === "test" ? { conditions: ["browser"] } : undefined,
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
  },
}));
