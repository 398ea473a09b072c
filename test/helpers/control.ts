/** A clock that moves only when the test says so, for caches and rate limits that read `now()`. */
export function controllableClock(start = Date.UTC(2026, 10, 28, 12)) {
  let current = start;
  return {
    now: () => current,
    advance: (ms: number) => {
      current += ms;
    },
  };
}

/**
 * Holds calls in flight while closed, so a test can start concurrent callers before any of them finishes:
 * a stand-in awaits `pass()`, the test calls `hold()` first and `release()` once its callers are started.
 */
export function gate() {
  let held = false;
  const pending: Array<() => void> = [];
  return {
    pass: async (): Promise<void> => {
      if (held) await new Promise<void>((resolve) => pending.push(resolve));
    },
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      for (const resolve of pending.splice(0)) resolve();
    },
  };
}
