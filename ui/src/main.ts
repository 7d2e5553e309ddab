// Starts the app: applies the theme, installs the dev mock outside Tauri,
// and mounts the root component.
import { mount } from "svelte";
import "./app.css";
import App from "./App.svelte";
import { applyTheme, loadTheme } from "./lib/theme";

applyTheme(loadTheme());

async function start(): Promise<void> {
  if (import.meta.env.DEV && !("__TAURI_INTERNALS__" in window)) {
    const { installMock } = await import("./lib/mock");
    installMock();
  }
  const target = document.getElementById("app");
  if (target) mount(App, { target });
}

void start();
