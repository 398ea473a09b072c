import corsPolicy from '../../deploy/cors-policy.json';
import { routes } from '../../lib/openapi/routes';
import { setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import type { Handler } from './api';
import { mintToken, TEST_JWT_SECRET } from './tokens';

const deployHttpApi = require('../../deploy/http-api.js') as {
  cors: (options: {
    resolveVariable: (name: string) => Promise<string>;
  }) => Promise<false | Record<string, unknown>>;
};

const ORIGIN = 'https://backstage.example.com';
const PREFLIGHT = {
  method: 'OPTIONS',
  path: '/data',
  headers: {
    origin: ORIGIN,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type, authorization',
  },
};

let restoreEnv: () => void = () => undefined;
afterEach(() => restoreEnv());

/** The real POST /data function, loaded under the given settings (the stack reads them once, at load). */
async function dataFunction(env: Record<string, string>): Promise<Handler> {
  restoreEnv = setEnv({
    CORS_ORIGINS: '',
    AUTH_JWT_SECRET: '',
    AUTH_MODE: '',
    SSM_PARAMETER_PATH: '',
    ...env,
  });
  jest.resetModules();
  return (await import('../../functions/data')).handler as unknown as Handler;
}

describe('CORS in the function', () => {
  it('answers a preflight with 204 and any origin while authentication is off', async () => {
    const handler = await dataFunction({});

    const response = await invoke(handler, PREFLIGHT);

    expect(response.statusCode).toBe(204);
    expect(response.headers).toMatchObject({
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'content-type,authorization',
      'Access-Control-Allow-Methods': expect.stringContaining('POST'),
      'Access-Control-Max-Age': '600',
    });
  });

  it('allows no origin when authentication is on and CORS_ORIGINS is unset', async () => {
    const handler = await dataFunction({ AUTH_JWT_SECRET: TEST_JWT_SECRET });

    const preflight = await invoke(handler, PREFLIGHT);
    const refused = await invoke(handler, {
      method: 'POST',
      path: '/data',
      body: {},
      headers: { origin: ORIGIN },
    });

    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['Access-Control-Allow-Origin']).toBeUndefined();
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('names only the CORS_ORIGINS origins, on preflights and on error answers', async () => {
    const handler = await dataFunction({
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      CORS_ORIGINS: `${ORIGIN},https://dash.example.com`,
    });
    const token = await mintToken();

    const preflight = await invoke(handler, PREFLIGHT);
    const badRequest = await invoke(handler, {
      method: 'POST',
      path: '/data',
      body: {},
      headers: { origin: ORIGIN, authorization: `Bearer ${token}` },
    });
    const otherOrigin = await invoke(handler, {
      ...PREFLIGHT,
      headers: { ...PREFLIGHT.headers, origin: 'https://evil.example' },
    });

    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['Access-Control-Allow-Origin']).toBe(ORIGIN);
    expect(preflight.headers.Vary).toContain('Origin');
    expect(badRequest.statusCode).toBe(400);
    expect(badRequest.headers['Access-Control-Allow-Origin']).toBe(ORIGIN);
    expect(otherOrigin.headers['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('never asks for a token on a preflight', async () => {
    const handler = await dataFunction({ AUTH_JWT_SECRET: TEST_JWT_SECRET, CORS_ORIGINS: ORIGIN });

    const response = await invoke(handler, PREFLIGHT);

    expect(response.statusCode).toBe(204);
    expect(response.headers['WWW-Authenticate']).toBeUndefined();
  });

  it('lets browsers read X-Status-Truncated on GET /status.json answers', async () => {
    restoreEnv = setEnv({ CORS_ORIGINS: ORIGIN, AUTH_JWT_SECRET: '', AUTH_MODE: '', SSM_PARAMETER_PATH: '' });
    jest.resetModules();
    const handler = (await import('../../functions/status-json')).handler as unknown as Handler;

    const response = await invoke(handler, { path: '/status.json', headers: { origin: ORIGIN } });

    expect(response.headers['Access-Control-Allow-Origin']).toBe(ORIGIN);
    expect(response.headers['Access-Control-Expose-Headers']?.split(',')).toContain('x-status-truncated');
  });
});

describe('the exposed response headers (deploy/cors-policy.json)', () => {
  it('include every response header the OpenAPI document gives a JSON route', () => {
    const documented = routes
      .filter((route) => route.responseMediaType === undefined)
      .flatMap((route) => Object.keys(route.responseHeaders ?? {}).map((name) => name.toLowerCase()));

    expect(documented).toEqual(
      expect.arrayContaining(['x-cache', 'x-teams-fetched-at', 'x-status-truncated']),
    );
    expect(corsPolicy.exposedResponseHeaders).toEqual(expect.arrayContaining(documented));
  });
});

describe('CORS on API Gateway (deploy/http-api.js, read by serverless.yml)', () => {
  const resolveWith = (params: Record<string, string>) => ({
    resolveVariable: async (name: string) => params[name.replace(/^param:/, '')] ?? '',
  });

  it('allows any origin only when auth is off', async () => {
    expect(await deployHttpApi.cors(resolveWith({ auth: 'off' }))).toMatchObject({ allowedOrigins: ['*'] });
    expect(await deployHttpApi.cors(resolveWith({ auth: 'jwt' }))).toBe(false);
    expect(await deployHttpApi.cors(resolveWith({ auth: 'gateway' }))).toBe(false);
  });

  it('reads auto as the function does on the local stage only: off while AUTH_JWT_SECRET is unset', async () => {
    const local = { auth: 'auto', 'sls:stage': 'local' };

    restoreEnv = setEnv({ AUTH_JWT_SECRET: '' });
    expect(await deployHttpApi.cors(resolveWith(local))).toMatchObject({ allowedOrigins: ['*'] });
    expect(await deployHttpApi.cors(resolveWith({ ...local, 'sls:stage': 'prod' }))).toBe(false);
    restoreEnv();
    restoreEnv = setEnv({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
    expect(await deployHttpApi.cors(resolveWith(local))).toBe(false);
  });

  it('allows the corsOrigins list with the same headers and methods as the function', async () => {
    const cors = await deployHttpApi.cors(
      resolveWith({ auth: 'jwt', corsOrigins: `${ORIGIN}, https://dash.example.com` }),
    );

    expect(cors).toEqual({
      allowedOrigins: [ORIGIN, 'https://dash.example.com'],
      allowedHeaders: ['content-type', 'authorization'],
      allowedMethods: ['GET', 'POST', 'OPTIONS'],
      exposedResponseHeaders: expect.arrayContaining(['www-authenticate', 'retry-after', 'x-cache']),
      maxAge: 600,
    });
  });
});
