import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { parseConfig } from '../../lib/config';
import { METRICS } from '../../lib/dora/metrics';
import { logger } from '../../lib/logger';
import type { DaySources } from '../../lib/loki/closed-days';
import { fill, ORGANISATION } from '../../lib/rollups/fill';
import { fillDependencies, openRollupStore } from '../../lib/rollups/fill-setup';
import { setEnv } from '../helpers/environment';
import type { EventOptions, InvokeResult } from '../helpers/lambda';
import { type Backends, useBackends } from './backends';
import { DATA_CASES, INTERVALS, METRIC_CASES, SUMMARY_CASES } from './cases';
import { describeWithRealLoki } from './real-loki';

/**
 * The store of closed days changes no answer: every case of the differential tests answered with the
 * store off, and on the real Loki with it empty (every closed day read from Loki and written to it) and
 * filled (no closed day read from Loki). With the store on, the in-memory caches are off, so that the
 * store is what answers. Each case gets an empty store of its own. The figures (Loki requests and days,
 * cold and warm; the store's objects and bytes) are printed at the end of the file.
 */

/** `backfill`: the organisation's days filled ahead; `narrowed`: filtered requests answered from them. */
type Phase = 'off' | 'cold' | 'warm' | 'backfill' | 'narrowed';

interface DaysRead extends DaySources {
  lokiRequests: number;
}

describeWithRealLoki('the store of closed days on the real Loki', (run) => {
  let backends: Backends;
  let root: string;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;
  let summary: typeof SummaryHandler;
  let caseNumber = 0;
  const reads: Record<Phase, DaysRead[]> = { off: [], cold: [], warm: [], backfill: [], narrowed: [] };
  let phase: Phase = 'off';

  beforeAll(async () => {
    backends = await useBackends(run());
    root = await mkdtemp(join(tmpdir(), 'rollups-real-loki-'));
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
    // The reader logs one line a request saying where its days came from: the figures of this file.
    const info = logger.info.bind(logger);
    jest.spyOn(logger, 'info').mockImplementation((message, ...rest) => {
      if (message === 'Days read') reads[phase].push(rest[0] as unknown as DaysRead);
      info(message, ...(rest as []));
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    console.log(await report(root, reads));
    await rm(root, { recursive: true, force: true });
    await backends.close();
  });

  /** A new empty store for the next case. */
  function newStore(): string {
    caseNumber += 1;
    return pathToFileURL(join(root, `case-${String(caseNumber).padStart(2, '0')}`)).href;
  }

  async function ask(
    handler: typeof DataHandler | typeof MetricsHandler | typeof SummaryHandler,
    request: EventOptions,
    as: Phase,
    storeUrl: string,
  ): Promise<InvokeResult> {
    phase = as;
    const restore = setEnv(
      as === 'off' ? { ROLLUPS_URL: 'off' } : { ROLLUPS_URL: storeUrl, DATA_CACHE_TTL_SECONDS: '0' },
    );
    try {
      // Off, the imitation answers: the differential tests show it answers as the real Loki does, and the
      // real Loki's time goes to the reads that fill the store.
      const response = await backends.call(as === 'off' ? 'imitation' : 'real', handler, request);
      expect(response.statusCode).toBe(200);
      return response;
    } finally {
      restore();
    }
  }

  const rollups = (response: InvokeResult) => response.headers['X-Rollups'] ?? '';

  // The dashboards' 356-day window is left to differential.test.ts: filling its store costs the real Loki
  // minutes that no other case needs, and its days are read by the same code as every other case's.
  it.each(DATA_CASES.filter(([name]) => !name.includes('356-day')))('POST /data: %s', async (_case, body) => {
    const request = { method: 'POST', path: '/data', body };
    const store = newStore();

    const off = await ask(data, request, 'off', store);
    const cold = await ask(data, request, 'cold', store);
    const warm = await ask(data, request, 'warm', store);

    expect(cold.json).toEqual(off.json);
    expect(warm.json).toEqual(off.json);
    expect(rollups(cold)).toMatch(/ store=0 loki=[1-9]\d* /);
    expect(rollups(warm)).toMatch(/ store=[1-9]\d* loki=0 /);
  });

  describe.each(METRIC_CASES)('GET /metrics over %s', (_case, filters) => {
    // Every metric, daily and over the whole period: the other intervals bucket the same records (CI time).
    const combinations = METRICS.flatMap((metric) =>
      INTERVALS.filter((interval) => interval === 'daily' || interval === 'all').map(
        (interval) => [metric, interval] as const,
      ),
    );

    it('answers every metric and interval the same with the store off, empty and filled', async () => {
      const store = newStore();
      const request = (metric: string, interval: string) => ({
        path: '/metrics',
        query: { ...filters, metric, interval },
      });
      const first = combinations[0] ?? ['deployment_frequency', 'daily'];
      const off = new Map<string, unknown>();
      for (const [metric, interval] of combinations)
        off.set(`${metric} ${interval}`, (await ask(metrics, request(metric, interval), 'off', store)).json);

      const cold = await ask(metrics, request(...first), 'cold', store);
      expect(cold.json).toEqual(off.get(first.join(' ')));
      expect(rollups(cold)).toMatch(/ store=0 loki=[1-9]\d* /);
      for (const [metric, interval] of combinations) {
        const warm = await ask(metrics, request(metric, interval), 'warm', store);
        expect(warm.json).toEqual(off.get(`${metric} ${interval}`));
        expect(rollups(warm)).toMatch(/ store=[1-9]\d* loki=0 /);
      }
    });
  });

  it.each(SUMMARY_CASES)('GET /metrics/summary over %s', async (_case, filters) => {
    const request = { path: '/metrics/summary', query: filters };
    const store = newStore();

    const off = await ask(summary, request, 'off', store);
    const cold = await ask(summary, request, 'cold', store);
    const warm = await ask(summary, request, 'warm', store);

    expect(cold.json).toEqual(off.json);
    expect(warm.json).toEqual(off.json);
    expect(rollups(warm)).toMatch(/ store=[1-9]\d* loki=0 /);
  });

  describe("filled by the organisation's backfill alone", () => {
    // Every day the cases below read: the earliest is a 38-day summary's previous period and its 30-day
    // look-around (2026-08-13); the backfill runs to the last closed day.
    const FILL_FROM = Date.UTC(2026, 7, 12);
    let store: string;

    beforeAll(async () => {
      store = newStore();
      phase = 'backfill';
      const config = parseConfig({
        ...process.env,
        LOKI_URL: run().url,
        SERVICE_NAME: run().serviceNamespace,
        ROLLUPS_URL: store,
      });
      const rollups = openRollupStore(config);
      if (rollups === undefined) throw new Error('no store');
      const report = await fill(fillDependencies(config, { lokiToken: undefined }, rollups), {
        from: FILL_FROM,
        selections: [ORGANISATION],
        concurrency: 2,
      });
      expect(report.filled).toBeGreaterThan(100);
    });

    const case_ = <T>(value: T | undefined): T => {
      if (value === undefined) throw new Error('no such case');
      return value;
    };
    const [, repositories, team] = METRIC_CASES.map(case_);
    const teamSummary = case_(SUMMARY_CASES[1]);
    const dataCases = [DATA_CASES[2], DATA_CASES[3], DATA_CASES[6]].map(case_);
    type Route = 'data' | 'metrics' | 'summary';
    const cases: Array<[string, Route, EventOptions]> = [
      [
        `/metrics/summary of ${teamSummary[0]}`,
        'summary',
        { path: '/metrics/summary', query: teamSummary[1] },
      ],
      [
        `/metrics/summary of ${case_(repositories)[0]}`,
        'summary',
        { path: '/metrics/summary', query: case_(repositories)[1] },
      ],
      ...METRICS.map((metric): [string, Route, EventOptions] => [
        `/metrics ${metric} weekly of ${case_(team)[0]}`,
        'metrics',
        { path: '/metrics', query: { ...case_(team)[1], metric, interval: 'weekly' } },
      ]),
      [
        `/metrics lead_time_for_changes daily of ${case_(repositories)[0]}`,
        'metrics',
        {
          path: '/metrics',
          query: { ...case_(repositories)[1], metric: 'lead_time_for_changes', interval: 'daily' },
        },
      ],
      ...dataCases.map(([name, body]): [string, Route, EventOptions] => [
        `/data of ${name}`,
        'data',
        { method: 'POST', path: '/data', body },
      ]),
    ];

    it.each(cases)(
      'answers %s from them as without a store, reading no closed day from Loki',
      async (_name, route, request) => {
        const handler = { data, metrics, summary }[route];
        const off = await ask(handler, request, 'off', store);
        const narrowed = await ask(handler, request, 'narrowed', store);

        expect(narrowed.json).toEqual(off.json);
        const header = rollups(narrowed);
        expect(header).toMatch(/ loki=0 open=\d+ namespace=[1-9]\d*$/);
        // Every closed day is the organisation's, narrowed: none of the request's own selection.
        const count = (name: string) => Number(new RegExp(`${name}=(\\d+)`).exec(header)?.[1]);
        expect(count('memory') + count('store')).toBe(count('namespace'));
      },
    );
  });
});

async function filesUnder(dir: string): Promise<Array<{ path: string; bytes: number }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return Promise.all(
    entries
      .filter((entry) => entry.isFile())
      .map(async (entry) => {
        const path = join(entry.parentPath, entry.name);
        return { path, bytes: (await stat(path)).size };
      }),
  );
}

async function report(root: string, reads: Record<Phase, DaysRead[]>): Promise<string> {
  const total = (phase: Phase, key: keyof DaysRead) =>
    reads[phase].reduce((sum, read) => sum + Number(read[key] ?? 0), 0);
  const line = (phase: Phase) =>
    `  ${phase.padEnd(5)} ${reads[phase].length} requests: ${total(phase, 'lokiRequests')} Loki requests, ` +
    `closed days from Loki ${total(phase, 'loki')}, from the store ${total(phase, 'store')}, ` +
    `open days ${total(phase, 'open')}, days stored ${total(phase, 'stored')}`;
  const files = await filesUnder(root);
  const bytes = files.reduce((sum, file) => sum + file.bytes, 0);
  // The first case is the whole organisation: one selection, one object a day.
  const organisation = files.filter((file) => file.path.includes('case-01'));
  const organisationBytes = organisation.reduce((sum, file) => sum + file.bytes, 0);
  let rawBytes = 0;
  let events = 0;
  for (const file of organisation) {
    const raw = gunzipSync(await readFile(file.path));
    rawBytes += raw.length;
    const day = JSON.parse(raw.toString('utf8')) as { events: Record<string, unknown[]> };
    events += Object.values(day.events).reduce((sum, list) => sum + list.length, 0);
  }
  return [
    'rollups on the real Loki:',
    line('off'),
    line('cold'),
    line('warm'),
    line('backfill'),
    line('narrowed'),
    `  store: ${files.length} objects, ${bytes} bytes over every case; the organisation (POST /data, first case): ` +
      `${organisation.length} objects (days), ${organisationBytes} bytes, ` +
      `${Math.round(organisationBytes / Math.max(1, organisation.length))} bytes a day; ${events} events, ` +
      `${rawBytes} bytes before gzip (${(rawBytes / Math.max(1, organisationBytes)).toFixed(1)}:1), ` +
      `${(organisationBytes / Math.max(1, events)).toFixed(1)} bytes an event gzipped`,
  ].join('\n');
}
