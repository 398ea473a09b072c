import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { resetConfigForTests } from '../../lib/config';
import { type HttpResponse, jsonResponse } from '../../lib/http/response';
import { httpStack } from '../../lib/http/stack';
import { invoke } from '../helpers/lambda';
import { mintToken, rs256Token, TEST_JWT_SECRET, tamperedToken, unsignedToken } from './tokens';

const SAVED_ENV = { ...process.env };

function protectedRoute() {
  return middy<APIGatewayProxyEventV2, HttpResponse>()
    .use(httpStack())
    .handler(async () => jsonResponse(200, { ok: true }));
}

function configure(env: Record<string, string | undefined>) {
  process.env = { ...SAVED_ENV, ...env };
  resetConfigForTests();
}

afterEach(() => {
  process.env = { ...SAVED_ENV };
  resetConfigForTests();
});

describe('authentication with AUTH_JWT_SECRET', () => {
  beforeEach(() => configure({ AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_MODE: undefined }));

  it('accepts a valid HS256 token', async () => {
    const token = await mintToken();

    const response = await invoke(protectedRoute(), {
      path: '/x',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.statusCode).toBe(200);
  });

  it.each([
    ['no Authorization header', async () => undefined, 'A bearer token is required'],
    ['a Basic credential', async () => 'Basic dXNlcjpwYXNz', 'must be "Bearer <token>"'],
    ['an expired token', async () => `Bearer ${await mintToken({ expiresIn: '-2m' })}`, 'expired'],
    ['a token not valid yet', async () => `Bearer ${await mintToken({ notBefore: '10m' })}`, 'not valid yet'],
    ['an alg:none token', async () => `Bearer ${unsignedToken()}`, 'HS256'],
    ['an RS256 token', async () => `Bearer ${await rs256Token()}`, 'HS256'],
    [
      'an HS512 token with the right secret',
      async () => `Bearer ${await mintToken({ algorithm: 'HS512' })}`,
      'HS256',
    ],
    [
      'a token signed with another secret',
      async () => `Bearer ${await mintToken({ secret: 'x'.repeat(40) })}`,
      'signature',
    ],
    ['a tampered token', async () => `Bearer ${await tamperedToken()}`, 'signature'],
    ['garbage', async () => 'Bearer not.a.jwt', 'not a valid JWT'],
  ])('answers 401 with a Bearer challenge for %s', async (_name, authorization, detail) => {
    const header = await authorization();

    const response = await invoke(protectedRoute(), {
      path: '/x',
      headers: header === undefined ? {} : { authorization: header },
    });

    expect(response.statusCode).toBe(401);
    expect(response.headers['WWW-Authenticate']).toMatch(/^Bearer/);
    expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
    expect(response.json).toEqual({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: expect.stringContaining(detail),
      requestId: expect.stringMatching(/^request-/),
    });
  });
});

describe('configured claims', () => {
  beforeEach(() =>
    configure({
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      AUTH_JWT_AUDIENCE: 'dora-api',
      AUTH_JWT_ISSUER: 'backstage',
    }),
  );

  it('accepts a token with the configured audience and issuer', async () => {
    const token = await mintToken({ audience: 'dora-api', issuer: 'backstage' });

    const response = await invoke(protectedRoute(), {
      path: '/x',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.statusCode).toBe(200);
  });

  it('answers 401 naming the claim when the audience is wrong', async () => {
    const token = await mintToken({ audience: 'another-api', issuer: 'backstage' });

    const response = await invoke(protectedRoute(), {
      path: '/x',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.statusCode).toBe(401);
    expect(response.json).toMatchObject({ detail: expect.stringContaining('"aud"') });
  });
});

describe('authentication modes', () => {
  it('lets every request through when no secret is configured (local use)', async () => {
    configure({ AUTH_JWT_SECRET: undefined, AUTH_MODE: undefined });

    const response = await invoke(protectedRoute(), { path: '/x' });

    expect(response.statusCode).toBe(200);
  });

  it('refuses every request on a deployed function when AUTH_MODE=auto has no secret (fails closed on AWS)', async () => {
    configure({ AUTH_JWT_SECRET: undefined, AUTH_MODE: 'auto', AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001' });

    const response = await invoke(protectedRoute(), { path: '/x' });

    expect(response.statusCode).toBe(500);
    expect(response.json).toMatchObject({
      detail: 'Authentication is required but not correctly configured on the server',
    });
  });

  it('refuses every request with a safe 500 when AUTH_MODE=jwt but the secret is missing', async () => {
    configure({ AUTH_JWT_SECRET: undefined, AUTH_MODE: 'jwt' });

    const response = await invoke(protectedRoute(), { path: '/x' });

    expect(response.statusCode).toBe(500);
    expect(response.json).toMatchObject({
      detail: 'Authentication is required but not correctly configured on the server',
    });
  });

  it('refuses a secret shorter than 32 bytes rather than accept guessable signatures', async () => {
    configure({ AUTH_JWT_SECRET: 'short-secret', AUTH_MODE: undefined });
    const token = await mintToken({ secret: 'short-secret' });

    const response = await invoke(protectedRoute(), {
      path: '/x',
      headers: { authorization: `Bearer ${token}` },
    });

    expect(response.statusCode).toBe(500);
  });

  it('leaves tokens to API Gateway in gateway mode', async () => {
    configure({ AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_MODE: 'gateway' });

    const response = await invoke(protectedRoute(), { path: '/x' });

    expect(response.statusCode).toBe(200);
  });
});
