import type { EpochMs } from './types';

/**
 * UTC RFC 3339 with `Z`, the way the upstream API wrote times: no fractional part when it is zero
 * (`2024-09-13T11:00:58Z`), milliseconds otherwise (`2024-09-13T11:00:58.120Z`).
 * Throws a RangeError for a value that is not a valid time, like `Date.prototype.toISOString`.
 */
export function formatTime(ms: EpochMs): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** `formatTime` for optional times: null stays null. */
export function formatOptionalTime(ms: EpochMs | null): string | null {
  return ms === null ? null : formatTime(ms);
}
