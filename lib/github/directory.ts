import { createRefreshingCache } from '../cache/refreshing';
import type { Config } from '../config';
import type { Team } from '../dora/types';
import { GitHubError, HttpError } from '../errors';
import { logger } from '../logger';
import type { Secrets } from '../secrets';
import { createGitHubTeamSource, toGitHubError } from './client';
import type { TeamDirectory, TeamList, TeamSource } from './types';

export interface TeamDirectoryOptions {
  ttlMs: number;
  /** A fetch still running after this long is abandoned (504, or the stale list when there is one). */
  fetchTimeoutMs?: number;
  /** The clock (tests pass a controllable one). */
  now?: () => number;
  /** Organisation name, to word errors that are not already GitHubErrors. */
  org?: string;
}

/** What the cache keeps: the list, and its repository -> team map once someone asked for it. */
interface CachedTeams {
  teams: Team[];
  repositoryTeams?: Map<string, string>;
}

function byName(left: Team, right: Team): number {
  return left.name.localeCompare(right.name, 'en');
}

/**
 * One abort for the whole fetch (every page of every team): a plain abort(), whose AbortError
 * octokit's retry plugin does not retry.
 */
async function listWithin(source: TeamSource, timeoutMs: number | undefined): Promise<Team[]> {
  if (timeoutMs === undefined) return source.listTeams();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await source.listTeams(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** The team called `nameOrSlug`: by name first, then by slug (collectors and dashboards use either). */
export function findTeam(teams: readonly Team[], nameOrSlug: string): Team | undefined {
  return teams.find((team) => team.name === nameOrSlug) ?? teams.find((team) => team.slug === nameOrSlug);
}

/** repository -> team; a repository several teams own goes to the first team in name order. */
export function teamsByRepository(teams: readonly Team[]): Map<string, string> {
  const owners = new Map<string, string>();
  for (const team of [...teams].sort(byName)) {
    for (const repository of team.repositories) {
      if (!owners.has(repository)) owners.set(repository, team.name);
    }
  }
  return owners;
}

/**
 * The one owner of team data (for GET /teams and for /data's team resolution): a refreshing cache in
 * memory (kept between warm invocations), one fetch shared by concurrent callers, and the expired
 * list served (marked stale) when GitHub fails. `source` is asked for on each fetch so that a
 * rotated token is picked up without losing the cache.
 */
export function createTeamDirectory(source: () => TeamSource, options: TeamDirectoryOptions): TeamDirectory {
  const now = options.now ?? Date.now;
  // After a rate limit, GitHub is not asked again before it said it would accept requests.
  let rateLimitedUntil = 0;

  const rateLimitedError = (): GitHubError => {
    const seconds = Math.max(1, Math.ceil((rateLimitedUntil - now()) / 1000));
    return new GitHubError(`GitHub rate limit exceeded; retry in ${seconds} s`, {
      statusCode: 503,
      headers: { 'Retry-After': String(seconds) },
    });
  };

  const cache = createRefreshingCache<CachedTeams>({
    load: async () => {
      try {
        if (now() < rateLimitedUntil) throw rateLimitedError();
        return { teams: (await listWithin(source(), options.fetchTimeoutMs)).sort(byName) };
      } catch (error) {
        const failure = toGitHubError(error, options.org ?? '?');
        const retryAfter = Number(failure.headers['Retry-After']);
        if (failure.statusCode === 503 && Number.isFinite(retryAfter)) {
          rateLimitedUntil = Math.max(rateLimitedUntil, now() + retryAfter * 1000);
        }
        throw failure;
      }
    },
    ttlMs: options.ttlMs,
    metric: 'teams',
    now,
  });

  const getEntry = async (refresh: boolean): Promise<{ entry: CachedTeams; list: TeamList }> => {
    const answer = await cache.get({ refresh });
    const list: TeamList = {
      teams: answer.value.teams,
      fetchedAt: answer.loadedAt,
      stale: false,
      cache: answer.cache,
    };
    if (answer.cache === 'stale') {
      // The load threw a GitHubError already (toGitHubError returns it as it is).
      const failure = toGitHubError(answer.error, options.org ?? '?');
      logger.warn('GitHub failed: serving the cached team list', {
        statusCode: failure.statusCode,
        upstreamStatus: failure.upstreamStatus,
        fetchedAt: new Date(answer.loadedAt).toISOString(),
      });
      list.stale = true;
      list.staleReason = failure.publicMessage ?? failure.message;
    }
    return { entry: answer.value, list };
  };

  return {
    async getTeams(request = {}) {
      return (await getEntry(request.refresh === true)).list;
    },
    async teamsByRepository(request = {}) {
      const { entry } = await getEntry(request.refresh === true);
      entry.repositoryTeams ??= teamsByRepository(entry.teams);
      return entry.repositoryTeams;
    },
  };
}

const directories = new Map<string, TeamDirectory>();
const currentTokens = new Map<string, string>();

function directoryKey(config: Config, org: string): string {
  const { apiUrl, teamsCacheTtlMs, timeoutMs } = config.github;
  return JSON.stringify([apiUrl, org, teamsCacheTtlMs, timeoutMs]);
}

function cachedDirectory(config: Config, org: string, token: string): TeamDirectory {
  const key = directoryKey(config, org);
  currentTokens.set(key, token);
  let directory = directories.get(key);
  if (directory === undefined) {
    const { apiUrl, concurrency, maxRetries, teamsCacheTtlMs, timeoutMs } = config.github;
    directory = createTeamDirectory(
      () =>
        createGitHubTeamSource({
          org,
          apiUrl,
          concurrency,
          maxRetries,
          token: currentTokens.get(key) ?? token,
        }),
      { ttlMs: teamsCacheTtlMs, fetchTimeoutMs: timeoutMs, org },
    );
    directories.set(key, directory);
  }
  return directory;
}

/**
 * The team directory of this Lambda container, or undefined when GITHUB_ORG or GITHUB_TOKEN is not
 * configured (/data then keeps events without a team_name label as they are).
 */
export function getTeamDirectory(config: Config, secrets: Secrets): TeamDirectory | undefined {
  const org = config.github.org;
  const token = secrets.githubToken;
  if (org === undefined || token === undefined) return undefined;
  return cachedDirectory(config, org, token);
}

/**
 * The team directory for a route or filter that cannot work without it. By default a missing setting is a
 * deployment mistake (GET /teams cannot answer at all): 500 with a message that tells the operator which
 * one. `whenMissing` words it otherwise where only part of a route needs GitHub.
 */
export function requireTeamDirectory(
  config: Config,
  secrets: Secrets,
  whenMissing: (missing: string) => HttpError = (missing) =>
    new HttpError(500, `Missing GitHub setting: ${missing}`, { publicMessage: missing }),
): TeamDirectory {
  const org = config.github.org;
  const token = secrets.githubToken;
  if (org === undefined) throw whenMissing('GITHUB_ORG is not configured');
  if (token === undefined) {
    throw whenMissing(
      'GITHUB_TOKEN is not configured (on AWS: the SSM parameter <SSM_PARAMETER_PATH>/GITHUB_TOKEN)',
    );
  }
  return cachedDirectory(config, org, token);
}

/** For tests that change settings or the stand-in between cases. */
export function resetTeamDirectoriesForTests(): void {
  directories.clear();
  currentTokens.clear();
}
