import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { LOKI_ONLY, setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { freePort } from '../helpers/local-server';

/**
 * The metrics routes' functions, as Lambda invokes them, with LOKI_URL (credentials in it) on a port nothing
 * listens on: the answer a dashboard gets is the one problem shape, naming Loki's host and the network error,
 * never the URL's user info, path or query, nor LOKI_USER/LOKI_TOKEN.
 */

const SECRET = 'loki-password-in-the-url';

describe('the metrics routes with a Loki that cannot be reached', () => {
  let port: number;
  let restore: () => void;
  let metrics: typeof MetricsHandler;
  let summary: typeof SummaryHandler;

  beforeAll(async () => {
    port = await freePort();
    restore = setEnv({
      ...LOKI_ONLY,
      LOKI_URL: `http://tenant-user:${SECRET}@127.0.0.1:${port}/loki?orgId=${SECRET}`,
      LOKI_USER: 'tenant-user',
      LOKI_TOKEN: SECRET,
      LOKI_MAX_RETRIES: '1',
      DATA_CACHE_TTL_SECONDS: '0',
      ROLLUPS_URL: 'off',
    });
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
  });
  afterAll(() => restore());

  it.each([
    ['/metrics/summary', {}],
    ['/metrics', { metric: 'deployment_frequency' }],
  ])(
    'answers GET %s with 502 problem+json naming the host and ECONNREFUSED, without credentials',
    async (path, query) => {
      const response = await invoke(path === '/metrics' ? metrics : summary, { path, query });

      expect(response.statusCode).toBe(502);
      expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
      expect(response.json).toEqual({
        type: 'about:blank',
        title: 'Bad Gateway',
        status: 502,
        detail: `Loki could not be reached at 127.0.0.1:${port} after 2 attempts: connection refused (ECONNREFUSED)`,
        requestId: expect.any(String),
      });
      expect(response.body).not.toMatch(new RegExp(`${SECRET}|tenant-user|orgId|/loki`));
    },
  );
});
