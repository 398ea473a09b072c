import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { routes } from '../../lib/openapi/routes';
import { type InvokeResult, invoke } from '../helpers/lambda';
import { type ApiUnderTest, startApi } from '../security/api';
import { mintToken } from '../security/tokens';

type Json = Record<string, unknown>;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);

let api: ApiUnderTest;
let document: Json;
let authorization: Record<string, string>;

beforeAll(async () => {
  api = await startApi();
  authorization = { authorization: `Bearer ${await mintToken()}` };
  document = (await invoke(api.handlers.openapi, { path: '/openapi.json' })).json as Json;
});
afterAll(async () => api.restore());

/** The documented schema of one response, with the shared Problem component resolved. */
function documentedSchema(route: string, method: string, status: number, contentType: string): Json {
  const operation = (document.paths as Record<string, Record<string, Json>>)[route]?.[method];
  const response = (operation?.responses as Record<string, Json> | undefined)?.[String(status)];
  const schema = (response?.content as Record<string, { schema: Json }> | undefined)?.[contentType]?.schema;
  if (!schema)
    throw new Error(`${method.toUpperCase()} ${route} documents no ${status} ${contentType} response`);
  if (schema.$ref === '#/components/schemas/Problem') {
    return (document.components as { schemas: Record<string, Json> }).schemas.Problem as Json;
  }
  return schema;
}

function expectDocumented(route: string, method: string, response: InvokeResult): void {
  const contentType = response.statusCode >= 400 ? 'application/problem+json' : 'application/json';
  expect(response.headers['Content-Type']).toMatch(new RegExp(`^${contentType.replace('+', '\\+')}`));
  const validate = ajv.compile(documentedSchema(route, method, response.statusCode, contentType));
  const valid = validate(response.json);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
}

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document served without a token while authentication is on', async () => {
    const response = await invoke(api.handlers.openapi, { path: '/openapi.json' });

    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'DORA API' },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    });
  });

  it('documents every route of serverless.yml, and only those', () => {
    const serverless = readFileSync(path.resolve(__dirname, '../../serverless.yml'), 'utf8');
    const deployed = [...serverless.matchAll(/method: (\w+)\s+path: (\S+)/g)].map(
      ([, method, route]) => `${method?.toLowerCase()} ${route}`,
    );
    const documented = Object.entries(document.paths as Record<string, Json>).flatMap(([route, operations]) =>
      Object.keys(operations).map((method) => `${method} ${route}`),
    );

    expect(documented.sort()).toEqual(deployed.sort());
  });

  it('marks every route but /health, /openapi.json, the dashboard page and the webhook receiver (GitHub signs instead) as needing a bearer token, with a 401 answer', () => {
    const publicRoutes = ['/openapi.json', '/', '/dashboard', '/webhooks/github'];
    const optionalTokenRoutes = ['/health'];
    for (const route of routes) {
      const operation = (document.paths as Record<string, Record<string, Json>>)[route.path]?.[route.method];
      const optionalToken = optionalTokenRoutes.includes(route.path);
      const protectedRoute = !publicRoutes.includes(route.path) && !optionalToken;
      expect({ route: route.path, security: operation?.security }).toEqual({
        route: route.path,
        security: protectedRoute ? [{ bearerAuth: [] }] : optionalToken ? [{}, { bearerAuth: [] }] : [],
      });
      // The webhook receiver answers 401 too, for a delivery whose signature does not verify.
      const signed = route.path === '/webhooks/github';
      expect(Object.keys(operation?.responses as Json).includes('401')).toBe(
        protectedRoute || optionalToken || signed,
      );
    }
  });

  it('documents the 401 GET /health?deep=true answers without a token', async () => {
    const response = await invoke(api.handlers.health, { path: '/health', query: { deep: 'true' } });

    expect(response.statusCode).toBe(401);
    expectDocumented('/health', 'get', response);
  });

  it('contains only schemas a JSON Schema 2020-12 validator compiles', () => {
    const schemas: Json[] = [];
    JSON.stringify(document, (key, value) => {
      if (key === 'schema') schemas.push(value);
      return value;
    });

    expect(schemas.length).toBeGreaterThan(10);
    for (const schema of schemas) {
      if (schema.$ref) continue;
      expect(() => ajv.compile(schema)).not.toThrow();
    }
  });
});

describe('real responses match the documented schemas', () => {
  it('GET /health 200', async () => {
    expectDocumented('/health', 'get', await invoke(api.handlers.health, { path: '/health' }));
  });

  it('GET /openapi.json 200', async () => {
    expectDocumented('/openapi.json', 'get', await invoke(api.handlers.openapi, { path: '/openapi.json' }));
  });

  it('GET /teams 200, with repositories and names only', async () => {
    const full = await invoke(api.handlers.teams, { path: '/teams', headers: authorization });
    const names = await invoke(api.handlers.teams, {
      path: '/teams',
      query: { fields: 'name' },
      headers: authorization,
    });

    expect(full.statusCode).toBe(200);
    expectDocumented('/teams', 'get', full);
    expect(names.statusCode).toBe(200);
    expectDocumented('/teams', 'get', names);
  });

  it('POST /data 200 with records', async () => {
    const response = await invoke(api.handlers.data, {
      method: 'POST',
      path: '/data',
      body: api.period,
      headers: authorization,
    });

    expect(response.statusCode).toBe(200);
    expect((response.json as { records: unknown[] }).records.length).toBeGreaterThan(0);
    expectDocumented('/data', 'post', response);
  });

  it.each([
    ['400 for a wrong body', { body: { start: 'yesterday' }, headers: 'valid' }],
    ['401 without a token', { body: {}, headers: 'none' }],
    ['413 for a huge body', { body: 'x'.repeat(300 * 1024), headers: 'valid' }],
  ] as const)('POST /data %s', async (_name, request) => {
    const response = await invoke(api.handlers.data, {
      method: 'POST',
      path: '/data',
      body: request.body,
      headers: request.headers === 'valid' ? authorization : {},
    });

    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expectDocumented('/data', 'post', response);
  });

  it('GET /teams 400 for an unknown query flag, as a documented problem', async () => {
    const response = await invoke(api.handlers.teams, {
      path: '/teams',
      query: { fields: 'name', nocache: 'true' },
      headers: authorization,
    });

    expect(response.statusCode).toBe(400);
    expectDocumented('/teams', 'get', response);
  });

  it.each([
    ['/metrics', 'metrics', { metric: 'deployment_frequency', interval: 'weekly' }],
    ['/metrics', 'metrics', { metric: 'lead_time_for_changes', interval: 'all' }],
    ['/metrics', 'metrics', { metric: 'time_to_restore_service', interval: 'daily' }],
    ['/metrics/summary', 'summary', {}],
    ['/metrics/summary', 'summary', { group_by: 'repository' }],
  ] as const)('GET %s 200 (%s %j)', async (route, name, query) => {
    const response = await invoke(api.handlers[name], {
      path: route,
      query: { ...query, start_date: api.period.start.slice(0, 10), end_date: api.period.end.slice(0, 10) },
      headers: authorization,
    });

    expect(response.statusCode).toBe(200);
    expectDocumented(route, 'get', response);
  });

  /** The request of a sample event of events/ (what `serverless invoke local` sends). */
  function sampleRequest(name: string): { body: unknown; query: Record<string, string> } {
    const event = JSON.parse(readFileSync(path.resolve(__dirname, `../../events/${name}.json`), 'utf8'));
    return {
      body: event.body === undefined ? undefined : JSON.parse(event.body),
      query: Object.fromEntries(new URLSearchParams(event.rawQueryString ?? '')),
    };
  }

  it.each([
    ['/events/deployments', 'deployments', 'events-deployments', 201],
    ['/events/incidents', 'incidents', 'events-incidents', 201],
    ['/api/status', 'status', 'status', 200],
  ] as const)('POST %s %s from its sample event', async (route, name, sample, status) => {
    const { body } = sampleRequest(sample);

    const response = await invoke(api.handlers[name], {
      method: 'POST',
      path: route,
      body,
      headers: authorization,
    });

    expect(response.statusCode).toBe(status);
    const schema = documentedSchema(route, 'post', status, 'application/json');
    const validate = ajv.compile(schema);
    expect(validate(response.json) ? [] : validate.errors).toEqual([]);
  });

  it('GET /status.json 200 after a status was reported', async () => {
    await invoke(api.handlers.status, {
      method: 'POST',
      path: '/api/status',
      body: sampleRequest('status').body,
      headers: authorization,
    });

    const response = await invoke(api.handlers.statusJson, {
      path: '/status.json',
      query: sampleRequest('status-json').query,
      headers: authorization,
    });

    expect(response.statusCode).toBe(200);
    expectDocumented('/status.json', 'get', response);
  });
});
