import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { parseConfig } from '../../lib/config';
import { createLokiEventStore, lokiSettingsFrom } from '../../lib/loki/client';
import { RollupStore } from '../../lib/rollups/store';
import { generateSample } from '../../lib/sample/generator';
import { DirectoryObjectStore } from '../../lib/store/object-store';

const ROOT = path.resolve(__dirname, '../..');
const DAY_MS = 86_400_000;
const NAMESPACE = 'fill-cli';
const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const day = (daysAgo: number) => new Date(today - daysAgo * DAY_MS).toISOString().slice(0, 10);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run rollups -- ...` as a user runs it: a child process with the settings in its environment. */
async function rollups(args: string[], env: Record<string, string>): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/rollups.ts', ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? null, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const queries = (loki: LokiServer) =>
  loki.requests.filter((request) => request.path.endsWith('/query_range'));

describe('npm run rollups', () => {
  let loki: LokiServer;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    const sample = generateSample({
      seed: 7,
      end: today,
      days: 12,
      repositories: 3,
      teams: 2,
      serviceNamespace: NAMESPACE,
    });
    loki = await startLokiServer({ entries: sample.entries, host: '127.0.0.1' });
  });
  afterAll(async () => loki.close());

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'dora-fill-cli-'));
    env = {
      LOKI_URL: loki.url,
      SERVICE_NAME: NAMESPACE,
      ROLLUPS_URL: pathToFileURL(dir).href,
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
    loki.requests.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fills closed days, lists them, skips them when run again and reads them again on rebuild', async () => {
    const backfill = await rollups(['backfill', '--from', day(8), '--to', day(2)], env);
    const afterBackfill = queries(loki).length;
    const status = await rollups(['status'], env);
    loki.requests.length = 0;
    const again = await rollups(['backfill', '--from', day(8), '--to', day(2)], env);
    const afterAgain = queries(loki).length;
    const rebuild = await rollups(['rebuild', '--from', day(4), '--to', day(3)], env);

    expect(backfill.code).toBe(0);
    expect(backfill.stderr).toContain('Done: 7 day(s) read from Loki and stored, 0 already stored');
    expect(afterBackfill).toBe(7);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      `organisation (service namespace "${NAMESPACE}") (v1, current format): 7 day(s), ${day(8)} to ${day(2)}`,
    );
    expect(again.stderr).toContain('Done: 0 day(s) read from Loki and stored, 7 already stored');
    expect(afterAgain).toBe(0);
    expect(rebuild.code).toBe(0);
    expect(rebuild.stderr).toContain('Done: 2 day(s) read from Loki and stored, 0 already stored');
    expect(queries(loki)).toHaveLength(2);
  }, 120_000);

  it('stores what the read path then reads instead of asking Loki', async () => {
    await rollups(['backfill', '--from', day(3), '--to', day(3)], env);
    const keys = await new DirectoryObjectStore(dir).list('');
    loki.requests.length = 0;
    const reader = createLokiEventStore(
      { ...lokiSettingsFrom(parseConfig(env), { lokiToken: undefined }), dayCacheMaxMb: 0 },
      { rollups: new RollupStore(new DirectoryObjectStore(dir)) },
    );
    const whole = { start: today - 3 * DAY_MS, end: today - 2 * DAY_MS };

    const batch = await reader.fetchEvents({
      filter: {},
      ranges: { deployments: whole, incidents: whole, merges: whole },
    });

    expect(keys).toEqual([
      expect.stringMatching(new RegExp(`^v1/[0-9a-f]{16}/${day(3).slice(0, 7)}/${day(3)}\\.json\\.gz$`)),
    ]);
    expect(batch.stats.days).toMatchObject({ store: 1, loki: 0 });
    expect(batch.deployments.length + batch.merges.length).toBeGreaterThan(0);
    expect(queries(loki)).toHaveLength(0);
  }, 60_000);

  it('never fills the day that has not closed yet, nor today', async () => {
    const run = await rollups(['backfill', '--from', day(1), '--to', day(0)], env);
    const keys = await new DirectoryObjectStore(dir).list('');

    expect(run.code).toBe(0);
    // Yesterday has closed unless the run is within the write path's back-dating of midnight.
    expect(keys.every((key) => key.endsWith(`${day(1)}.json.gz`))).toBe(true);
  }, 60_000);

  it('continues where a killed run stopped, without reading the days it stored again', async () => {
    // Each answer takes a while, so the run is certainly killed half-way.
    loki.delayNext(700, 20);
    const child: ChildProcess = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/rollups.ts',
        'backfill',
        '--from',
        day(11),
        '--to',
        day(2),
        '--concurrency',
        '1',
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore' },
    );
    const store = new DirectoryObjectStore(dir);
    for (let waited = 0; (await store.list('')).length < 3 && waited < 60_000; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const storedBefore = (await store.list('')).length;
    loki.requests.length = 0;

    const resumed = await rollups(['backfill', '--from', day(11), '--to', day(2)], env);

    expect(storedBefore).toBeGreaterThanOrEqual(3);
    expect(storedBefore).toBeLessThan(10);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(
      `Done: ${10 - storedBefore} day(s) read from Loki and stored, ${storedBefore} already stored`,
    );
    expect(queries(loki)).toHaveLength(10 - storedBefore);
    expect(await store.list('')).toHaveLength(10);
  }, 120_000);

  it('exits 1 naming Loki when Loki cannot be reached', async () => {
    const run = await rollups(['backfill', '--from', day(3), '--to', day(2)], {
      ...env,
      LOKI_URL: 'http://127.0.0.1:9',
      LOKI_MAX_RETRIES: '0',
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[rollups] Loki failed: Loki could not be reached');
  }, 60_000);

  it('exits 1 naming the store when the store cannot be used', async () => {
    const notADirectory = path.join(dir, 'file');
    writeFileSync(notADirectory, 'x');

    const run = await rollups(['backfill', '--from', day(3), '--to', day(2)], {
      ...env,
      ROLLUPS_URL: pathToFileURL(notADirectory).href,
    });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('[rollups] The store failed:');
  }, 60_000);

  it('exits 2 with the usage on a wrong command line', async () => {
    const noFrom = await rollups(['backfill'], env);
    const badDay = await rollups(['backfill', '--from', '2026-02-30'], env);
    const rebuildWithoutTo = await rollups(['rebuild', '--from', day(3)], env);

    expect(noFrom.code).toBe(2);
    expect(noFrom.stderr).toContain('backfill needs --from YYYY-MM-DD');
    expect(badDay.stderr).toContain('not a day (YYYY-MM-DD): "2026-02-30"');
    expect(rebuildWithoutTo.stderr).toContain('rebuild needs --to YYYY-MM-DD');
  }, 60_000);
});
