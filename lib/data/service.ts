import { LRUCache } from 'lru-cache';
import { type Config, dataCacheShares } from '../config';
import { buildDeployments } from '../dora/records';
import type { MergeEvent, ProductionDeployment, Team } from '../dora/types';
import { findTeam } from '../github/directory';
import type { TeamDirectory } from '../github/types';
import { logger } from '../logger';
import type { EventRequest, EventStore, FetchStats } from '../loki/types';
import { recordCacheLookup, recordLokiFetch } from '../observability/metrics';
import { eventRanges, recordsPlan } from '../plan/read-plan';

/** The deployments (and merges) of one period, for one set of filters. */
export interface DeploymentsQuery {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  /**
   * Epoch ms from which deployments and merges are read; by default `start - LOOKAROUND_DAYS` (the
   * look-around before a window of records). The request's plan decides (`recordsPlan` in
   * lib/plan/read-plan.ts): `/metrics` asks for records from the look-around before its period and reads
   * from there, not a look-around further back.
   */
  readStart?: number | undefined;
  repositories?: string[] | undefined;
  team?: string | undefined;
  /** `service_name` label values (GET /services). */
  services?: string[] | undefined;
}

export interface LoadedDeployments {
  /** Production deployments created in [start, end), with every DORA rule applied. */
  deployments: ProductionDeployment[];
  /** Merged pull requests from `start - look-around` to `end` (lead time needs the earlier ones). */
  merges: MergeEvent[];
  cached: boolean;
  stats: FetchStats | undefined;
}

export interface LoadOptions {
  noCache?: boolean;
  /** Epoch ms by which Loki work must stop (the function then answers 504 itself). */
  deadline?: number;
}

export interface DataDependencies {
  events: EventStore;
  /** Absent when GitHub is not configured: streams without `team_name` then keep a null team. */
  teams: TeamDirectory | undefined;
  config: Pick<Config, 'lookaroundMs' | 'productionEnvironments' | 'dataCache'>;
}

type Answer = Promise<Omit<LoadedDeployments, 'cached'>>;
/** A box around the answer: lru-cache only weighs an entry again when its value is a new object. */
type CacheValue = { answer: Answer };

/**
 * Heap taken by one cached event (a production deployment or a merge, with the events and records it
 * holds): about 380 bytes in `npm run bench` (85 MB for the ~220,000 of a year of 300 repositories).
 */
export const BYTES_PER_CACHED_EVENT = 400;

function cacheKey(query: DeploymentsQuery): string {
  const repositories = query.repositories ? [...new Set(query.repositories)].sort() : null;
  const services = query.services ? [...new Set(query.services)].sort() : null;
  return JSON.stringify([
    query.start,
    query.end,
    query.readStart ?? null,
    repositories,
    query.team ?? null,
    services,
  ]);
}

/**
 * Events -> production deployments, behind a cache shared by `/data` and `/metrics`.
 * Concurrent identical requests share one Loki fetch (the promise is cached), failures are not cached.
 */
export class DataService {
  private readonly cache: LRUCache<string, CacheValue>;

  constructor(private readonly deps: DataDependencies) {
    const { maxEntries, ttlMs } = deps.config.dataCache;
    const { answersMb } = dataCacheShares(deps.config.dataCache);
    // Answers are weighed by their events once they arrive (a pending one weighs 1): the least recently
    // used go first when the budget is spent, and an answer bigger than the whole budget is not kept. A
    // count alone let a warm function hold several years of an organisation and run out of memory.
    this.cache = new LRUCache<string, CacheValue>({
      max: maxEntries,
      ttl: ttlMs,
      maxSize: Math.max(1, Math.floor((answersMb * 1_000_000) / BYTES_PER_CACHED_EVENT)),
      sizeCalculation: () => 1,
    });
  }

  async loadDeployments(query: DeploymentsQuery, options: LoadOptions = {}): Promise<LoadedDeployments> {
    const key = cacheKey(query);
    const cacheEnabled = this.deps.config.dataCache.ttlMs > 0;
    // `no_cache` skips the lookup but still stores the fresh answer for the requests after it.
    if (cacheEnabled && !options.noCache) {
      const hit = this.cache.get(key);
      recordCacheLookup('data', hit !== undefined);
      if (hit) return { ...(await hit.answer), cached: true };
    }

    const pending = this.fetchAndBuild(query, options);
    if (cacheEnabled) {
      this.cache.set(key, { answer: pending });
      // A failure is not cached; a newer request may already have replaced this entry.
      pending.then(
        (loaded) => {
          const size = Math.max(1, loaded.deployments.length + loaded.merges.length);
          if (this.cache.peek(key)?.answer === pending) this.cache.set(key, { answer: pending }, { size });
        },
        () => {
          if (this.cache.peek(key)?.answer === pending) this.cache.delete(key);
        },
      );
    }
    return { ...(await pending), cached: false };
  }

  private async fetchAndBuild(query: DeploymentsQuery, options: LoadOptions): Answer {
    const { lookaroundMs, productionEnvironments } = this.deps.config;
    const teamsByRepository = await this.teamsByRepository();
    const { team: githubTeam, otherTeamsRepositories } =
      query.team === undefined ? {} : await this.githubTeam(query.team);
    // The team as asked for, and as GitHub names and slugs it: events may carry any of these.
    const teamNames = new Set(
      [query.team, githubTeam?.name, githubTeam?.slug].filter((name) => name !== undefined),
    );
    const teamAliases = [...teamNames].filter((name) => name !== query.team);
    const teamRepositories = githubTeam?.repositories;
    const records = { start: query.start, end: query.end };
    const readStart =
      query.readStart ?? recordsPlan({ route: 'data', window: records }, lookaroundMs).readStart;

    const request: EventRequest = {
      filter: {
        ...(query.repositories ? { repositories: query.repositories } : {}),
        ...(query.services ? { services: query.services } : {}),
        ...(query.team === undefined ? {} : { team: query.team }),
        ...(teamAliases.length > 0 ? { teamAliases } : {}),
        ...(teamRepositories && teamRepositories.length > 0 ? { teamRepositories } : {}),
        ...(otherTeamsRepositories && otherTeamsRepositories.length > 0 ? { otherTeamsRepositories } : {}),
      },
      ranges: eventRanges(records, readStart, lookaroundMs),
      ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
      ...(options.noCache ? { noCache: true } : {}),
    };
    const events = await this.deps.events.fetchEvents(request);
    recordLokiFetch(events.stats);

    const deployments = buildDeployments(events, {
      window: records,
      productionEnvironments,
      // An unlabelled event of a repository the team shares with others (an organisation-wide team with
      // access to everything is common) is the asked team's, not the first owner's in name order.
      teamsByRepository: githubTeam
        ? new Map([
            ...teamsByRepository,
            ...githubTeam.repositories.map((name) => [name, githubTeam.name] as const),
          ])
        : teamsByRepository,
    }).filter(
      (deployment) =>
        query.team === undefined || (deployment.team !== null && teamNames.has(deployment.team)),
    );

    // Merges are read from a look-around before the window to join deployed shas; for lead times only those
    // from the window's start on count, which the first deployment of the window cannot have missed. An
    // earlier merge may have shipped with a deployment before the window, which was not read as a record:
    // it would be credited to the window's first deployment (a 28-day lead time instead of the real 1 day).
    const merges = events.merges.filter((merge) => merge.mergedAt >= query.start);
    return { deployments, merges, stats: events.stats };
  }

  /**
   * The GitHub team called `team` by name or slug, and the repositories only other teams own, when GitHub
   * is configured and answers.
   */
  private async githubTeam(team: string): Promise<{ team?: Team; otherTeamsRepositories?: string[] }> {
    if (!this.deps.teams) return {};
    try {
      const { teams } = await this.deps.teams.getTeams();
      const found = findTeam(teams, team);
      // Sorted, so that the query (the day cache's key) does not depend on GitHub's order. For a team GitHub
      // does not know, every team is another team.
      const others = new Set(teams.flatMap((other) => (other === found ? [] : other.repositories)));
      return { ...(found ? { team: found } : {}), otherTeamsRepositories: [...others].sort() };
    } catch {
      // Already logged by teamsByRepository(); the team_name label alone still filters.
      return {};
    }
  }

  /** GitHub's view of team ownership; a GitHub failure must not fail a Loki-backed request. */
  private async teamsByRepository(): Promise<Map<string, string>> {
    if (!this.deps.teams) return new Map();
    try {
      return await this.deps.teams.teamsByRepository();
    } catch (error) {
      logger.warn('team ownership unavailable; events without team_name keep a null team', {
        error: error instanceof Error ? error.message : String(error),
      });
      return new Map();
    }
  }
}
