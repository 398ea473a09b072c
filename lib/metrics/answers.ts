import { LRUCache } from 'lru-cache';
import type { Config } from '../config';
import type { DataService } from '../data/service';
import { pairMemo } from '../memo';

/**
 * The computed answers of `GET /metrics` and `GET /metrics/summary`, kept as long as the data cache keeps
 * its answers (DATA_CACHE_TTL_SECONDS), one cache per configuration and data service (so per event store
 * and team directory): an answer also depends on settings (levels, excluded authors, look-around).
 *
 * Why beside the data cache: that one keeps events, weighed by their count, and a summary loads two
 * periods. A year's summary of 300 repositories whose previous year is as busy is ~460,000 events, more
 * than the answer half of the default cache holds (~320,000), so its events were never kept and every warm
 * summary read its 770 days again: 2.5 s, measured with `npm run bench -- --rollups --simulate=300`.
 * The computed answer is a few kB (a few hundred with `group_by=repository`).
 */

/** Characters of JSON the computed answers of one data service may take together. */
const MAX_ANSWER_CHARS = 16_000_000;

type AnswerCache = LRUCache<string, { body: unknown }>;

// Per configuration, then per data service (the few one configuration has).
const answerCaches = pairMemo<Config, DataService, AnswerCache>();

function cacheOf(config: Config, service: DataService): AnswerCache {
  return answerCaches(
    config,
    service,
    () =>
      new LRUCache<string, { body: unknown }>({
        max: config.dataCache.maxEntries,
        ttl: config.dataCache.ttlMs,
        maxSize: MAX_ANSWER_CHARS,
        sizeCalculation: (answer) => Math.max(1, JSON.stringify(answer.body).length),
      }),
  );
}

/**
 * The answer kept under `key` (then with `X-Cache: hit` only: the other headers describe a computing), unless
 * `noCache` or caching is off; else `compute`'s, which is then kept. `key` must name everything the answer
 * depends on: the route, the resolved period and the query.
 */
export async function cachedAnswer<T>(
  service: DataService,
  config: Config,
  key: string,
  noCache: boolean,
  compute: () => Promise<{ body: T; headers: Record<string, string> }>,
): Promise<{ body: T; headers: Record<string, string> }> {
  if (config.dataCache.ttlMs <= 0) return compute();
  const cache = cacheOf(config, service);
  const hit = noCache ? undefined : cache.get(key);
  // A kept answer read no day: X-Cache says so, and no X-Rollups describes a reading it did not do.
  if (hit !== undefined) return { body: hit.body as T, headers: { 'X-Cache': 'hit' } };
  const answer = await compute();
  cache.set(key, { body: answer.body });
  return answer;
}
