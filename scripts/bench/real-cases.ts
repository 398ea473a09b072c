import { startGitHubServer } from '../../dev/github-server';
import type { EventKind } from '../../lib/loki/logql';
import type { EventFilter } from '../../lib/loki/types';
import { sampleTeams } from '../../lib/sample/generator';
import { DAY_MS } from '../../lib/time';
import { lambdaContext } from '../../test/helpers/lambda';
import { type FloorFigures, naiveFloor, onePassFloor } from './floors';
import {
  benchEnvironment,
  benchRequestEvent,
  type Handler,
  type LambdaResult,
  loadHandler,
} from './invocations';
import type { RealBenchOrganisation } from './real-org';

/**
 * Child process of `npm run bench -- --loki=real`: one organisation's cases against the real Loki, each
 * beside its two floors measured in the same run (scripts/bench/floors.ts). A process per organisation,
 * because the API reads its configuration (SERVICE_NAME, GITHUB_ORG) once.
 */

export interface RealCase {
  route: 'data' | 'metrics';
  days: number;
  repositories?: string[];
  team?: string;
  /** Skip the naive floor (its label filters read every line of the namespace: minutes on 300 repositories). */
  skipNaive?: boolean;
  /** Skip the one-pass floors (a team or the organisation over a year of 300 repositories: minutes). */
  skipOnePass?: boolean;
  /** Then ask for the window moved by a day, with the cache, as a dashboard does the next day. */
  nextDay?: boolean;
}

export interface RealCaseResult extends RealCase {
  statusCode: number;
  detail?: string;
  records?: number;
  ms: number;
  lokiRequests: number;
  lokiLines: number;
  /** The window moved by a day, asked right after in the same (warm) container, without no_cache. */
  nextDayMs?: number;
  nextDayStatusCode?: number;
  nextDayLokiRequests?: number;
  naive?: Floor;
  onePass?: Floor;
  onePassWithLookaround?: Floor;
}

/** A floor's figures, or how it failed (Loki closes a connection it has not answered within 30 s). */
export type Floor = FloorFigures | { failed: string; ms: number };

async function floorOrFailure(measure: () => Promise<FloorFigures>): Promise<Floor> {
  const startedAt = performance.now();
  try {
    return await measure();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { failed: cause ?? (error as Error).message, ms: performance.now() - startedAt };
  }
}

export interface RealCasesInput {
  lokiUrl: string;
  organisation: RealBenchOrganisation;
  cases: RealCase[];
  lookaroundDays: number;
}

function caseEvent(benchCase: RealCase, end: number, cold = true) {
  return benchRequestEvent({
    route: benchCase.route,
    start: end - benchCase.days * DAY_MS,
    end,
    repositories: benchCase.repositories,
    team: benchCase.team,
    cold,
  });
}

async function main(input: RealCasesInput): Promise<RealCaseResult[]> {
  const { organisation } = input;
  const github = await startGitHubServer({
    org: organisation.options.org,
    teams: sampleTeams(organisation.options),
  });
  Object.assign(process.env, benchEnvironment({ lokiUrl: input.lokiUrl, githubUrl: github.url }), {
    SERVICE_NAME: organisation.serviceNamespace,
    LOOKAROUND_DAYS: String(input.lookaroundDays),
  });
  const { getEventStore } = require('../../lib/loki/client') as typeof import('../../lib/loki/client');
  const { getConfig } = require('../../lib/config') as typeof import('../../lib/config');
  const { secretsFrom } = require('../../lib/secrets') as typeof import('../../lib/secrets');
  const store = getEventStore(getConfig(), secretsFrom(process.env as Parameters<typeof secretsFrom>[0]));
  let lastStats = { requests: 0, lines: 0 };
  const original = store.fetchEvents.bind(store);
  store.fetchEvents = async (request) => {
    const result = await original(request);
    lastStats = { requests: result.stats.requests, lines: result.stats.lines };
    return result;
  };
  const config = getConfig();
  const results: RealCaseResult[] = [];
  try {
    for (const benchCase of input.cases) {
      const handler = loadHandler(benchCase.route) as Handler;
      const end = organisation.options.end;
      const start = end - benchCase.days * DAY_MS;
      lastStats = { requests: 0, lines: 0 };
      const startedAt = performance.now();
      const response = (await handler(caseEvent(benchCase, end), lambdaContext('bench'))) as LambdaResult;
      const ms = performance.now() - startedAt;
      const result: RealCaseResult = {
        ...benchCase,
        statusCode: response.statusCode,
        ms,
        lokiRequests: lastStats.requests,
        lokiLines: lastStats.lines,
      };
      if (response.statusCode !== 200 && response.body && !response.isBase64Encoded) {
        const { detail } = JSON.parse(response.body) as { detail?: string };
        if (detail !== undefined) result.detail = detail;
      }
      if (benchCase.nextDay) {
        lastStats = { requests: 0, lines: 0 };
        const nextStartedAt = performance.now();
        const next = (await handler(
          caseEvent(benchCase, end + DAY_MS, false),
          lambdaContext('bench'),
        )) as LambdaResult;
        result.nextDayMs = performance.now() - nextStartedAt;
        result.nextDayStatusCode = next.statusCode;
        result.nextDayLokiRequests = lastStats.requests;
      }
      const lookaround = input.lookaroundDays * DAY_MS;
      const filter: EventFilter = {
        ...(benchCase.repositories ? { repositories: benchCase.repositories } : {}),
        ...(benchCase.team ? { team: benchCase.team } : {}),
      };
      const ranges: Record<EventKind, { start: number; end: number }> = {
        deployments: { start: start - lookaround, end: end + lookaround },
        incidents: { start, end: end + lookaround },
        merges: { start: start - lookaround, end },
      };
      const queryOptions = {
        serviceNamespace: organisation.serviceNamespace,
        incidentLabels: config.incidentLabels,
        productionEnvironments: config.productionEnvironments,
      };
      if (!benchCase.skipNaive) {
        result.naive = await floorOrFailure(() =>
          naiveFloor(input.lokiUrl, queryOptions, { ranges, filter }),
        );
      }
      // The streams the answer comes from: the repositories asked for, or the team's (its events are
      // those of the repositories GitHub says it owns in this organisation), or the whole namespace.
      const teamRepositories = benchCase.team
        ? sampleTeams(organisation.options).find((team) => team.name === benchCase.team)?.repositories
        : undefined;
      const selected = benchCase.repositories ?? teamRepositories;
      const streams = `{service_namespace="${organisation.serviceNamespace}"${
        selected ? `, service_name=~"${selected.join('|')}"` : ''
      }}`;
      if (!benchCase.skipOnePass) {
        result.onePass = await floorOrFailure(() => onePassFloor(input.lokiUrl, streams, { start, end }));
        result.onePassWithLookaround = await floorOrFailure(() =>
          onePassFloor(input.lokiUrl, streams, { start: start - lookaround, end: end + lookaround }),
        );
      }
      results.push(result);
      process.send?.({ progress: result });
    }
  } finally {
    await github.close();
  }
  return results;
}

process.once('message', (input: RealCasesInput) => {
  main(input).then(
    (results) => {
      process.send?.({ done: results });
      process.disconnect();
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
