import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SignJWT } from 'jose';
import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { generateSample, type Sample } from '../../lib/sample/generator';
import { sampleGitOpsReports } from '../../lib/sample/gitops';
import { type LocalServer, startLocalServer } from '../helpers/local-server';

/**
 * The API as `npm start` runs it (tsx dev/start.ts: serverless offline, the real functions), over the
 * sample `npm start` generates (seed 42, 90 days ending now), with authentication on, for the browser
 * suite and scripts/screenshot.ts. Unlike a bare `npm start`, the Loki and GitHub stand-ins are started
 * here, so a test can break one upstream for one part of the page (a fault-injecting proxy in front of
 * Loki), and GitOps statuses are reported through POST /api/status so the drift table has rows.
 */

const ORG = 'acme';
const GITHUB_TOKEN = 'local-stand-in-token';

export interface DashboardServer {
  baseUrl: string;
  /** A valid bearer token. */
  token: string;
  sample: Sample;
  github: GitHubServer;
  loki: LokiServer;
  /** While on, Loki answers 503 to the GitOps status queries (only /status.json reads them). */
  breakGitOpsReads(on: boolean): void;
  /**
   * While set, Loki never answers the queries whose text holds `marker` (a repository name, say): the
   * API waits until its own deadline and answers the 504 it sends when Loki is slower than one request.
   */
  stallLokiQueries(marker: string | undefined): void;
  /** While set, every query reaches Loki this many milliseconds late (a slow Loki, answering in the end). */
  slowLokiQueries(ms: number | undefined): void;
  output(): string;
  close(): Promise<void>;
}

/**
 * Forwards everything to Loki, except GitOps status queries while `broken` says so, and queries holding
 * the `stalled` marker, which it holds unanswered until the API gives up on them; while `slow` says so,
 * it forwards each query that many milliseconds late.
 */
async function faultProxy(target: string): Promise<{
  url: string;
  server: Server;
  broken: { on: boolean };
  stalled: { marker: string | undefined };
  slow: { ms: number | undefined };
}> {
  const broken = { on: false };
  const stalled: { marker: string | undefined } = { marker: undefined };
  const slow: { ms: number | undefined } = { ms: undefined };
  const upstream = new URL(target);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://proxy');
    const query = url.searchParams.get('query') ?? '';
    if (broken.on && query.includes('gitops-status')) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('too many outstanding requests');
      return;
    }
    if (stalled.marker !== undefined && query.includes(stalled.marker)) return;
    if (slow.ms !== undefined && url.pathname.endsWith('/query_range')) {
      const ms = slow.ms;
      request.pause();
      setTimeout(() => forward(request, response), ms);
      return;
    }
    forward(request, response);
  });
  const forward = (request: IncomingMessage, response: ServerResponse) => {
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path: request.url,
        headers: request.headers,
        // A fresh connection each time: a kept-alive one that Loki's server closes meanwhile would be a
        // failure of this proxy, not of Loki.
        agent: false,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', (error) => response.writeHead(502).end(error.message));
    request.pipe(forwarded);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, broken, stalled, slow };
}

/** Two agents out of sync, two in sync: the table must put the first two on top. */

export async function startDashboardServer(
  options: {
    port?: number;
    lambdaPort?: number;
    /**
     * A store of closed days in a temporary directory (removed on close) instead of none, and settings of
     * the API's own (LOOKAROUND_DAYS, say).
     */
    storeOfClosedDays?: { env?: Record<string, string> };
  } = {},
): Promise<DashboardServer> {
  const sample = generateSample({
    seed: 42,
    end: Date.now(),
    days: 90,
    org: ORG,
    serviceNamespace: 'github',
  });
  const loki = await startLokiServer({ entries: sample.entries, host: '127.0.0.1' });
  const proxy = await faultProxy(loki.url);
  const github = await startGitHubServer({
    org: ORG,
    teams: sample.teams,
    token: GITHUB_TOKEN,
    host: '127.0.0.1',
  });
  const secret = randomBytes(48).toString('base64');
  const storeDir =
    options.storeOfClosedDays === undefined
      ? undefined
      : mkdtempSync(path.join(tmpdir(), 'dora-browser-rollups-'));
  const closeStandIns = async () => {
    const closed = new Promise<void>((resolve) => proxy.server.close(() => resolve()));
    // A stalled query's connection ends only when the API gives up on it.
    proxy.server.closeAllConnections();
    await closed;
    await Promise.allSettled([loki.close(), github.close()]);
    if (storeDir !== undefined) rmSync(storeDir, { recursive: true, force: true });
  };

  let api: LocalServer | undefined;
  try {
    api = await startLocalServer(
      {
        LOKI_URL: proxy.url,
        GITHUB_TOKEN,
        GITHUB_ORG: ORG,
        GITHUB_API_URL: github.url,
        AUTH_JWT_SECRET: secret,
        // No store of closed days unless asked for: the page's Loki-deadline tests need the read path that
        // reaches the deadline (with a store it answers the 503 of a fill instead, test/browser/store-filling),
        // and a run must not leave days in the checkout's .data/rollups for the next one.
        ROLLUPS_URL: storeDir === undefined ? 'off' : pathToFileURL(storeDir).href,
        ...options.storeOfClosedDays?.env,
        ...(options.lambdaPort === undefined ? {} : { OFFLINE_LAMBDA_PORT: String(options.lambdaPort) }),
      },
      options.port === undefined ? {} : { port: options.port },
    );
    const { baseUrl } = api;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('browser-suite')
      .setIssuedAt()
      .setExpirationTime('2h')
      .sign(new TextEncoder().encode(secret));
    for (const report of sampleGitOpsReports(ORG, Date.now())) {
      const response = await fetch(`${baseUrl}/api/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(report),
      });
      if (response.status !== 200) {
        throw new Error(`POST /api/status: ${response.status} ${await response.text()}`);
      }
    }
    const started = api;
    return {
      baseUrl,
      token,
      sample,
      github,
      loki,
      breakGitOpsReads: (on) => {
        proxy.broken.on = on;
      },
      stallLokiQueries: (marker) => {
        proxy.stalled.marker = marker;
      },
      slowLokiQueries: (ms) => {
        proxy.slow.ms = ms;
      },
      output: started.output,
      close: async () => {
        await started.kill();
        await closeStandIns();
      },
    };
  } catch (error) {
    await api?.kill();
    await closeStandIns();
    throw error;
  }
}

/** An answer of the API as a page gets it, for playwright's `route.fulfill` to play back to a page. */
export interface RecordedAnswer {
  status: number;
  contentType: string;
  body: string;
}

type ApiCall = { method?: string; query?: Record<string, string | undefined>; body?: unknown };

/** Calls the API as the page does (bearer token in the header); whatever it answers. */
export async function apiAnswer(
  server: DashboardServer,
  route: string,
  init: ApiCall = {},
): Promise<RecordedAnswer> {
  const url = new URL(route, `${server.baseUrl}/`);
  for (const [name, value] of Object.entries(init.query ?? {}))
    if (value !== undefined) url.searchParams.set(name, value);
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

/** Calls the API as the page does; its 2xx answer as JSON. */
export async function apiJson<T>(server: DashboardServer, route: string, init: ApiCall = {}): Promise<T> {
  const answer = await apiAnswer(server, route, init);
  if (answer.status < 200 || answer.status > 299)
    throw new Error(`${route}: HTTP ${answer.status} ${answer.body}`);
  return JSON.parse(answer.body) as T;
}
