import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { teamSlug } from '../lib/sample/generator';

/**
 * A local stand-in of the part of GitHub's REST API the team directory uses, for `npm start` and
 * tests: GET /orgs/:org/teams and GET /orgs/:org/teams/:slug/repos with per_page/page and `Link`
 * headers, x-ratelimit-* headers, GitHub's error bodies, and failures on demand.
 */

export interface StandInTeam {
  name: string;
  slug?: string;
  repositories: string[];
}

export type GitHubFailure =
  /** 401 Bad credentials. */
  | { kind: 'bad-credentials' }
  /** Primary limit exhausted: x-ratelimit-remaining 0, reset in `resetInSeconds`. */
  | { kind: 'primary-rate-limit'; resetInSeconds: number; status?: 403 | 429 }
  /** Secondary limit, with a retry-after header unless `retryAfterSeconds` is undefined. */
  | { kind: 'secondary-rate-limit'; retryAfterSeconds?: number; status?: 403 | 429 }
  /** Answers normally, but only after `ms` milliseconds. */
  | { kind: 'slow'; ms: number }
  /** Any other status with GitHub's error body. */
  | { kind: 'status'; status: number; message?: string };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface GitHubServerOptions {
  org: string;
  teams: StandInTeam[];
  /** When set, requests must carry it (`Authorization: token|Bearer <token>`), else 401. */
  token?: string;
  port?: number;
  host?: string;
}

export interface GitHubServer {
  /** Base URL to use as GITHUB_API_URL. */
  url: string;
  requests: RecordedRequest[];
  /** The next `times` requests fail this way (queued after failures already pending). */
  failNext(failure: GitHubFailure, times?: number): void;
  /** Replaces the organisation's teams (to see a refresh). */
  setTeams(teams: StandInTeam[]): void;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT = 5000;
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}

function pageLinks(url: URL, page: number, lastPage: number): string | undefined {
  const link = (target: number, rel: string) => {
    const next = new URL(url);
    next.searchParams.set('page', String(target));
    return `<${next.toString()}>; rel="${rel}"`;
  };
  const links = [
    ...(page > 1 ? [link(page - 1, 'prev'), link(1, 'first')] : []),
    ...(page < lastPage ? [link(page + 1, 'next'), link(lastPage, 'last')] : []),
  ];
  return links.length === 0 ? undefined : links.join(', ');
}

export async function startGitHubServer(options: GitHubServerOptions): Promise<GitHubServer> {
  let teams = options.teams;
  const failures: GitHubFailure[] = [];
  const requests: RecordedRequest[] = [];
  let remaining = RATE_LIMIT;
  const resetAt = () => Math.floor(Date.now() / 1000) + 3600;

  const rateHeaders = (left: number, reset = resetAt()): Record<string, string> => ({
    'x-ratelimit-limit': String(RATE_LIMIT),
    'x-ratelimit-remaining': String(left),
    'x-ratelimit-used': String(RATE_LIMIT - left),
    'x-ratelimit-reset': String(reset),
    'x-ratelimit-resource': 'core',
  });

  const failureReply = (failure: Exclude<GitHubFailure, { kind: 'slow' }>): Reply => {
    switch (failure.kind) {
      case 'bad-credentials':
        return { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS, status: '401' } };
      case 'primary-rate-limit':
        return {
          status: failure.status ?? 403,
          body: {
            message: 'API rate limit exceeded for user ID 1.',
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
          },
          headers: rateHeaders(0, Math.floor(Date.now() / 1000) + failure.resetInSeconds),
        };
      case 'secondary-rate-limit':
        return {
          status: failure.status ?? 403,
          body: {
            message:
              'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
            documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
          },
          headers: {
            ...rateHeaders(remaining),
            ...(failure.retryAfterSeconds === undefined
              ? {}
              : { 'retry-after': String(failure.retryAfterSeconds) }),
          },
        };
      case 'status':
        return {
          status: failure.status,
          body: { message: failure.message ?? 'Server Error', documentation_url: DOCS },
        };
    }
  };
  const fail = (response: ServerResponse, failure: Exclude<GitHubFailure, { kind: 'slow' }>): void => {
    const reply = failureReply(failure);
    send(response, reply.status, reply.body, reply.headers);
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    requests.push({
      method: request.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers: request.headers,
    });

    const failure = failures.shift();
    if (failure?.kind === 'slow') {
      setTimeout(() => answer(request, response, url), failure.ms).unref();
      return;
    }
    if (failure !== undefined) return fail(response, failure);
    answer(request, response, url);
  });

  const answer = (request: IncomingMessage, response: ServerResponse, url: URL) => {
    const authorization = request.headers.authorization ?? '';
    if (options.token !== undefined && authorization.replace(/^(token|bearer) /i, '') !== options.token) {
      return fail(response, { kind: 'bad-credentials' });
    }

    const route = url.pathname.match(/^\/orgs\/([^/]+)\/teams(?:\/([^/]+)\/repos)?\/?$/);
    if (request.method !== 'GET' || route === null || decodeURIComponent(route[1] ?? '') !== options.org) {
      return send(response, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    }
    const slug = route[2] === undefined ? undefined : decodeURIComponent(route[2]);
    const team =
      slug === undefined
        ? undefined
        : teams.find((candidate) => (candidate.slug ?? teamSlug(candidate.name)) === slug);
    if (slug !== undefined && team === undefined) {
      return send(response, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    }

    const items =
      team === undefined
        ? teams.map((each, index) => {
            const slugOfTeam = each.slug ?? teamSlug(each.name);
            return {
              id: index + 1,
              name: each.name,
              slug: slugOfTeam,
              privacy: 'closed',
              permission: 'pull',
            };
          })
        : team.repositories.map((name, index) => ({
            id: index + 1,
            name,
            full_name: `${options.org}/${name}`,
            private: true,
          }));
    const perPage = Math.min(
      MAX_PER_PAGE,
      Math.max(1, Number(url.searchParams.get('per_page')) || DEFAULT_PER_PAGE),
    );
    const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
    const lastPage = Math.max(1, Math.ceil(items.length / perPage));
    remaining = Math.max(0, remaining - 1);
    const link = pageLinks(url, page, lastPage);
    send(response, 200, items.slice((page - 1) * perPage, page * perPage), {
      ...rateHeaders(remaining),
      ...(link === undefined ? {} : { link }),
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    requests,
    failNext(failure, times = 1) {
      for (let count = 0; count < times; count += 1) failures.push(failure);
    },
    setTeams(next) {
      teams = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
