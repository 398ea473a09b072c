import { startGitHubServer } from '../../dev/github-server';
import { sampleTeams } from '../../lib/sample/generator';
import { httpEvent, lambdaContext } from '../../test/helpers/lambda';
import { bodyText, type Handler, type LambdaResult } from './invocations';
import { LARGE_ORG } from './real-org';

/**
 * A child of the store benchmark (scripts/bench/real-rollups.ts): one step in a process of its own, so that
 * "cold" is the first request of a new process (as a new Lambda container has it) and its peak RSS is the
 * step's own. Steps: `floor` (the namespace's year handed over by the read path's Loki reader once, no
 * store) or `read` (one request, then the same again WARM_RUNS times). The parent counts what Loki and S3
 * were asked, between the messages.
 */

export type ReadRoute = 'summary' | 'metrics' | 'data';

export interface ReadStep {
  kind: 'read';
  route: ReadRoute;
  team?: string;
  /** One repository's request (POST /data only). */
  repository?: string;
  /** First and last day (inclusive), YYYY-MM-DD. */
  firstDay: string;
  lastDay: string;
  /** The route's function bundled as serverless.yml bundles it (scripts/bench/build.ts); else its source. */
  handlerFile?: string;
}

export type ChildStep = { kind: 'floor'; start: number; end: number } | ReadStep;

export interface StepAnswer {
  ms: number;
  statusCode: number;
  rollups?: string;
  bytes: number;
  detail?: string;
  events?: number;
  maxRssMb: number;
}

export type ChildMessage =
  | { phase: 'cold'; answer: StepAnswer }
  | { phase: 'warm'; answers: StepAnswer[] }
  | { phase: 'floor'; answer: StepAnswer };

/** The parent answers `next` once it has counted the cold request. */
export type ParentMessage = { step: ChildStep } | { next: true };

const WARM_RUNS = 3;

const FUNCTIONS: Record<ReadRoute, string> = {
  summary: '../../functions/metrics-summary',
  metrics: '../../functions/metrics',
  data: '../../functions/data',
};

function eventOf(step: ReadStep) {
  const headers = { 'accept-encoding': 'gzip, deflate, br' };
  if (step.route === 'data') {
    return httpEvent({
      method: 'POST',
      path: '/data',
      headers,
      body: {
        start: `${step.firstDay}T00:00:00.000Z`,
        end: `${step.lastDay}T23:59:59.999Z`,
        ...(step.team ? { team: step.team } : {}),
        ...(step.repository ? { repositories: [step.repository] } : {}),
      },
    });
  }
  const period = {
    start_date: step.firstDay,
    end_date: step.lastDay,
    ...(step.team ? { team: step.team } : {}),
  };
  return step.route === 'summary'
    ? httpEvent({ path: '/metrics/summary', headers, query: period })
    : httpEvent({
        path: '/metrics',
        headers,
        query: { ...period, metric: 'lead_time_for_changes', interval: 'weekly' },
      });
}

const maxRssMb = () => process.resourceUsage().maxRSS / 1024;

async function invoke(handler: Handler, step: ReadStep): Promise<StepAnswer> {
  const started = performance.now();
  const result = (await handler(eventOf(step), lambdaContext('bench-rollups'))) as LambdaResult & {
    headers?: Record<string, string>;
  };
  const ms = performance.now() - started;
  const text = bodyText(result);
  const answer: StepAnswer = {
    ms,
    statusCode: result.statusCode,
    bytes: Buffer.byteLength(text),
    maxRssMb: maxRssMb(),
  };
  const rollups = result.headers?.['X-Rollups'] ?? result.headers?.['x-rollups'];
  if (rollups !== undefined) answer.rollups = rollups;
  if (result.statusCode !== 200) answer.detail = (JSON.parse(text) as { detail?: string }).detail ?? text;
  return answer;
}

function nextMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => process.once('message', (message: ParentMessage) => resolve(message)));
}

async function floor(start: number, end: number): Promise<StepAnswer> {
  const { parseConfig } = require('../../lib/config') as typeof import('../../lib/config');
  const { namespaceFloor } = require('./floors') as typeof import('./floors');
  // No deadline: a busy 30-day piece of the namespace may take Loki longer than a request's.
  const config = parseConfig({ ...process.env, ROLLUPS_URL: 'off', LOKI_TIMEOUT_MS: '600000' });
  const { ms, events } = await namespaceFloor(config, { start, end });
  return { ms, statusCode: 200, bytes: 0, events, maxRssMb: maxRssMb() };
}

async function main(): Promise<void> {
  const first = await nextMessage();
  if (!('step' in first)) throw new Error('expected a step');
  const { step } = first;
  if (step.kind === 'floor') {
    process.send?.({ phase: 'floor', answer: await floor(step.start, step.end) } satisfies ChildMessage);
    return;
  }
  const github = await startGitHubServer({
    org: LARGE_ORG.options.org,
    teams: sampleTeams(LARGE_ORG.options),
  });
  process.env.GITHUB_API_URL = github.url;
  try {
    const { handler } = require(step.handlerFile ?? FUNCTIONS[step.route]) as { handler: Handler };
    process.send?.({ phase: 'cold', answer: await invoke(handler, step) } satisfies ChildMessage);
    await nextMessage();
    const answers: StepAnswer[] = [];
    for (let run = 0; run < WARM_RUNS; run += 1) answers.push(await invoke(handler, step));
    process.send?.({ phase: 'warm', answers } satisfies ChildMessage);
  } finally {
    await github.close();
  }
}

main().then(
  () => process.disconnect(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
