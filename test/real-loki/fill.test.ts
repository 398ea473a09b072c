import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parseConfig } from '../../lib/config';
import { DataService } from '../../lib/data/service';
import { createLokiEventStore, type LokiRequestInfo, lokiSettingsFrom } from '../../lib/loki/client';
import { RollupStore } from '../../lib/rollups/store';
import { DirectoryObjectStore } from '../../lib/store/object-store';
import { DAY, ORG_END } from './organisation';
import { describeWithRealLoki } from './real-loki';

const ROOT = path.resolve(__dirname, '../..');
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * `npm run rollups -- backfill` on the real Loki, then the read path over the days it filled: every closed
 * day comes from the store, none from Loki, and the answer is the one Loki gives without the store.
 */
describeWithRealLoki('filling the store of closed days on the real Loki', (run) => {
  let dir: string;
  // Ten closed days of the test organisation, and the look-around of a /data request over the middle four.
  const first = ORG_END - 12 * DAY;
  const last = ORG_END - 3 * DAY;

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dora-fill-real-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const env = () => ({
    LOKI_URL: run().url,
    SERVICE_NAME: run().serviceNamespace,
    ROLLUPS_URL: pathToFileURL(dir).href,
    LOOKAROUND_DAYS: '3',
    POWERTOOLS_LOG_LEVEL: 'WARN',
  });

  it('backfills days that the read path then reads from the store alone, with the answer of Loki', async () => {
    const started = performance.now();
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/rollups.ts', 'backfill', '--from', day(first), '--to', day(last)],
      { cwd: ROOT, env: { ...process.env, ...env() }, timeout: 170_000 },
    );
    const backfillMs = performance.now() - started;
    const config = parseConfig(env());
    const settings = { ...lokiSettingsFrom(config, { lokiToken: undefined }), dayCacheMaxMb: 0 };
    const requests: LokiRequestInfo[] = [];
    const fromStore = new DataService({
      events: createLokiEventStore(settings, {
        rollups: new RollupStore(new DirectoryObjectStore(dir)),
        onRequest: (info) => requests.push(info),
      }),
      teams: undefined,
      config: { ...config, dataCache: { ...config.dataCache, ttlMs: 0 } },
    });
    const fromLoki = new DataService({
      events: createLokiEventStore(settings),
      teams: undefined,
      config: { ...config, dataCache: { ...config.dataCache, ttlMs: 0 } },
    });
    const query = { start: first + 3 * DAY, end: last - 2 * DAY };

    const stored = await fromStore.loadDeployments(query);
    const read = await fromLoki.loadDeployments(query);

    console.log(
      `backfill of 10 closed days on the real Loki: ${(backfillMs / 1000).toFixed(1)} s (${stderr.trim().split('\n').at(-1)})`,
    );
    expect(stderr).toContain('Done: 10 day(s) read from Loki and stored');
    expect(stored.stats?.days).toMatchObject({ store: 10, loki: 0, open: 0 });
    expect(requests).toHaveLength(0);
    expect(stored.deployments.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored.deployments)).toBe(JSON.stringify(read.deployments));
    expect(JSON.stringify(stored.merges)).toBe(JSON.stringify(read.merges));
  });
});
