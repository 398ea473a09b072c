import type { EpochMs } from '../dora/types';
import { pairKey } from './store';

/**
 * The repo:server pairs this container has received or read statuses of, with the time of their latest
 * report: what GET /health counts without calling Loki. Bounded: the oldest pair leaves first.
 */
const MAX_TRACKED_PAIRS = 10_000;
const latestReport = new Map<string, EpochMs>();

export function noteStatus(repo: string, server: string, updatedAt: EpochMs): void {
  const key = pairKey(repo, server);
  const known = latestReport.get(key);
  if (known !== undefined && known >= updatedAt) return;
  latestReport.delete(key);
  latestReport.set(key, updatedAt);
  if (latestReport.size > MAX_TRACKED_PAIRS) latestReport.delete(latestReport.keys().next().value as string);
}

/** Pairs whose latest known report is within the TTL; older ones are forgotten. */
export function trackedPairCount(now: EpochMs, ttlMs: number): number {
  for (const [key, updatedAt] of latestReport) {
    if (updatedAt < now - ttlMs) latestReport.delete(key);
  }
  return latestReport.size;
}

export function forgetTrackedPairsForTests(): void {
  latestReport.clear();
}
