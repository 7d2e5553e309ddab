// Overlapping loads (a slow answer for the previous profile, thread or
// query arriving after the current one's) must not overwrite what is shown.

/** Returns `begin`: each call starts a load and returns a check that stays
 * true only while no newer load has begun. */
export function newest(): () => () => boolean {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}
