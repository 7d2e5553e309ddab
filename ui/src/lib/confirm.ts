// Asking before something that can't be undone (revoking a device, removing a member).

/** Asks the user to confirm; false if they decline or the webview can't ask. */
export function confirmAction(question: string): boolean {
  try {
    return window.confirm(question);
  } catch {
    return false;
  }
}
