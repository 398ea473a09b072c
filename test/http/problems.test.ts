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
        .map((route) => route.method.toUpperCase());

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
    expect(answer.headers.get('allow')).toBe('GET');
    expect(answer.json).toMatchObject({ detail: '/metrics answers GET only, not DELETE' });
  });
});
