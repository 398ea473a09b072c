import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import pLimit from 'p-limit';
import type { Team } from '../dora/types';
import { GitHubError, hostOf, unreachable } from '../errors';
import { logger } from '../logger';
import { recordGitHubRequest } from '../observability/metrics';
import type { TeamSource } from './types';

/*
 * The only module that speaks GitHub's REST API. Rules followed, from GitHub's documentation:
 * - Rate limits: https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
 *   - primary limit: when `x-ratelimit-remaining` is 0, do not retry before `x-ratelimit-reset`
 *     (UTC epoch seconds);
 *   - secondary limit: when `retry-after` is present wait that many seconds; without it wait at
 *     least one minute; if it keeps failing, wait exponentially longer and give up after a number
 *     of retries (here GITHUB_MAX_RETRIES, and never a wait longer than the Lambda can afford).
 * - Best practices: https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api
 *   - avoid concurrent requests: team repositories are fetched GITHUB_CONCURRENCY at a time;
 *   - make authenticated requests (higher primary limit);
 *   - do not build page URLs, follow the `Link` header (octokit.paginate does), largest page
 *     (per_page=100) so there are fewer requests;
 *   - stop requesting while rate limited, which can otherwise get an integration banned
 *     (lib/github/directory.ts remembers until when).
 */

/** API Gateway gives a function 29 s: a wait longer than this is reported to the client instead. */
export const MAX_RATE_LIMIT_WAIT_SECONDS = 10;

/** Secondary limit without retry-after: "wait for at least one minute" (rate-limit documentation). */
const SECONDARY_LIMIT_FALLBACK_SECONDS = 60;
const PER_PAGE = 100;
const GITHUB_API_VERSION = '2022-11-28';

export interface RateLimitWait {
  kind: 'primary' | 'secondary';
  retryAfterSeconds: number;
  retryCount: number;
  method: string;
  url: string;
}

export interface GitHubTeamSourceOptions {
  org: string;
  /** https://api.github.com, or https://<host>/api/v3 for GitHub Enterprise Server. */
  apiUrl: string;
  token: string;
  /** Team repository listings fetched at the same time. */
  concurrency: number;
  /** Retries of one request after a rate limit, a 5xx or a network failure. */
  maxRetries: number;
  /** Called before waiting out a rate limit (logging by default). */
  onRateLimitWait?: (wait: RateLimitWait) => void;
  /** Milliseconds per second of wait: 1000 in production, smaller in tests so retries stay fast. */
  retryAfterBaseMs?: number;
}

const ThrottledOctokit = Octokit.plugin(throttling, retry);
type ThrottledOctokit = InstanceType<typeof ThrottledOctokit>;

interface RequestOptionsLike {
  method: string;
  url: string;
}

function logRateLimitWait(wait: RateLimitWait): void {
  logger.warn('GitHub rate limit: waiting before retrying', { ...wait });
}

/**
 * Octokit's own diagnostics (method, path, status; no headers) go to the structured logger. Failed
 * requests are logged at debug level: the error handler logs the resulting failure once.
 */
const octokitLog = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.debug(message),
  warn: (message: string) => logger.warn(message),
  error: (message: string) => logger.debug(message),
};

function createOctokit(options: GitHubTeamSourceOptions): ThrottledOctokit {
  const onWait = options.onRateLimitWait ?? logRateLimitWait;
  const baseMs = options.retryAfterBaseMs ?? 1000;
  // Retry a rate-limited request only a bounded number of times, and only when the wait fits in the
  // function's time budget; otherwise the request fails and the client is told when to come back.
  const decide =
    (kind: RateLimitWait['kind']) =>
    (retryAfterSeconds: number, request: RequestOptionsLike, _octokit: unknown, retryCount: number) => {
      if (retryCount >= options.maxRetries || retryAfterSeconds > MAX_RATE_LIMIT_WAIT_SECONDS) return false;
      onWait({ kind, retryAfterSeconds, retryCount, method: request.method, url: request.url });
      return true;
    };
  const octokit = new ThrottledOctokit({
    auth: options.token,
    baseUrl: options.apiUrl,
    userAgent: 'dora-api',
    log: octokitLog,
    request: { headers: { 'x-github-api-version': GITHUB_API_VERSION } },
    throttle: {
      onRateLimit: decide('primary'),
      onSecondaryRateLimit: decide('secondary'),
      // Secondary limit without retry-after: wait at least one minute (more than the time budget, so
      // with the rule above such a response is reported as 503 rather than waited out).
      fallbackSecondaryRateRetryAfter: SECONDARY_LIMIT_FALLBACK_SECONDS,
      retryAfterBaseValue: baseMs,
    },
    retry: {
      retries: options.maxRetries,
      retryAfterBaseValue: baseMs,
      // 403 and 429 are rate limits, owned by the throttling plugin above; 4xx are not transient.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
  });
  // Every HTTP request to GitHub, retries included (the GitHubRequests metric).
  octokit.hook.before('request', () => recordGitHubRequest());
  return octokit;
}

const octokits = new Map<string, ThrottledOctokit>();

/** One Octokit per API URL and token for the life of the Lambda container (warm invocations reuse it). */
function octokitFor(options: GitHubTeamSourceOptions): ThrottledOctokit {
  // A caller with its own rate-limit listener gets its own instance, so listeners never mix.
  if (options.onRateLimitWait !== undefined) return createOctokit(options);
  const key = JSON.stringify([options.apiUrl, options.token, options.maxRetries, options.retryAfterBaseMs]);
  const octokit = octokits.get(key) ?? createOctokit(options);
  octokits.set(key, octokit);
  return octokit;
}

interface OctokitRequestError {
  status: number;
  message: string;
  request?: { method?: string; url?: string };
  response?: { headers?: Record<string, string | number | undefined> };
}

function isOctokitRequestError(error: unknown): error is OctokitRequestError {
  return error instanceof Error && typeof (error as Partial<OctokitRequestError>).status === 'number';
}

function header(error: OctokitRequestError, name: string): string | undefined {
  const value = error.response?.headers?.[name];
  return value === undefined ? undefined : String(value);
}

/**
 * Seconds until GitHub accepts requests again: `retry-after` when sent; `x-ratelimit-reset` when the
 * primary limit is exhausted; otherwise (a secondary limit without retry-after) one minute, as the
 * rate-limit documentation asks.
 */
export function retryAfterSeconds(
  headers: {
    retryAfter?: string | undefined;
    rateLimitRemaining?: string | undefined;
    rateLimitReset?: string | undefined;
  },
  now: number,
): number {
  const retryAfter = Number(headers.retryAfter);
  if (headers.retryAfter !== undefined && Number.isFinite(retryAfter))
    return Math.max(1, Math.ceil(retryAfter));
  const reset = Number(headers.rateLimitReset);
  if (headers.rateLimitRemaining === '0' && headers.rateLimitReset !== undefined && Number.isFinite(reset)) {
    return Math.max(1, Math.ceil(reset - now / 1000));
  }
  return SECONDARY_LIMIT_FALLBACK_SECONDS;
}

function isRateLimited(error: OctokitRequestError): boolean {
  if (error.status !== 403 && error.status !== 429) return false;
  return (
    error.status === 429 ||
    header(error, 'x-ratelimit-remaining') === '0' ||
    header(error, 'retry-after') !== undefined ||
    /rate limit/i.test(error.message)
  );
}

/**
 * Turns whatever octokit threw into a GitHubError whose public message helps the caller and never
 * carries the token. The cause keeps only method, URL and status (octokit errors hold request headers).
 */
export function toGitHubError(
  error: unknown,
  org: string,
  now = Date.now(),
  apiUrl = 'https://api.github.com',
): GitHubError {
  if (error instanceof GitHubError) return error;
  if (!isOctokitRequestError(error) || error.response === undefined) {
    const cause = new Error(
      `GitHub request failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (error instanceof Error && error.name === 'AbortError') {
      return new GitHubError(`GitHub did not answer in time at ${hostOf(apiUrl)}`, {
        statusCode: 504,
        cause,
      });
    }
    // Octokit wraps a failed fetch in a RequestError of status 500 without a response; the socket's error is
    // in its causes.
    const { message, statusCode } = unreachable('GitHub', apiUrl, error);
    return new GitHubError(message, { statusCode, cause });
  }
  const status = error.status;
  const cause = new Error(
    `${error.request?.method ?? 'GET'} ${error.request?.url ?? '?'} answered ${status}`,
  );
  if (status === 401) {
    return new GitHubError('GitHub refused the credentials (HTTP 401); check GITHUB_TOKEN', {
      upstreamStatus: status,
      cause,
    });
  }
  if (isRateLimited(error)) {
    const seconds = retryAfterSeconds(
      {
        retryAfter: header(error, 'retry-after'),
        rateLimitRemaining: header(error, 'x-ratelimit-remaining'),
        rateLimitReset: header(error, 'x-ratelimit-reset'),
      },
      now,
    );
    return new GitHubError(`GitHub rate limit exceeded (HTTP ${status}); retry in ${seconds} s`, {
      statusCode: 503,
      upstreamStatus: status,
      cause,
      headers: { 'Retry-After': String(seconds) },
    });
  }
  if (status === 404) {
    return new GitHubError(`GitHub organisation '${org}' was not found or the token cannot see it`, {
      upstreamStatus: status,
      cause,
    });
  }
  return new GitHubError(`GitHub answered HTTP ${status}`, { upstreamStatus: status, cause });
}

/**
 * octokit.paginate passes only method, URL and headers to each page's request, so an abort signal
 * has to be bound into the route method itself (`defaults` keeps its behaviour, not its types).
 */
function withSignal<Method extends { defaults: (options: { request: { signal: AbortSignal } }) => unknown }>(
  method: Method,
  signal: AbortSignal | undefined,
): Method {
  return signal === undefined ? method : (method.defaults({ request: { signal } }) as Method);
}

function byName(left: string, right: string): number {
  return left.localeCompare(right, 'en');
}

/** The organisation's teams with their repositories, every page, from GitHub's REST API. */
export function createGitHubTeamSource(options: GitHubTeamSourceOptions): TeamSource {
  const octokit = octokitFor(options);
  const limit = pLimit(options.concurrency);
  const org = options.org;

  return {
    async listTeams(signal?: AbortSignal): Promise<Team[]> {
      const listTeamsPage = withSignal(octokit.rest.teams.list, signal);
      const listReposPage = withSignal(octokit.rest.teams.listReposInOrg, signal);
      try {
        const teams = await octokit.paginate(listTeamsPage, { org, per_page: PER_PAGE });
        const withRepositories = await Promise.all(
          teams.map((team) =>
            limit(async (): Promise<Team | undefined> => {
              try {
                const repositories = await octokit.paginate(listReposPage, {
                  org,
                  team_slug: team.slug,
                  per_page: PER_PAGE,
                });
                return {
                  name: team.name,
                  slug: team.slug,
                  repositories: repositories.map((repository) => repository.name).sort(byName),
                };
              } catch (error) {
                // A team deleted between the two listings is simply no longer a team.
                if (isOctokitRequestError(error) && error.status === 404) return undefined;
                throw error;
              }
            }),
          ),
        );
        return withRepositories.filter((team): team is Team => team !== undefined);
      } catch (error) {
        limit.clearQueue();
        if (signal?.aborted) {
          throw new GitHubError('GitHub did not list the teams in time', {
            statusCode: 504,
            cause: signal.reason,
          });
        }
        throw toGitHubError(error, org, Date.now(), options.apiUrl);
      }
    },
  };
}
