// Starts the app: applies the theme and the language, installs the dev
// mock outside Tauri, and mounts the root component.
import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { applyLanguage } from "./lib/i18n";
import { applyTheme, loadTheme } from "./lib/theme";

applyTheme(loadTheme());
applyLanguage();

async function start(): Promise<void> {
  if (import.meta.env.DEV && !("__TAURI_INTERNALS__" in window)) {
    const { installMock } = await import("./lib/mock");
    installMock();
  }
  const target = document.getElementById("app");
  if (target) mount(App, { target });
}

void start();
