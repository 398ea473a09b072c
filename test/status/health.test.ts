import type { LokiServer } from '../../dev/loki-server';
import type { handler as HealthHandler } from '../../functions/health';
import type { handler as StatusHandler } from '../../functions/status';
import { forgetTrackedPairsForTests } from '../../lib/status/registry';
import { setEnv, useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { mintToken, TEST_JWT_SECRET } from '../security/tokens';

const report = (server: string) => ({
  repo: 'health',
  server,
  sync_status: 'SYNCED',
  drift_count: 0,
  files: [],
  last_check: '2026-11-28T04:00:00Z',
});

describe('GET /health and the GitOps pairs', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let health: typeof HealthHandler;
  let postStatus: typeof StatusHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn({}, { LOKI_MAX_RETRIES: '0', AUTH_JWT_SECRET: '' }));
    ({ handler: health } = await import('../../functions/health'));
    ({ handler: postStatus } = await import('../../functions/status'));
    for (const server of ['a', 'b', 'c']) {
      await invoke(postStatus, { method: 'POST', path: '/api/status', body: report(server) });
    }
  });
  afterAll(async () => restore());

  it('counts the pairs from memory without calling Loki by default', async () => {
    forgetTrackedPairsForTests();
    await invoke(postStatus, { method: 'POST', path: '/api/status', body: report('a') });
    const requests = loki.requests.length;

    const response = await invoke(health, { path: '/health', query: { cachebuster: '1' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ gitops: { tracked_pairs: 1, source: 'container' } });
    expect(loki.requests).toHaveLength(requests);
  });

  it('counts the pairs in Loki with ?deep=true', async () => {
    forgetTrackedPairsForTests();

    const response = await invoke(health, { path: '/health', query: { deep: 'true' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({ status: 'ok', gitops: { tracked_pairs: 3, source: 'loki' } });
  });

  it('stays 200 and says why when Loki fails during the deep check', async () => {
    loki.failNext(503, 1, 'down');

    const response = await invoke(health, { path: '/health', query: { deep: 'true' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({
      gitops: { tracked_pairs: null, source: 'loki', error: 'Loki answered the query with HTTP 503' },
    });
  });

  describe('with AUTH_JWT_SECRET set', () => {
    let restoreAuth: () => void;
    beforeAll(() => {
      restoreAuth = setEnv({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
    });
    afterAll(() => restoreAuth());

    it('answers a plain /health without a token', async () => {
      const response = await invoke(health, { path: '/health' });

      expect(response.statusCode).toBe(200);
    });

    it('requires a token for the deep check, which queries Loki', async () => {
      const requests = loki.requests.length;

      const anonymous = await invoke(health, { path: '/health', query: { deep: 'true' } });
      const authorized = await invoke(health, {
        path: '/health',
        query: { deep: 'true' },
        headers: { authorization: `Bearer ${await mintToken()}` },
      });

      expect(anonymous.statusCode).toBe(401);
      expect(authorized.statusCode).toBe(200);
      expect(authorized.json).toMatchObject({ gitops: { tracked_pairs: 3, source: 'loki' } });
      expect(loki.requests.length).toBeGreaterThan(requests);
    });
  });

  describe('with AUTH_MODE=gateway (the route has no API Gateway authorizer)', () => {
    let restoreAuth: () => void;
    beforeAll(() => {
      restoreAuth = setEnv({ AUTH_MODE: 'gateway' });
    });
    afterAll(() => restoreAuth());

    it('answers a plain /health without a token', async () => {
      const response = await invoke(health, { path: '/health' });

      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({ gitops: { source: 'container' } });
    });

    it('refuses the deep check with a 401 problem and no Loki query, even with a bearer token', async () => {
      const requests = loki.requests.length;
      // The gateway does not check tokens on /health, so a token here proves nothing about the caller.
      const unchecked = await mintToken({ secret: 'x'.repeat(40) });

      const anonymous = await invoke(health, { path: '/health', query: { deep: 'true' } });
      const withToken = await invoke(health, {
        path: '/health',
        query: { deep: 'true' },
        headers: { authorization: `Bearer ${unchecked}` },
      });

      for (const response of [anonymous, withToken]) {
        expect(response.statusCode).toBe(401);
        expect(response.headers['WWW-Authenticate']).toBe('Bearer');
        expect(response.headers['Content-Type']).toContain('application/problem+json');
        expect(response.json).toMatchObject({ status: 401 });
      }
      expect(loki.requests).toHaveLength(requests);
    });

    it('runs the deep check for a caller the gateway authorizer checked', async () => {
      const response = await invoke(health, {
        path: '/health',
        query: { deep: 'true' },
        authorizerClaims: { sub: 'backstage', iss: 'https://issuer.example.com' },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({ gitops: { tracked_pairs: 3, source: 'loki' } });
    });
  });

  describe('with AUTH_MODE=off', () => {
    let restoreAuth: () => void;
    beforeAll(() => {
      restoreAuth = setEnv({ AUTH_MODE: 'off', AUTH_JWT_SECRET: TEST_JWT_SECRET });
    });
    afterAll(() => restoreAuth());

    it('runs the deep check without a token', async () => {
      const response = await invoke(health, { path: '/health', query: { deep: 'true' } });

      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({ gitops: { tracked_pairs: 3, source: 'loki' } });
    });
  });
});
