// Asking before something that can't be undone (deleting a post, revoking a
// device, removing a member), in the app's own dialog: `window.confirm`
// may answer "no" on iOS without showing anything.

import { t } from "./i18n";

/** The question on screen, if any, and how to answer it. */
export const asking = $state({
  question: null as string | null,
  action: "",
  resolve: null as ((yes: boolean) => void) | null,
});

/** Asks the user to confirm `question`; `action` names the button that
 *  does it. Resolves false if they decline or close the dialog. */
export function confirmAction(question: string, action = t("common.confirm")): Promise<boolean> {
  // A second question replaces an unanswered first (which counts as no).
  asking.resolve?.(false);
  return new Promise((resolve) => {
    asking.question = question;
    asking.action = action;
    asking.resolve = resolve;
  });
}

/** Answers the question on screen. */
export function answer(yes: boolean): void {
  const resolve = asking.resolve;
  asking.question = null;
  asking.resolve = null;
  resolve?.(yes);
}
