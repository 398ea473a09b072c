import type { Logger } from '@aws-lambda-powertools/logger';
import { invoke } from '../helpers/lambda';
import { type ApiUnderTest, SECRETS, startApi } from './api';
import { mintToken } from './tokens';

/** Every log line written while the API serves good and bad requests; none may hold a secret. */

let api: ApiUnderTest;
let lines: string[];
let token: string;
let writeSpies: jest.SpyInstance[];
let logger: Logger;
const savedLogLevel = process.env.POWERTOOLS_LOG_LEVEL;

beforeAll(async () => {
  // The logger takes its level when its module loads (and restores it at every invocation): load
  // the API afresh with every level written.
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  jest.resetModules();
  ({ logger } = await import('../../lib/logger'));
  api = await startApi();
  token = await mintToken({ expiresIn: '1h' });
});
afterAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = savedLogLevel;
  await api.restore();
});

// WARN and ERROR lines go to stderr, the others to stdout: both are what CloudWatch keeps.
beforeEach(() => {
  lines = [];
  writeSpies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }),
  );
});
afterEach(() => {
  for (const spy of writeSpies) spy.mockRestore();
});

function expectNoSecretIn(logged: string[]): void {
  for (const secret of [...Object.values(SECRETS), token]) {
    const leaking = logged.filter((line) => line.includes(secret));
    expect({ secret: `${secret.slice(0, 6)}…`, leaking }).toEqual({
      secret: `${secret.slice(0, 6)}…`,
      leaking: [],
    });
  }
}

describe('log lines', () => {
  it('hold no configured secret, token or Authorization header while routes succeed and fail', async () => {
    const authorization = { authorization: `Bearer ${token}` };
    const { period } = api;
    // Upstreams that echo the credentials they were sent, as misconfigured proxies do.
    api.loki.failNext(500, 1, `upstream rejected Authorization: Basic ${SECRETS.LOKI_TOKEN}`);
    api.github.failNext({ kind: 'status', status: 500, message: `token ${SECRETS.GITHUB_TOKEN} refused` });

    await invoke(api.handlers.data, { method: 'POST', path: '/data', body: period, headers: authorization });
    await invoke(api.handlers.teams, { path: '/teams', query: { no_cache: 'true' }, headers: authorization });
    await invoke(api.handlers.data, { method: 'POST', path: '/data', body: period, headers: authorization });
    await invoke(api.handlers.data, { method: 'POST', path: '/data', body: '{bad', headers: authorization });
    await invoke(api.handlers.data, {
      method: 'POST',
      path: '/data',
      body: period,
      headers: { authorization: `Bearer ${await mintToken({ expiresIn: '-1h' })}` },
    });
    await invoke(api.handlers.metrics, {
      path: '/metrics',
      query: { metric: 'deployment_frequency', start_date: period.start.slice(0, 10) },
      headers: authorization,
    });

    // The failure paths were taken: the upstream errors (with their causes) and the 401 were logged.
    const statuses = lines.map((line) => (JSON.parse(line) as { statusCode?: number }).statusCode);
    expect(statuses).toEqual(expect.arrayContaining([502, 400, 401]));
    expectNoSecretIn(lines);
  });

  it('carry the request id on every line written while serving a request', async () => {
    await invoke(api.handlers.data, { method: 'POST', path: '/data', body: '[]', headers: {} });

    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(JSON.parse(line)).toMatchObject({ function_request_id: expect.any(String) });
  });

  it('redact secrets, Authorization headers and URL credentials a caller logs by mistake', () => {
    logger.info('debugging', {
      headers: { Authorization: `Bearer ${token}`, 'x-api-key': 'abcd-1234' },
      lokiUrl: `https://${'tenant'}:${SECRETS.LOKI_TOKEN}@logs.example.com/loki`,
      proxy: 'https://someone:hunter22@proxy.internal:8080/',
      note: `the secret is ${SECRETS.AUTH_JWT_SECRET}`,
      error: new Error(`GitHub said: bad credentials ${SECRETS.GITHUB_TOKEN}`),
    });

    expect(lines).toHaveLength(1);
    const logged = JSON.parse(lines[0] ?? '{}');
    expect(logged).toMatchObject({
      headers: { Authorization: '[REDACTED]', 'x-api-key': '[REDACTED]' },
      lokiUrl: 'https://[REDACTED]@logs.example.com/loki',
      proxy: 'https://[REDACTED]@proxy.internal:8080/',
      note: 'the secret is [REDACTED]',
      error: { message: 'GitHub said: bad credentials [REDACTED]' },
    });
    expect(lines[0]).not.toContain('hunter22');
    expectNoSecretIn(lines);
  });
});
