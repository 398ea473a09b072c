import corsPolicy from '../../deploy/cors-policy.json';
import { type LocalServer, startLocalServer } from '../helpers/local-server';

/**
 * CORS over HTTP against `npm start`, as API Gateway answers it for the same settings (deploy/http-api.js):
 * serverless offline's own CORS (its origin echo, `access-control-allow-credentials: true`, 200 preflights)
 * is replaced by dev/offline-cors.js. Three starts: authentication off (CORS `*`), a token secret with
 * CORS_ORIGINS (that list), a token secret without (no CORS: the function's answer, no origin allowed).
 */
jest.setTimeout(180_000);

const ALLOWED = 'https://backstage.example.com';
const OTHER = 'https://elsewhere.example.com';
const SECRET = 'offline-cors-test-secret-0123456789abcdef0123';

let open: LocalServer;
let listed: LocalServer;
let closed: LocalServer;

beforeAll(async () => {
  [open, listed, closed] = await Promise.all([
    startLocalServer(),
    startLocalServer({ AUTH_JWT_SECRET: SECRET, CORS_ORIGINS: ALLOWED }),
    startLocalServer({ AUTH_JWT_SECRET: SECRET }),
  ]);
}, 170_000);

afterAll(async () => {
  await Promise.all([open?.kill(), listed?.kill(), closed?.kill()]);
});

/** The access-control-* headers of an answer, by lower-case name. */
async function corsOf(server: LocalServer, method: string, path: string, headers: Record<string, string>) {
  const response = await fetch(`${server.baseUrl}${path}`, { method, headers });
  await response.arrayBuffer();
  const cors = Object.fromEntries(
    [...response.headers].filter(([name]) => name.startsWith('access-control-')),
  ) as Record<string, string>;
  return { status: response.status, cors };
}

const preflight = (origin: string) => ({
  origin,
  'access-control-request-method': 'POST',
  'access-control-request-headers': 'content-type, authorization',
});

describe('npm start with authentication off: CORS for every origin, as API Gateway configured with *', () => {
  it('names * and the exposed headers on an answer, with no credentials', async () => {
    const answer = await corsOf(open, 'GET', '/health', { origin: OTHER });

    expect(answer).toEqual({
      status: 200,
      cors: {
        'access-control-allow-origin': '*',
        'access-control-expose-headers': corsPolicy.exposedResponseHeaders.join(','),
      },
    });
  });

  it('answers a preflight 204 with the methods, headers and max-age of deploy/cors-policy.json', async () => {
    const answer = await corsOf(open, 'OPTIONS', '/data', preflight(OTHER));

    expect(answer).toEqual({
      status: 204,
      cors: {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': corsPolicy.allowedMethods.join(','),
        'access-control-allow-headers': corsPolicy.allowedHeaders.join(','),
        'access-control-max-age': String(corsPolicy.maxAge),
      },
    });
  });

  it('names no credentials on errors either', async () => {
    const answer = await corsOf(open, 'GET', '/no-such-route', { origin: OTHER });

    expect(answer.status).toBe(404);
    expect(answer.cors['access-control-allow-credentials']).toBeUndefined();
    expect(answer.cors['access-control-allow-origin']).toBe('*');
  });
});

describe('npm start with a token secret and CORS_ORIGINS: that list only', () => {
  it('names a listed origin, on the 401 of a request without a token too', async () => {
    const answer = await corsOf(listed, 'GET', '/teams', { origin: ALLOWED });

    expect(answer.status).toBe(401);
    expect(answer.cors).toEqual({
      'access-control-allow-origin': ALLOWED,
      'access-control-expose-headers': corsPolicy.exposedResponseHeaders.join(','),
    });
  });

  it('allows the preflight of a listed origin', async () => {
    const answer = await corsOf(listed, 'OPTIONS', '/data', preflight(ALLOWED));

    expect(answer.status).toBe(204);
    expect(answer.cors['access-control-allow-origin']).toBe(ALLOWED);
    expect(answer.cors['access-control-allow-credentials']).toBeUndefined();
  });

  it('names no other origin, on a preflight or an answer', async () => {
    const asked = await corsOf(listed, 'OPTIONS', '/data', preflight(OTHER));
    const answered = await corsOf(listed, 'GET', '/health', { origin: OTHER });

    expect(asked).toEqual({ status: 204, cors: {} });
    expect(answered).toEqual({ status: 200, cors: {} });
  });
});

describe('npm start with a token secret and no CORS_ORIGINS: no CORS, no origin allowed', () => {
  it('allows no origin on a preflight, answered 204 by the function as on API Gateway', async () => {
    const answer = await corsOf(closed, 'OPTIONS', '/data', preflight(OTHER));

    expect(answer.status).toBe(204);
    expect(answer.cors['access-control-allow-origin']).toBeUndefined();
    expect(answer.cors['access-control-allow-credentials']).toBeUndefined();
  });

  it('names no origin and no credentials on an answer', async () => {
    const answer = await corsOf(closed, 'GET', '/teams', { origin: OTHER });

    expect(answer.status).toBe(401);
    expect(answer.cors['access-control-allow-origin']).toBeUndefined();
    expect(answer.cors['access-control-allow-credentials']).toBeUndefined();
  });
});
