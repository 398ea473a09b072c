import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LokiServer } from '../../dev/loki-server';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { generateSample } from '../../lib/sample/generator';
import { DirectoryObjectStore } from '../../lib/store/object-store';
import { useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 9, end: END, days: 75, repositories: 3, teams: 2 });
const PERIOD = { start_date: '2026-10-28', end_date: '2026-11-26' };

/**
 * GET /metrics/summary with a store of closed days that lacks most of them and a slow Loki: a 503 with Retry-After and how
 * far the store is, the missing days filled by a task of this process (as on `npm start`), then the
 * answer from the store.
 */
describe('GET /metrics/summary while the store of closed days is being filled', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof SummaryHandler;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'dora-filling-api-'));
    ({ loki, restore } = await useLokiStandIn(
      { entries: sample.entries },
      {
        GITHUB_ORG: '',
        GITHUB_TOKEN: '',
        AUTH_MODE: 'off',
        LOOKAROUND_DAYS: '5',
        LOKI_MAX_RETRIES: '0',
        ROLLUPS_URL: pathToFileURL(dir).href,
        ROLLUPS_BACKFILL_FUNCTION: '',
        DATA_CACHE_TTL_SECONDS: '0',
      },
    ));
    ({ handler } = await import('../../functions/metrics-summary'));
  });
  afterAll(async () => {
    await restore();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with how far the store is, fills the days meanwhile, then answers from the store', async () => {
    // 5 s left: 3 s for Loki after the function's margin. Loki answers its first requests slowly, so the
    // request (whose cost per day this process does not know yet) meets its deadline.
    loki.delayNext(4_000, 3);
    const busy = await invoke(handler, { path: '/metrics/summary', query: PERIOD }, 5_000);
    const needed = (busy.json as { store?: { daysNeeded?: number } }).store?.daysNeeded ?? 0;
    const store = new DirectoryObjectStore(dir);
    for (let waited = 0; (await store.list('v1/')).length < needed && waited < 60_000; waited += 200)
      await new Promise((resolve) => setTimeout(resolve, 200));
    loki.requests.length = 0;

    const answered = await invoke(handler, { path: '/metrics/summary', query: PERIOD }, 5_000);

    expect(busy.statusCode).toBe(503);
    expect(Number(busy.headers['Retry-After'])).toBeGreaterThanOrEqual(5);
    expect(busy.headers['Content-Type']).toMatch(/^application\/problem\+json/);
    // The current and the previous period with their look-arounds: 70 days and more.
    expect(needed).toBeGreaterThanOrEqual(70);
    expect(busy.json).toMatchObject({ status: 503, store: { daysPresent: 0, daysNeeded: needed } });
    expect(answered.statusCode).toBe(200);
    expect(answered.headers['X-Rollups']).toContain(`store=${needed} loki=0`);
    expect(loki.requests.filter((request) => request.path.endsWith('/query_range'))).toHaveLength(0);
  }, 90_000);
});
