/**
 * Units of time every layer counts in. Epoch milliseconds know no leap seconds, so a UTC day is always
 * DAY_MS long; Loki's timestamps are nanoseconds, as BigInt (past 2^53 as numbers).
 */
export const DAY_MS = 86_400_000;
export const NS_PER_MS = 1_000_000n;
