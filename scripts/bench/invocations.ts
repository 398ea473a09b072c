import { existsSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { DAY_MS } from '../../lib/time';
import { httpEvent, lambdaContext } from '../../test/helpers/lambda';
import { BENCH_ORG, BENCH_REPOSITORY, BENCH_TEAM } from './org';

/** The requests the benchmark times: a window of days ending where the generated data ends, and a scope. */
export type Route = 'data' | 'metrics';
export type Scope = 'repository' | 'team' | 'organisation';

export interface BenchCase {
  route: Route;
  days: number;
  scope: Scope;
}

export const SCOPE_LABELS: Record<Scope, string> = {
  repository: `one repository (${BENCH_REPOSITORY})`,
  team: `one team (${BENCH_TEAM})`,
  organisation: `organisation (${BENCH_ORG.repositories} repositories)`,
};

/** The request a dashboard makes for one bench case; `cold` asks the API to skip its caches. */
export function benchRequestEvent(request: {
  route: 'data' | 'metrics';
  start: number;
  end: number;
  repositories?: string[] | undefined;
  team?: string | undefined;
  cold?: boolean;
}): APIGatewayProxyEventV2 {
  const { route, start, end, repositories, team, cold = true } = request;
  const query: Record<string, string> = cold ? { no_cache: 'true' } : {};
  // Browsers (react-dora-charts) and Grafana always accept gzip; large answers are compressed for them.
  const headers = { 'accept-encoding': 'gzip, deflate, br' };
  if (route === 'data') {
    return httpEvent({
      method: 'POST',
      path: '/data',
      query,
      headers,
      body: {
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
        ...(repositories ? { repositories } : {}),
        ...(team ? { team } : {}),
      },
    });
  }
  return httpEvent({
    path: '/metrics',
    headers,
    query: {
      ...query,
      // Lead time is the metric that needs both deployments and merges: the most work of the five.
      metric: 'lead_time_for_changes',
      interval: 'daily',
      from: String(start),
      to: String(end),
      ...(repositories ? { repositories: repositories.join(',') } : {}),
      ...(team ? { team } : {}),
    },
  });
}

export function caseEvent({ route, days, scope }: BenchCase): APIGatewayProxyEventV2 {
  const end = BENCH_ORG.end;
  return benchRequestEvent({
    route,
    start: end - days * DAY_MS,
    end,
    repositories: scope === 'repository' ? [BENCH_REPOSITORY] : undefined,
    team: scope === 'team' ? BENCH_TEAM : undefined,
  });
}

export interface LambdaResult {
  statusCode: number;
  body?: string;
  isBase64Encoded?: boolean;
}

/** The answer's text as the client reads it (gunzipped when the function compressed it). */
export function bodyText(result: LambdaResult): string {
  if (result.body === undefined) return '';
  return result.isBase64Encoded
    ? gunzipSync(Buffer.from(result.body, 'base64')).toString('utf8')
    : result.body;
}
export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export async function invokeCase(handler: Handler, benchCase: BenchCase): Promise<LambdaResult> {
  return (await handler(caseEvent(benchCase), lambdaContext(`bench-${benchCase.route}`))) as LambdaResult;
}

/** The environment that points the API at the stand-ins, quiet and without authentication. */
export function benchEnvironment(upstreams: { lokiUrl: string; githubUrl: string }): Record<string, string> {
  return {
    LOKI_URL: upstreams.lokiUrl,
    LOKI_PAGE_LIMIT: '5000',
    GITHUB_ORG: BENCH_ORG.org,
    GITHUB_TOKEN: 'bench-token',
    GITHUB_API_URL: upstreams.githubUrl,
    AUTH_MODE: 'off',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
  };
}

/**
 * Loads a function's handler if its file exists (a route may not be built yet). `require`, not a
 * dynamic `import()` of a computed path, which tsx would load as a second, separate module graph.
 */
export function loadHandler(route: Route): Handler | undefined {
  const file = path.resolve(__dirname, '../../functions', `${route}.ts`);
  if (!existsSync(file)) return undefined;
  return (require(file) as { handler: Handler }).handler;
}
