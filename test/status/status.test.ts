import type { LokiServer } from '../../dev/loki-server';
import type { handler as StatusHandler } from '../../functions/status';
import type { handler as StatusJsonHandler } from '../../functions/status-json';
import { forgetTrackedPairsForTests, trackedPairCount } from '../../lib/status/registry';
import { statusReportSchema } from '../../lib/status/schema';
import { statusEntry } from '../../lib/status/store';
import { setEnv, useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { mintToken, TEST_JWT_SECRET } from '../security/tokens';

const HOUR = 3_600_000;

const report = (overrides: Record<string, unknown> = {}) => ({
  repo: 'acme/platform',
  server: 'prod-eu-1',
  sync_status: 'SYNCED',
  drift_count: 0,
  files: [],
  last_check: '2026-11-28T04:00:00Z',
  ...overrides,
});

describe('POST /api/status and GET /status.json (GitOps agents)', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let postStatus: typeof StatusHandler;
  let statusJson: typeof StatusJsonHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn(
      {},
      { LOKI_MAX_RETRIES: '0', STATUS_TTL_HOURS: '2', LOKI_PAGE_LIMIT: '3', AUTH_JWT_SECRET: '' },
    ));
    ({ handler: postStatus } = await import('../../functions/status'));
    ({ handler: statusJson } = await import('../../functions/status-json'));
  });
  afterAll(async () => restore());
  beforeEach(() => forgetTrackedPairsForTests());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    invoke(postStatus, { method: 'POST', path: '/api/status', body, headers });
  const list = (query: Record<string, string> = {}) => invoke(statusJson, { path: '/status.json', query });

  it('answers the agents contract and serves the latest status per repo:server', async () => {
    const first = await post(
      report({
        repo: 'latest',
        sync_status: 'OUT_OF_SYNC',
        drift_count: 2,
        files: [{ name: 'a.yaml' }, { name: 'b.yaml' }],
      }),
    );
    await post(
      report({ repo: 'latest', sync_status: 'SYNCED', drift_count: 0, files: [], last_check: 'second' }),
    );

    const response = await list({ repo: 'latest' });

    expect(first.statusCode).toBe(200);
    expect(first.json).toEqual({ status: 'ok', message: 'Status updated successfully' });
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual([
      {
        repo: 'latest',
        server: 'prod-eu-1',
        sync_status: 'SYNCED',
        drift_count: 0,
        files: [],
        last_check: 'second',
        updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      },
    ]);
  });

  it('pages through more reports than one Loki page and keeps one entry per pair, sorted', async () => {
    for (const server of ['s2', 's1', 's3']) {
      for (const drift of [5, 6]) await post(report({ repo: 'paged', server, drift_count: drift }));
    }

    const response = await list({ repo: 'paged' });

    expect(
      (response.json as Array<{ server: string; drift_count: number }>).map((s) => [s.server, s.drift_count]),
    ).toEqual([
      ['s1', 6],
      ['s2', 6],
      ['s3', 6],
    ]);
  });

  it('filters by repo and server', async () => {
    await post(report({ repo: 'filtered', server: 'a' }));
    await post(report({ repo: 'filtered', server: 'b', drift_count: 9 }));

    const both = await list({ repo: 'filtered', server: 'b' });
    const none = await list({ repo: 'filtered', server: 'c' });

    expect((both.json as Array<{ server: string }>).map((s) => s.server)).toEqual(['b']);
    expect(none.json).toEqual([]);
  });

  it('leaves out pairs not reported within STATUS_TTL_HOURS', async () => {
    const now = Date.now();
    loki.add([
      statusEntry(statusReportSchema.parse(report({ repo: 'ttl', server: 'old' })), 'github', now - 3 * HOUR),
      statusEntry(
        statusReportSchema.parse(report({ repo: 'ttl', server: 'fresh' })),
        'github',
        now - 1 * HOUR,
      ),
    ]);

    const response = await list({ repo: 'ttl' });

    expect((response.json as Array<{ server: string }>).map((s) => s.server)).toEqual(['fresh']);
  });

  it('keeps a value that could break out of LogQL inside its filter', async () => {
    await post(report({ repo: 'quote"} or {x=~".+', server: 'q' }));
    await post(report({ repo: 'plain-q', server: 'q' }));

    const response = await list({ repo: 'quote"} or {x=~".+' });

    expect((response.json as Array<{ repo: string }>).map((s) => s.repo)).toEqual(['quote"} or {x=~".+']);
  });

  it.each([
    ['repo is missing', { ...report(), repo: undefined }, 'repo is required'],
    ['server is missing', { ...report(), server: undefined }, 'server is required'],
    ['sync_status is missing', { ...report(), sync_status: undefined }, 'sync_status is required'],
    [
      'sync_status is unknown',
      report({ sync_status: 'UNKNOWN' }),
      'sync_status must be SYNCED or OUT_OF_SYNC',
    ],
    ['drift_count is missing', { ...report(), drift_count: undefined }, 'drift_count is required'],
    ['drift_count is negative', report({ drift_count: -1 }), 'drift_count must not be negative'],
    ['drift_count is text', report({ drift_count: '3' }), 'drift_count'],
    ['files is missing', { ...report(), files: undefined }, 'files is required'],
    ['a file has no name', report({ files: [{}] }), 'files.0.name is required'],
    [
      'files lists too many',
      report({ files: Array.from({ length: 1001 }, (_, i) => ({ name: `f${i}` })) }),
      'files must list at most 1000 files',
    ],
    ['last_check is missing', { ...report(), last_check: undefined }, 'last_check is required'],
  ])('answers 400 {"status":"error"} naming the problem when %s', async (_case, body, message) => {
    const pushes = loki.requests.filter((request) => request.path.endsWith('/push')).length;

    const response = await post(body);

    expect(response.statusCode).toBe(400);
    expect(response.headers['Content-Type']).toMatch(/^application\/json/);
    expect(response.json).toEqual({ status: 'error', message: expect.stringContaining(message) });
    expect(Object.keys(response.json as object).sort()).toEqual(['message', 'status']);
    expect(loki.requests.filter((request) => request.path.endsWith('/push'))).toHaveLength(pushes);
  });

  it.each([
    ['invalid JSON', '{"repo":', 'The request body is not valid JSON'],
    ['a JSON array', '[]', 'must be a JSON object'],
    ['no body', undefined, 'repo is required'],
  ])('answers 400 {"status":"error"} for %s', async (_case, body, message) => {
    const response = await post(body);

    expect(response.statusCode).toBe(400);
    expect(response.json).toEqual({ status: 'error', message: expect.stringContaining(message) });
  });

  it('answers 502 {"status":"error"} naming Loki when Loki refuses the push', async () => {
    loki.failNext(400, 1, 'entry too far behind');

    const response = await post(report());

    expect(response.statusCode).toBe(502);
    expect(response.json).toEqual({
      status: 'error',
      message: 'Loki refused the push (HTTP 400): entry too far behind',
    });
  });

  it('answers /status.json errors as problem+json like the rest of the API', async () => {
    const response = await list({ repo: 'x', unknown: '1' });

    expect(response.statusCode).toBe(400);
    expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
  });

  it('counts the pairs this container saw within the TTL', async () => {
    await post(report({ repo: 'count', server: 'one' }));
    await post(report({ repo: 'count', server: 'two' }));
    await post(report({ repo: 'count', server: 'two' }));

    expect(trackedPairCount(Date.now(), 2 * HOUR)).toBe(2);
    expect(trackedPairCount(Date.now() + 3 * HOUR, 2 * HOUR)).toBe(0);
  });

  describe('with AUTH_JWT_SECRET set', () => {
    let restoreAuth: () => void;
    beforeAll(() => {
      restoreAuth = setEnv({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
    });
    afterAll(() => restoreAuth());

    it('answers 401 {"status":"error"} without a token, and 200 with one', async () => {
      const anonymous = await post(report());
      const authorized = await post(report(), { authorization: `Bearer ${await mintToken()}` });

      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers['WWW-Authenticate']).toMatch(/^Bearer/);
      expect(anonymous.json).toEqual({ status: 'error', message: expect.stringContaining('bearer token') });
      expect(authorized.statusCode).toBe(200);
    });

    it('requires a token for /status.json too', async () => {
      const response = await list();

      expect(response.statusCode).toBe(401);
    });
  });
});
