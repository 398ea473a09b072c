import { gzipSync } from 'node:zlib';
import page from 'dora-dashboard-page';
import type { HttpResponse } from '../http/response';
import { acceptsGzip } from '../http/response-size';
import type { RouteRequest } from '../http/route';

/**
 * `GET /`: the dashboard page, public like /health (it holds no data; the routes it calls keep their
 * authentication). Its query string is the page's own state (filters), read in the browser only.
 * Revalidated on every load (`no-cache` with a strong ETag), so a deployment shows at once and a reload
 * costs a 304.
 */

let gzipped: string | undefined;

function pageHeaders(): Record<string, string> {
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': page.csp,
    ETag: page.etag,
    'Cache-Control': 'no-cache',
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

/** `GET /dashboard`: to the page. Relative, so it also holds behind a custom domain's base path. */
function redirectToPage(): HttpResponse {
  return { statusCode: 302, headers: { Location: './', 'Cache-Control': 'no-cache' }, body: '' };
}

/** The dashboard function's two routes: `GET /` (the page) and `GET /dashboard` (a redirect to it). */
export async function getDashboard({ event }: Pick<RouteRequest, 'event'>): Promise<HttpResponse> {
  if ((event.rawPath ?? '').replace(/\/+$/, '').endsWith('/dashboard')) return redirectToPage();
  const ifNoneMatch = event.headers?.['if-none-match'];
  if (ifNoneMatch?.split(',').some((tag) => tag.trim() === page.etag)) {
    return { statusCode: 304, headers: pageHeaders(), body: '' };
  }
  if (!acceptsGzip(event)) return { statusCode: 200, headers: pageHeaders(), body: page.html };
  gzipped ??= gzipSync(page.html).toString('base64');
  return {
    statusCode: 200,
    headers: { ...pageHeaders(), 'Content-Encoding': 'gzip' },
    body: gzipped,
    isBase64Encoded: true,
  };
}
