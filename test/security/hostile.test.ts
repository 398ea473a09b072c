import { type EventOptions, invoke } from '../helpers/lambda';
import { type ApiUnderTest, type Handler, startApi } from './api';
import { mintToken, rs256Token, unsignedToken } from './tokens';

/**
 * Hostile requests, route by route: each must end in the documented problem document with the
 * right status, name the offending parameter, and (for names) be refused before any LogQL is sent.
 */

type RouteName = 'data' | 'teams' | 'metrics' | 'summary' | 'deployments' | 'incidents';

interface HostileCase {
  name: string;
  route: RouteName;
  request: Omit<EventOptions, 'path'> & { token?: 'valid' | 'none' | (() => Promise<string>) };
  status: number;
  /** A parameter the problem's `errors` must name. */
  field?: string;
  detail?: RegExp;
}

const PATHS: Record<RouteName, string> = {
  data: '/data',
  teams: '/teams',
  metrics: '/metrics',
  summary: '/metrics/summary',
  deployments: '/events/deployments',
  incidents: '/events/incidents',
};
const DEPLOYMENT = {
  repository: 'checkout-service',
  sha: '08bc87cf41e805e319fa9857e501d76e318cdb07',
  environment: 'production',
  status: 'success',
};
const INCIDENT = { repository: 'checkout-service', id: 'PD-1', title: 'Errors' };
const PERIOD = { start: '2026-10-01T00:00:00Z', end: '2026-11-01T00:00:00Z' };
const DAYS = { start_date: '2026-10-01', end_date: '2026-10-31' };
const post = (body: unknown, extra: Partial<HostileCase['request']> = {}): HostileCase['request'] => ({
  method: 'POST',
  body,
  ...extra,
});
const get = (query: Record<string, string>, extra: Partial<HostileCase['request']> = {}) => ({
  query,
  ...extra,
});

const CASES: HostileCase[] = [
  // POST /data: malformed and mistyped bodies
  {
    name: 'malformed JSON',
    route: 'data',
    request: post('{"start": "2026-'),
    status: 400,
    detail: /not valid JSON/,
  },
  { name: 'a JSON array body', route: 'data', request: post('[1,2,3]'), status: 400, field: 'body' },
  { name: 'a JSON string body', route: 'data', request: post('"start"'), status: 400, field: 'body' },
  { name: 'no body', route: 'data', request: { method: 'POST' }, status: 400, field: 'start' },
  {
    name: 'start as a number',
    route: 'data',
    request: post({ ...PERIOD, start: 1_700_000_000 }),
    status: 400,
    field: 'start',
  },
  {
    name: 'repositories as a string',
    route: 'data',
    request: post({ ...PERIOD, repositories: 'api' }),
    status: 400,
    field: 'repositories',
  },
  {
    name: 'team as an object',
    route: 'data',
    request: post({ ...PERIOD, team: { $ne: null } }),
    status: 400,
    field: 'team',
  },
  {
    name: '501 repositories',
    route: 'data',
    request: post({ ...PERIOD, repositories: Array.from({ length: 501 }, (_, i) => `r${i}`) }),
    status: 400,
    field: 'repositories',
  },
  {
    name: 'a 256-character team',
    route: 'data',
    request: post({ ...PERIOD, team: 't'.repeat(256) }),
    status: 400,
    field: 'team',
  },
  {
    name: 'a body above MAX_BODY_BYTES',
    route: 'data',
    request: post({ ...PERIOD, padding: 'x'.repeat(300 * 1024) }),
    status: 413,
    detail: /at most 262144 bytes/,
  },
  // POST /data: injection attempts in names
  {
    name: 'a LogQL matcher in a repository',
    route: 'data',
    request: post({ ...PERIOD, repositories: ['api"} |= "" or {a=~".+'] }),
    status: 400,
    field: 'repositories.0',
  },
  {
    name: 'a regex alternation in a repository',
    route: 'data',
    request: post({ ...PERIOD, repositories: ['a|b'] }),
    status: 400,
    field: 'repositories.0',
  },
  {
    name: 'a path traversal as a repository',
    route: 'data',
    request: post({ ...PERIOD, repositories: ['..'] }),
    status: 400,
    field: 'repositories.0',
  },
  {
    name: 'a newline and selector in a team',
    route: 'data',
    request: post({ ...PERIOD, team: 'x"}\n{service_namespace=~".+"}' }),
    status: 400,
    field: 'team',
  },
  {
    name: 'a NUL byte in a team',
    route: 'data',
    request: post({ ...PERIOD, team: 'platform\u0000' }),
    status: 400,
    field: 'team',
  },
  // POST /data: absurd ranges
  {
    name: 'a start in 1900',
    route: 'data',
    request: post({ ...PERIOD, start: '1900-01-01T00:00:00Z' }),
    status: 400,
    field: 'start',
    detail: /1970/,
  },
  {
    name: 'an end in 9999',
    route: 'data',
    request: post({ ...PERIOD, end: '9999-12-31T23:59:59Z' }),
    status: 400,
    field: 'end',
  },
  {
    name: 'an end before start',
    route: 'data',
    request: post({ start: PERIOD.end, end: PERIOD.start }),
    status: 400,
    field: 'end',
  },
  {
    name: 'a 130-year range',
    route: 'data',
    request: post({ start: '1970-01-01T00:00:00Z', end: '2100-01-01T00:00:00Z' }),
    status: 400,
    field: 'end',
  },
  {
    name: 'a date without time',
    route: 'data',
    request: post({ ...PERIOD, start: '2026-10-01' }),
    status: 400,
    field: 'start',
  },
  {
    name: 'February 30th',
    route: 'data',
    request: post({ ...PERIOD, start: '2026-02-30T00:00:00Z' }),
    status: 400,
    field: 'start',
  },
  // POST /data: query flags and tokens
  {
    name: 'an unknown query flag',
    route: 'data',
    request: post(PERIOD, { query: { debug: 'true' } }),
    status: 400,
    field: 'debug',
  },
  {
    name: 'no_cache=maybe',
    route: 'data',
    request: post(PERIOD, { query: { no_cache: 'maybe' } }),
    status: 400,
    field: 'no_cache',
  },
  {
    name: 'no token',
    route: 'data',
    request: post(PERIOD, { token: 'none' }),
    status: 401,
    detail: /bearer token is required/,
  },
  {
    name: 'an alg:none token',
    route: 'data',
    request: post(PERIOD, { token: async () => unsignedToken() }),
    status: 401,
  },
  { name: 'an RS256 token', route: 'data', request: post(PERIOD, { token: rs256Token }), status: 401 },
  {
    name: 'an expired token',
    route: 'data',
    request: post(PERIOD, { token: () => mintToken({ expiresIn: '-1h' }) }),
    status: 401,
    detail: /expired/,
  },
  // GET /teams
  {
    name: 'fields=password',
    route: 'teams',
    request: get({ fields: 'password' }),
    status: 400,
    field: 'fields',
  },
  { name: 'an unknown flag', route: 'teams', request: get({ admin: 'true' }), status: 400, field: 'admin' },
  {
    name: 'a body on GET',
    route: 'teams',
    request: get({}, { body: '{"team":"x"}' }),
    status: 400,
    field: 'body',
  },
  {
    name: 'no_cache=yes please',
    route: 'teams',
    request: get({ no_cache: 'yes please' }),
    status: 400,
    field: 'no_cache',
  },
  { name: 'no token', route: 'teams', request: get({}, { token: 'none' }), status: 401 },
  {
    name: 'a forged token',
    route: 'teams',
    request: get({}, { token: () => mintToken({ secret: 'not-the-secret-but-long-enough-0123456789' }) }),
    status: 401,
    detail: /signature/,
  },
  // GET /metrics
  { name: 'no metric', route: 'metrics', request: get(DAYS), status: 400, field: 'metric' },
  {
    name: 'a body on GET',
    route: 'metrics',
    request: get({ ...DAYS, metric: 'rework_rate' }, { body: 'x' }),
    status: 400,
    field: 'body',
  },
  {
    name: 'an unknown metric',
    route: 'metrics',
    request: get({ ...DAYS, metric: 'drop_table' }),
    status: 400,
    field: 'metric',
  },
  {
    name: 'a LogQL matcher in repositories',
    route: 'metrics',
    request: get({ ...DAYS, metric: 'deployment_frequency', repositories: 'api,web"} or {a=~".+' }),
    status: 400,
    field: 'repositories.1',
  },
  {
    name: 'a control character in team',
    route: 'metrics',
    request: get({ ...DAYS, metric: 'rework_rate', team: 'a\u001bb' }),
    status: 400,
    field: 'team',
  },
  {
    name: 'a start_date in 1900',
    route: 'metrics',
    request: get({ ...DAYS, metric: 'deployment_frequency', start_date: '1900-01-01' }),
    status: 400,
    field: 'start_date',
  },
  {
    name: 'an epoch far in the future',
    route: 'metrics',
    request: get({ metric: 'deployment_frequency', from: '1', to: '99999999999999' }),
    status: 400,
    field: 'to',
  },
  {
    name: 'an end_date before start_date',
    route: 'metrics',
    request: get({ metric: 'deployment_frequency', start_date: '2026-10-31', end_date: '2026-10-01' }),
    status: 400,
    field: 'end_date',
  },
  {
    name: 'a negative epoch',
    route: 'metrics',
    request: get({ metric: 'deployment_frequency', from: '-5', to: '10' }),
    status: 400,
    field: 'from',
  },
  {
    name: 'no token',
    route: 'metrics',
    request: get({ ...DAYS, metric: 'deployment_frequency' }, { token: 'none' }),
    status: 401,
  },
  // GET /metrics/summary
  {
    name: 'a newline in team',
    route: 'summary',
    request: get({ ...DAYS, team: 'a\nb' }),
    status: 400,
    field: 'team',
  },
  {
    name: 'interval on the summary',
    route: 'summary',
    request: get({ ...DAYS, interval: 'daily' }),
    status: 400,
    field: 'interval',
  },
  {
    name: 'an expired token',
    route: 'summary',
    request: get(DAYS, { token: () => mintToken({ expiresIn: '-10m' }) }),
    status: 401,
  },
  // POST /events/deployments and /events/incidents: nothing hostile is written to Loki
  {
    name: 'malformed JSON',
    route: 'deployments',
    request: post('{"repository":'),
    status: 400,
    detail: /not valid JSON/,
  },
  {
    name: 'a LogQL matcher as repository',
    route: 'deployments',
    request: post({ ...DEPLOYMENT, repository: 'x"} |= "' }),
    status: 400,
    field: 'repository',
  },
  {
    name: 'a body above MAX_BODY_BYTES',
    route: 'deployments',
    request: post({ ...DEPLOYMENT, padding: 'x'.repeat(300 * 1024) }),
    status: 413,
  },
  { name: 'no token', route: 'deployments', request: post(DEPLOYMENT, { token: 'none' }), status: 401 },
  {
    name: 'a path traversal as repository',
    route: 'incidents',
    request: post({ ...INCIDENT, repository: '..' }),
    status: 400,
    field: 'repository',
  },
  { name: 'a JSON array body', route: 'incidents', request: post('[]'), status: 400, field: 'body' },
  {
    name: 'an alg:none token',
    route: 'incidents',
    request: post(INCIDENT, { token: async () => unsignedToken() }),
    status: 401,
  },
];

let api: ApiUnderTest;
let validToken: string;

beforeAll(async () => {
  api = await startApi();
  validToken = await mintToken();
});
afterAll(async () => api.restore());

async function authorization(token: HostileCase['request']['token']): Promise<Record<string, string>> {
  if (token === 'none') return {};
  const value = token === undefined || token === 'valid' ? validToken : await token();
  return { authorization: `Bearer ${value}` };
}

describe.each(Object.keys(PATHS) as RouteName[])('hostile requests to %s', (route) => {
  it.each(CASES.filter((hostile) => hostile.route === route).map((hostile) => [hostile.name, hostile]))(
    'answers a problem document for %s',
    async (_name, hostile) => {
      const { token, headers, ...request } = hostile.request;
      const lokiCallsBefore = api.loki.requests.length;

      const response = await invoke(api.handlers[route] as Handler, {
        ...request,
        path: PATHS[route],
        headers: { ...(await authorization(token)), ...headers },
      });

      expect(response.statusCode).toBe(hostile.status);
      expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
      expect(response.json).toMatchObject({
        type: 'about:blank',
        status: hostile.status,
        detail: hostile.detail ? expect.stringMatching(hostile.detail) : expect.any(String),
        requestId: expect.stringMatching(/^request-\d+$/),
      });
      if (hostile.field) {
        expect((response.json as { errors?: Array<{ field: string }> }).errors).toEqual(
          expect.arrayContaining([expect.objectContaining({ field: hostile.field })]),
        );
      }
      if (hostile.status === 401) expect(response.headers['WWW-Authenticate']).toMatch(/^Bearer/);
      // Nothing hostile reaches Loki: refused before any LogQL is built.
      expect(api.loki.requests.length).toBe(lokiCallsBefore);
    },
  );
});
