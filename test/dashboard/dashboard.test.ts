import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { handler } from '../../functions/dashboard';
import { setEnv } from '../helpers/environment';
import { type EventOptions, httpEvent, lambdaContext } from '../helpers/lambda';

interface PageResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  isBase64Encoded?: boolean;
}

async function get(options: EventOptions): Promise<PageResponse> {
  return (await handler(
    httpEvent({ method: 'GET', ...options }),
    lambdaContext('dashboard'),
  )) as PageResponse;
}

function inlineCode(html: string, tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!match?.[1]) throw new Error(`no inline <${tag}>`);
  return match[1];
}

describe('GET / (the dashboard page)', () => {
  let restore: () => void;
  beforeAll(() => {
    // Authentication on: the page must still be served without a token.
    restore = setEnv({
      AUTH_MODE: 'jwt',
      AUTH_JWT_SECRET: 'a-secret-of-at-least-thirty-two-bytes-for-tests',
    });
  });
  afterAll(() => restore());

  it('answers the HTML page without a token while authentication is on', async () => {
    const response = await get({ path: '/' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(response.body).toMatch(/^<!doctype html>/);
    expect(response.body).toContain('<div id="app">');
  });

  it('allows only its own inline script and styles and requests to its own origin', async () => {
    const response = await get({ path: '/' });
    const csp = response.headers['Content-Security-Policy'] ?? '';
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain(`script-src ${hash(inlineCode(response.body, 'script'))}`);
    expect(csp).toContain(`style-src ${hash(inlineCode(response.body, 'style'))}`);
  });

  it('names no other host for the page to load from', async () => {
    const response = await get({ path: '/' });

    expect(response.body).not.toMatch(/<(script|link|img)[^>]+(src|href)="(https?:)?\/\//i);
  });

  it('sends the page gzipped to clients that accept it', async () => {
    const plain = await get({ path: '/' });
    const compressed = await get({ path: '/', headers: { 'accept-encoding': 'gzip, deflate, br' } });

    expect(compressed.isBase64Encoded).toBe(true);
    expect(compressed.headers['Content-Encoding']).toBe('gzip');
    expect(gunzipSync(Buffer.from(compressed.body, 'base64')).toString()).toBe(plain.body);
  });

  it('answers 304 when the browser already has this page', async () => {
    const first = await get({ path: '/' });
    const etag = first.headers.ETag ?? '';

    const again = await get({ path: '/', headers: { 'if-none-match': etag } });

    expect(etag).toMatch(/^"[A-Za-z0-9+/]+"$/);
    expect(first.headers['Cache-Control']).toBe('no-cache');
    expect({ status: again.statusCode, body: again.body }).toEqual({ status: 304, body: '' });
  });

  it('ignores the query string: it is the page state (filters), read in the browser', async () => {
    const response = await get({ path: '/', query: { period: '90', team: 'Payments' } });

    expect(response.statusCode).toBe(200);
  });
});

describe('events/dashboard.json (serverless invoke local -f dashboard -p events/dashboard.json)', () => {
  it('is answered with the page, gzipped as it asks', async () => {
    const event = JSON.parse(readFileSync(path.resolve(__dirname, '../../events/dashboard.json'), 'utf8'));

    const response = (await handler(event, lambdaContext('dashboard'))) as PageResponse;

    expect({ status: response.statusCode, encoding: response.headers['Content-Encoding'] }).toEqual({
      status: 200,
      encoding: 'gzip',
    });
  });
});

describe('GET /dashboard', () => {
  it('redirects to the page, relatively so a base path is kept', async () => {
    const response = await get({ path: '/dashboard' });

    expect(response.statusCode).toBe(302);
    expect(response.headers.Location).toBe('./');
  });
});
