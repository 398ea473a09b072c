import { recordCacheLookup } from '../observability/metrics';

/**
 * One value kept in memory between warm invocations and loaded again once it is `ttlMs` old: the team list
 * from GitHub, the service list from Loki. Concurrent callers share one load; a failed load is never
 * kept, and once a value was loaded, a failure serves it marked stale (a dashboard's menu keeps working
 * while its upstream is down), before that the failure is thrown.
 */

export interface RefreshingCacheOptions<T> {
  /** Asked on the first use, after the TTL and on refresh; what it throws reaches the caller as thrown. */
  load: () => Promise<T>;
  ttlMs: number;
  /** Which cache the CacheHit/CacheMiss metrics name. */
  metric: 'teams' | 'services';
  /** The clock (tests pass a controllable one). */
  now?: (() => number) | undefined;
}

/** hit: from memory; miss: loaded now; stale: the load failed (`error`) and the last value is served. */
export type Refreshed<T> =
  | { value: T; loadedAt: number; cache: 'hit' | 'miss' }
  | { value: T; loadedAt: number; cache: 'stale'; error: unknown };

export interface RefreshingCache<T> {
  /** `refresh`: load now even when the value is fresh (not counted as a cache lookup). */
  get(options?: { refresh?: boolean }): Promise<Refreshed<T>>;
}

export function createRefreshingCache<T>(options: RefreshingCacheOptions<T>): RefreshingCache<T> {
  const now = options.now ?? Date.now;
  let cached: { value: T; loadedAt: number } | undefined;
  let inFlight: Promise<{ value: T; loadedAt: number }> | undefined;

  const load = (): Promise<{ value: T; loadedAt: number }> => {
    inFlight ??= (async () => {
      try {
        const value = await options.load();
        cached = { value, loadedAt: now() };
        return cached;
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  return {
    async get(request = {}) {
      const current = cached;
      const fresh = current !== undefined && now() - current.loadedAt < options.ttlMs;
      if (!request.refresh) recordCacheLookup(options.metric, fresh);
      if (fresh && !request.refresh) return { ...current, cache: 'hit' };
      try {
        return { ...(await load()), cache: 'miss' };
      } catch (error) {
        const fallback = cached;
        if (fallback === undefined) throw error;
        return { ...fallback, cache: 'stale', error };
      }
    },
  };
}
