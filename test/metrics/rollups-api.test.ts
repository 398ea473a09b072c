import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { generateSample } from '../../lib/sample/generator';
import { setEnv, useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { type S3Server, startS3Server } from '../helpers/s3';

/**
 * The routes that read events, with ROLLUPS_URL naming a bucket of a real S3-compatible server: the same
 * answers as without the store, the first time (every closed day from Loki, then stored) and the next
 * (every closed day from the store, none from Loki). The in-memory caches are off, so nothing else answers.
 */

const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 23, end: END, days: 100, repositories: 4, teams: 2 });

describe('the event routes with a store of closed days on S3', () => {
  let s3: S3Server;
  let restore: () => Promise<void>;
  let restoreS3: () => void;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;
  let summary: typeof SummaryHandler;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket('stack-bucket');
    ({ restore } = await useLokiStandIn(
      { entries: sample.entries },
      {
        GITHUB_ORG: '',
        GITHUB_TOKEN: '',
        AUTH_MODE: 'off',
        DATA_CACHE_TTL_SECONDS: '0',
        LOKI_MAX_RETRIES: '0',
      },
    ));
    restoreS3 = setEnv(s3.environment);
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
  });
  afterAll(async () => {
    restoreS3();
    await restore();
    await s3.close();
  });

  const period = { start_date: '2026-10-28', end_date: '2026-11-26' };
  const askAll = async () => [
    await invoke(summary, { path: '/metrics/summary', query: period }),
    await invoke(metrics, {
      path: '/metrics',
      query: { ...period, metric: 'lead_time_for_changes', interval: 'weekly' },
    }),
    await invoke(data, {
      method: 'POST',
      path: '/data',
      body: { start: '2026-10-28T00:00:00Z', end: '2026-11-27T00:00:00Z' },
    }),
  ];

  // While the look-around after the period reaches today, that day is open: always from Loki, never stored.
  it('answers the same with the store empty, filled, and off, and reads no closed day from Loki once filled', async () => {
    const restoreOff = setEnv({ ROLLUPS_URL: 'off' });
    const off = await askAll();
    restoreOff();
    const restoreOn = setEnv({ ROLLUPS_URL: 's3://stack-bucket/rollups' });
    const empty = await askAll();
    const filled = await askAll();
    restoreOn();

    for (const answers of [off, empty, filled]) {
      expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
    }
    expect(empty.map((answer) => answer.json)).toEqual(off.map((answer) => answer.json));
    expect(filled.map((answer) => answer.json)).toEqual(off.map((answer) => answer.json));
    expect(off[0]?.headers['X-Rollups']).toMatch(/^memory=0 store=off loki=\d+ open=\d+$/);
    // Writes still running when the answer is ready (a busy machine) go on, so the count may be lower.
    expect(empty[0]?.headers['X-Rollups']).toMatch(
      /^memory=0 store=0 loki=[1-9]\d* open=\d+ stored=[1-9]\d*$/,
    );
    for (const answer of filled)
      expect(answer.headers['X-Rollups']).toMatch(/^memory=0 store=\d+ loki=0 open=\d+$/);
    // Nine requests of 100 days each, three of them over Loki: slow on a busy machine.
  }, 120_000);
});
