/**
 * Units of time every layer counts in. Epoch milliseconds know no leap seconds, so a UTC day is always
 * DAY_MS long; Loki's timestamps are nanoseconds, as BigInt (past 2^53 as numbers).
 */
export const DAY_MS = 86_400_000;
export const NS_PER_MS = 1_000_000n;

/** The start of the UTC month holding `epochMs`. */
export function monthStartOf(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

/** The start of the UTC month after the one holding `epochMs`. */
export function nextMonthStart(epochMs: number): number {
  const date = new Date(epochMs);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The start of the UTC day holding `epochMs`. */
export function startOfUtcDay(epochMs: number): number {
  return Math.floor(epochMs / DAY_MS) * DAY_MS;
}

/** The UTC day holding `epochMs` as `YYYY-MM-DD`. */
export function isoDay(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}
