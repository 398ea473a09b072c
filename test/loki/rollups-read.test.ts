import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { freePort } from '../../dev/ports';
import { createLokiEventStore, type LokiSettings } from '../../lib/loki/client';
import { rollupsHeaderValue, storeSelection } from '../../lib/loki/closed-days';
import { buildEventsQuery } from '../../lib/loki/logql';
import type { EventRequest, LokiEntry } from '../../lib/loki/types';
import { dayKey, RollupStore } from '../../lib/rollups/store';
import { S3ObjectStore } from '../../lib/store/s3-object-store';
import { S3RVER_CREDENTIALS, S3RVER_REGION, type S3Server, startS3Server } from '../helpers/s3';

/**
 * The Loki reader with a store of closed days on a real S3-compatible server (s3rver, the real SDK):
 * closed days come from the store once they are there, open days always from Loki, and a failing store
 * only sends the reader back to Loki.
 */

const DAY_MS = 86_400_000;
const START = Date.parse('2024-09-01T00:00:00Z');
const EMPTY = { start: START, end: START };

let nextId = 1;
function deploymentEntry(atMs: number): LokiEntry {
  const id = nextId++;
  return {
    labels: {
      service_namespace: 'github',
      deployment_status: 'success',
      deployment_environment_name: 'production',
      vcs_repository_name: 'api',
      deployment_id: String(id),
    },
    timestampNs: String(BigInt(atMs) * 1_000_000n),
    line: JSON.stringify({
      deployment: { id, sha: `sha${id}`, created_at: new Date(atMs).toISOString() },
      deployment_status: { state: 'success' },
      repository: { name: 'api', full_name: 'acme/api', html_url: 'https://github.com/acme/api' },
    }),
  };
}

function settings(loki: LokiServer, overrides: Partial<LokiSettings> = {}): LokiSettings {
  return {
    url: loki.url,
    serviceNamespace: 'github',
    incidentLabels: ['incident'],
    pageLimit: 100,
    maxQueryLengthMs: 30 * DAY_MS,
    concurrency: 2,
    timeoutMs: 2000,
    maxRetries: 0,
    retryBaseDelayMs: 1,
    ...overrides,
  };
}

function deployments(start: number, end: number): EventRequest {
  return { filter: {}, ranges: { deployments: { start, end }, incidents: EMPTY, merges: EMPTY } };
}

const lokiCalls = (loki: LokiServer) =>
  loki.requests.filter((request) => request.path === '/loki/api/v1/query_range').length;

const ids = (batch: { deployments: Array<{ deploymentId: string }> }) =>
  batch.deployments.map((event) => event.deploymentId);

describe('closed days from a store on S3', () => {
  let s3: S3Server;
  let loki: LokiServer;
  let buckets = 0;
  let rollups: RollupStore;

  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3.close();
  });
  beforeEach(async () => {
    loki = await startLokiServer();
    loki.add(Array.from({ length: 6 }, (_, day) => deploymentEntry(START + day * DAY_MS + 3_600_000)));
    buckets += 1;
    rollups = new RollupStore(await s3.store(`read-${buckets}`, 'rollups'));
  });
  afterEach(async () => {
    await loki.close();
  });

  it('reads no closed day from Loki in a new process once a request has stored them', async () => {
    const request = deployments(START, START + 6 * DAY_MS);
    const cold = await createLokiEventStore(settings(loki), { rollups }).fetchEvents(request);
    const callsCold = lokiCalls(loki);

    const warm = await createLokiEventStore(settings(loki), { rollups }).fetchEvents(request);

    expect(ids(warm)).toEqual(ids(cold));
    expect(ids(cold)).toHaveLength(6);
    expect(lokiCalls(loki)).toBe(callsCold);
    expect(rollupsHeaderValue(cold.stats.days)).toBe('memory=0 store=0 loki=6 open=0 stored=6');
    expect(rollupsHeaderValue(warm.stats.days)).toBe('memory=0 store=6 loki=0 open=0');
    const query = buildEventsQuery(['deployments'], {}, settings(loki));
    expect(await rollups.days(storeSelection(query, settings(loki)))).toHaveLength(6);
  });

  it('reads only the days the store lacks from Loki', async () => {
    await createLokiEventStore(settings(loki), { rollups }).fetchEvents(
      deployments(START, START + 3 * DAY_MS),
    );
    const before = loki.requests.length;

    const wider = await createLokiEventStore(settings(loki), { rollups }).fetchEvents(
      deployments(START, START + 6 * DAY_MS),
    );

    expect(ids(wider)).toHaveLength(6);
    expect(rollupsHeaderValue(wider.stats.days)).toBe('memory=0 store=3 loki=3 open=0 stored=3');
    const asked = loki.requests.slice(before).map((request) => request.params.get('start'));
    expect(asked).toEqual([String(BigInt(START + 3 * DAY_MS) * 1_000_000n)]);
  });

  it('never stores a day that is not over, and reads it from Loki every time', async () => {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    loki.add([deploymentEntry(today)]);
    const request = deployments(today - DAY_MS, today + DAY_MS);
    // Yesterday is closed as soon as today has begun; today is not.
    const closingAtOnce = settings(loki, { closedAfterMs: 0 });
    await createLokiEventStore(closingAtOnce, { rollups }).fetchEvents(request);
    loki.add([deploymentEntry(Math.min(Date.now(), today + 1000))]);

    const again = await createLokiEventStore(closingAtOnce, { rollups }).fetchEvents(request);

    expect(ids(again)).toHaveLength(2);
    expect(again.stats.days).toMatchObject({ store: 1, open: 1 });
    const query = buildEventsQuery(['deployments'], {}, settings(loki));
    const stored = await rollups.days(storeSelection(query, settings(loki)));
    expect(stored).toEqual([new Date(today - DAY_MS).toISOString().slice(0, 10)]);
  });

  it('recomputes and rewrites a stored day that does not parse', async () => {
    const request = deployments(START, START + DAY_MS);
    await createLokiEventStore(settings(loki), { rollups }).fetchEvents(request);
    const query = buildEventsQuery(['deployments'], {}, settings(loki));
    const key = dayKey(storeSelection(query, settings(loki)), START);
    await rollups.objects.put(key, Buffer.from('{"format":1'));

    const again = await createLokiEventStore(settings(loki), { rollups }).fetchEvents(request);

    expect(ids(again)).toHaveLength(1);
    expect(again.stats.days).toMatchObject({ store: 0, loki: 1, stored: 1 });
    expect((await rollups.objects.get(key))?.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('keeps days of other production environments apart in the store', async () => {
    const request = deployments(START, START + DAY_MS);
    await createLokiEventStore(settings(loki), { rollups }).fetchEvents(request);

    const other = await createLokiEventStore(settings(loki, { productionEnvironments: ['live'] }), {
      rollups,
    }).fetchEvents(request);

    expect(other.stats.days).toMatchObject({ store: 0, loki: 1 });
    expect(ids(other)).toEqual([]);
  });

  /** An S3 adapter on a server that is not there (`port` refuses connections) or never answers. */
  const storeAt = (port: number) =>
    new RollupStore(
      new S3ObjectStore({
        bucket: 'none',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        region: S3RVER_REGION,
        credentials: S3RVER_CREDENTIALS,
      }),
    );
  const unreachable = async () => ({ port: await freePort(), close: () => {} });
  const silent = async () => {
    const server: Server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  };

  it.each([
    ['cannot be reached', unreachable],
    ['does not answer', silent],
  ])('answers from Loki within the deadline, with a warning, when the store %s', async (_fault, fault) => {
    const broken = await fault();
    const startedAt = Date.now();
    try {
      const answer = await createLokiEventStore(settings(loki), {
        rollups: storeAt(broken.port),
      }).fetchEvents({ ...deployments(START, START + 3 * DAY_MS), deadline: startedAt + 3_000 });

      expect(ids(answer)).toHaveLength(3);
      expect(rollupsHeaderValue(answer.stats.days)).toBe('memory=0 store=0 loki=3 open=0 fallback');
      expect(answer.stats.days?.storeFailures).toBeGreaterThan(0);
      expect(Date.now() - startedAt).toBeLessThan(8_000);
    } finally {
      broken.close();
    }
  });

  it('opens the store ROLLUPS_URL names, on the S3-compatible server of AWS_ENDPOINT_URL_S3', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, s3.environment);
    try {
      await s3.createBucket('by-url');
      const request = deployments(START, START + 2 * DAY_MS);
      const byUrl = settings(loki, { rollupsUrl: 's3://by-url/rollups' });
      await createLokiEventStore(byUrl).fetchEvents(request);
      const before = lokiCalls(loki);

      const warm = await createLokiEventStore(byUrl).fetchEvents(request);

      expect(lokiCalls(loki)).toBe(before);
      expect(warm.stats.days).toMatchObject({ store: 2, loki: 0 });
    } finally {
      for (const key of Object.keys(s3.environment)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });
  it('refuses with a 422 a request whose stored days hold more events than its budget, without asking Loki', async () => {
    await createLokiEventStore(settings(loki), { rollups }).fetchEvents(
      deployments(START, START + 6 * DAY_MS),
    );
    const lokiCallsBefore = lokiCalls(loki);

    const refused = createLokiEventStore(settings(loki, { maxRequestEvents: 2 }), { rollups }).fetchEvents(
      deployments(START, START + 6 * DAY_MS),
    );

    await expect(refused).rejects.toMatchObject({
      name: 'RequestTooLargeError',
      statusCode: 422,
      message: expect.stringContaining('more than 2 events at once'),
    });
    expect(lokiCalls(loki)).toBe(lokiCallsBefore);
  });

  it('refuses with a 422 a request whose pages from Loki hold more events than its budget', async () => {
    const small = settings(loki, { maxRequestEvents: 3, pageLimit: 2 });

    const refused = createLokiEventStore(small, { rollups }).fetchEvents(
      deployments(START, START + 6 * DAY_MS),
    );

    await expect(refused).rejects.toMatchObject({ name: 'RequestTooLargeError', statusCode: 422 });
    const within = await createLokiEventStore(settings(loki, { maxRequestEvents: 6 })).fetchEvents(
      deployments(START, START + 6 * DAY_MS),
    );
    expect(ids(within)).toHaveLength(6);
  });
  it('refuses at once a request whose first stored days, extrapolated to all it needs, would hold more than twice its budget', async () => {
    loki.add(
      Array.from({ length: 30 }, (_, day) => deploymentEntry(START + (10 + day) * DAY_MS + 3_600_000)),
    );
    const stored = deployments(START, START + 40 * DAY_MS);
    await createLokiEventStore(settings(loki), { rollups }).fetchEvents(stored);
    const lokiCallsBefore = lokiCalls(loki);
    const needed = deployments(START, START + 100 * DAY_MS);

    const refused = createLokiEventStore(settings(loki, { maxRequestEvents: 40 }), { rollups }).fetchEvents(
      needed,
    );
    await expect(refused).rejects.toMatchObject({
      statusCode: 422,
      message: expect.stringContaining('extrapolated from its first days'),
    });
    const answered = await createLokiEventStore(settings(loki, { maxRequestEvents: 90 }), {
      rollups,
    }).fetchEvents(needed);

    expect(ids(answered)).toHaveLength(36);
    expect(lokiCalls(loki)).toBeGreaterThan(lokiCallsBefore);
  });
});
