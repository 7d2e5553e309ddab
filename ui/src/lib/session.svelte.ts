// Who is using the app: the identity and device, once known.
import type { Me } from "./api";

/** The signed-in identity (null before onboarding) and the data folder. */
export const session = $state<{ me: Me | null; home: string }>({ me: null, home: "" });

/** Whether `identity` is the user's own. */
export function isMe(identity: string): boolean {
  return session.me?.identity === identity;
}
