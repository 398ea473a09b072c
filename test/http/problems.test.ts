import { routes } from '../../lib/openapi/routes';
import { type LocalServer, startLocalServer } from '../helpers/local-server';

/**
 * Errors in one shape, over HTTP against `npm start` (serverless offline routes the requests, as API Gateway
 * does on AWS): requests no route takes, and rejected input. One start serves the file.
 */
jest.setTimeout(120_000);

let server: LocalServer;

beforeAll(async () => {
  server = await startLocalServer();
});

afterAll(async () => {
  await server?.kill();
});

const ORIGIN = 'https://dashboards.example.com';

async function send(method: string, path: string, body?: string) {
  const response = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { Origin: ORIGIN, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) as unknown };
}

describe('a path no route serves', () => {
  it('answers 404 problem+json with CORS headers', async () => {
    const answer = await send('GET', '/no-such-route');

    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.json).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: expect.stringContaining('No route matches this path'),
      requestId: expect.any(String),
    });
  });

  it('lists no route and echoes nothing of the request', async () => {
    const answer = await send('GET', '/admin/secret-path?token=abc');

    expect(answer.status).toBe(404);
    expect(answer.text).not.toMatch(/secret-path|token=abc|existingRoutes|\/teams|\/data|\/metrics/);
  });

  it('answers 404, not 400 or 415, when the request carries a body', async () => {
    const answer = await send('POST', '/webhooks/nothing-here', '{"a":1}');

    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers 404 for a path that only starts like a route', async () => {
    const answer = await send('GET', '/metrics/summary/extra');

    expect(answer.status).toBe(404);
  });
});

describe('a route asked with another method', () => {
  // Every route of the table, asked with the method it does not serve (the table has GET and POST routes).
  const wrong = routes.map((route) => [route.method === 'get' ? 'POST' : 'GET', route.path] as const);

  it.each(wrong)(
    'answers %s %s with 405 and Allow naming the methods of the route table',
    async (method, path) => {
      const allowed = routes
        .filter((route) => route.path === path)
        .flatMap((route) => (route.method === 'get' ? ['GET', 'HEAD'] : [route.method.toUpperCase()]));

      const answer = await send(method, path, method === 'POST' ? '{}' : undefined);

      expect(answer.status).toBe(405);
      expect(answer.headers.get('allow')).toBe(allowed.join(', '));
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.json).toMatchObject({ title: 'Method Not Allowed', status: 405 });
    },
  );

  it('answers DELETE with 405 naming the route and the method asked', async () => {
    const answer = await send('DELETE', '/metrics');

    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('GET, HEAD');
    expect(answer.json).toMatchObject({ detail: '/metrics answers GET and HEAD only, not DELETE' });
  });
});

describe('HEAD', () => {
  const getRoutes = routes.filter((route) => route.method === 'get' && !route.path.includes('{'));

  it.each(getRoutes.map((route) => route.path))('answers HEAD %s as GET, without the body', async (path) => {
    const target = path === '/metrics' ? '/metrics?metric=deployment_frequency' : path;
    const get = await fetch(`${server.baseUrl}${target}`, { redirect: 'manual' });
    await get.arrayBuffer();

    const head = await fetch(`${server.baseUrl}${target}`, { method: 'HEAD', redirect: 'manual' });
    const body = await head.arrayBuffer();

    expect({ status: head.status, type: head.headers.get('content-type'), bytes: body.byteLength }).toEqual({
      status: get.status,
      type: get.headers.get('content-type'),
      bytes: 0,
    });
  });

  it('answers HEAD on a POST route with 405 naming POST only', async () => {
    const answer = await fetch(`${server.baseUrl}/data`, { method: 'HEAD' });

    expect(answer.status).toBe(405);
    expect(answer.headers.get('allow')).toBe('POST');
  });
});

describe('a malformed date', () => {
  /** Each field named once, with one message. */
  function messagesByField(json: unknown): Record<string, string[]> {
    const byField: Record<string, string[]> = {};
    for (const { field, message } of (json as { errors: Array<{ field: string; message: string }> }).errors) {
      byField[field] = [...(byField[field] ?? []), message];
    }
    return byField;
  }

  it.each([
    ['/metrics?metric=deployment_frequency&start_date=2024-13-40', 'start_date'],
    ['/metrics?metric=deployment_frequency&end_date=31-01-2024', 'end_date'],
    ['/metrics/summary?start_date=2024-13-40&end_date=2024-12-01', 'start_date'],
  ])('gets one message for %s', async (path, field) => {
    const answer = await send('GET', path);

    expect(answer.status).toBe(400);
    expect(messagesByField(answer.json)).toEqual({ [field]: ['must be a date such as 2024-01-31'] });
    expect(answer.json).toMatchObject({
      detail: `Invalid query string: ${field} must be a date such as 2024-01-31`,
    });
  });

  it('gets the format of POST /data only, not also "end must be after start"', async () => {
    const answer = await send('POST', '/data', '{"start":"2024-13-40","end":"2024-12-01T00:00:00Z"}');

    expect(answer.status).toBe(400);
    expect(messagesByField(answer.json)).toEqual({
      start: ['must be an RFC 3339 date-time such as 2024-01-31T00:00:00Z'],
    });
  });

  it('is told apart from a missing date', async () => {
    const answer = await send('POST', '/data', '{"start":"2024-02-30T00:00:00Z"}');

    expect(answer.status).toBe(400);
    expect(messagesByField(answer.json)).toEqual({
      start: ['must be an RFC 3339 date-time such as 2024-01-31T00:00:00Z'],
      end: ['is required'],
    });
  });

  it('out of the supported years gets the years only', async () => {
    const answer = await send(
      'POST',
      '/data',
      '{"start":"2024-01-01T00:00:00Z","end":"1800-01-01T00:00:00Z"}',
    );

    expect(answer.status).toBe(400);
    expect(messagesByField(answer.json)).toEqual({ end: ['must be a date between the years 1970 and 2100'] });
  });
});
