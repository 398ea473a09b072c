import type { Config } from '../config';
import { deadlineOf, getDataService } from '../data/wiring';
import { authorMatcher, excludeAuthors } from '../dora/authors';
import { levelTable } from '../dora/levels';
import { computeMetric } from '../dora/metrics';
import { compareAttention, repositorySummary, splitByRepository } from '../dora/per-repository';
import { previousPeriod, summarize } from '../dora/summary';
import type { TimeRange } from '../dora/types';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { rollupsHeaders } from '../loki/closed-days';
import { type ReadAsk, recordsPlan } from '../plan/read-plan';
import type { ContextWithSecrets } from '../secrets';
import { cachedAnswer } from './answers';
import { type MetricsQuery, resolvePeriod, type SummaryQuery } from './query';

/**
 * Loads the production deployments and merges a route's plan asks for (`recordsPlan`): the period's, and
 * those of the look-around before it. A pull request already shipped by a deployment of the look-around
 * must not count as delivered by the period's first deployment, and a failure that began before the
 * period may be restored inside it.
 */
async function loadPeriod(
  ask: ReadAsk,
  query: Pick<SummaryQuery, 'repositories' | 'team' | 'service' | 'no_cache'>,
  config: Config,
  context: ContextWithSecrets,
) {
  const { records, readStart } = recordsPlan(ask, config.lookaroundMs);
  return getDataService(config, context.secrets).loadDeployments(
    {
      start: records.start,
      end: records.end,
      readStart,
      repositories: query.repositories,
      team: query.team,
      services: query.service === undefined ? undefined : [query.service],
    },
    { noCache: query.no_cache ?? false, deadline: deadlineOf(context) },
  );
}

/** Everything a computed answer depends on: the route, the resolved period, the query but `no_cache`. */
function answerKey(
  route: 'metrics' | 'summary',
  range: TimeRange,
  query: { no_cache?: boolean | undefined },
) {
  return JSON.stringify({
    route,
    start: range.start,
    end: range.end,
    query: { ...query, no_cache: undefined },
  });
}

/** How fresh a computed answer is: one computed from kept events is a hit; and where its days came from. */
function freshnessHeaders(loaded: Parameters<typeof rollupsHeaders>[0]): Record<string, string> {
  return { 'X-Cache': loaded.cached ? 'hit' : 'miss', ...rollupsHeaders(loaded) };
}

/** The request's `exclude_authors`, else EXCLUDE_AUTHORS, applied with the documented default scope. */
function withoutExcludedAuthors(
  loaded: Parameters<typeof excludeAuthors>[0],
  query: Pick<SummaryQuery, 'exclude_authors'>,
  config: Config,
  range: TimeRange,
) {
  return excludeAuthors(loaded, authorMatcher(query.exclude_authors ?? config.excludeAuthors), 'all', range);
}

/** `GET /metrics`: one DORA metric as a flat array, one element per bucket of the period. */
export async function getMetrics({
  context,
  config,
  query,
}: RouteRequest<MetricsQuery>): Promise<HttpResponse> {
  const range = resolvePeriod(query, Date.now(), config.maxRangeMs);

  const answer = await cachedAnswer(
    getDataService(config, context.secrets),
    config,
    answerKey('metrics', range, query),
    query.no_cache ?? false,
    async () => {
      const loaded = await loadPeriod({ route: 'metrics', period: range }, query, config, context);
      const kept = withoutExcludedAuthors(loaded, query, config, range);
      const series = computeMetric(query.metric, { ...kept, range, interval: query.interval });
      return { body: series, headers: freshnessHeaders(loaded) };
    },
  );
  return jsonResponse(200, answer.body, answer.headers);
}

/** `GET /metrics/summary`: the five metrics of the period with DORA levels and the trend. */
export async function getMetricsSummary({
  context,
  config,
  query,
}: RouteRequest<SummaryQuery>): Promise<HttpResponse> {
  const current = resolvePeriod(query, Date.now(), config.maxRangeMs);
  const previous = previousPeriod(current);

  const answer = await cachedAnswer(
    getDataService(config, context.secrets),
    config,
    answerKey('summary', current, query),
    query.no_cache ?? false,
    async () => {
      // One load covers both periods (and the look-around before the previous one).
      const loaded = await loadPeriod({ route: 'summary', period: current }, query, config, context);
      const levels = levelTable(config.doraLevels.preset, config.doraLevels.thresholds);
      const summaryOf = (events: Parameters<typeof excludeAuthors>[0]) => {
        const { excludedChanges, ...kept } = withoutExcludedAuthors(events, query, config, current);
        const summary = summarize({
          current: { ...kept, range: current },
          previous: { ...kept, range: previous },
          levels,
        });
        return { summary, excludedChanges };
      };
      const { summary, excludedChanges } = summaryOf(loaded);
      // Split in memory from the same load: a repository's records never depend on another's.
      const repositories =
        query.group_by === 'repository'
          ? [...splitByRepository(loaded)]
              .map(([repository, events]) => {
                const part = summaryOf(events);
                return repositorySummary(repository, events, part.summary, part.excludedChanges);
              })
              .sort(compareAttention)
          : undefined;
      const body = {
        ...summary,
        excluded_authors: query.exclude_authors ?? config.excludeAuthors,
        excluded_changes: excludedChanges,
        ...(repositories === undefined ? {} : { repositories }),
      };
      return { body, headers: freshnessHeaders(loaded) };
    },
  );
  return jsonResponse(200, answer.body, answer.headers);
}
