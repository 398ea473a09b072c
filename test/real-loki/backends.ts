import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { setEnv } from '../helpers/environment';
import { type EventOptions, type InvokeResult, invoke } from '../helpers/lambda';
import { type TestOrganisation, testOrganisation } from './organisation';
import type { RealLokiRun } from './real-loki';

/**
 * The real Loki and the imitation (dev/loki-server.ts) holding the same organisation, with one GitHub
 * stand-in owning its teams, and a switch pointing the handlers at either.
 *
 * Deadlines are generous on purpose: on a 2-core Loki a query costs about 1 ms per hour of its range
 * before it reads anything, and a busy machine makes a summary take 10-30 s, near Lambda's 29 s (reads
 * wait for Loki until the function's deadline, 2 s before the time Lambda leaves; LOKI_TIMEOUT_MS bounds
 * requests without a deadline). This suite checks what the answers are; how fast they come is
 * `npm run bench`'s business. The time each request took is printed at the end of a file.
 */
export const LOKI_TIMEOUT_MS = 120_000;
export const REMAINING_MS = 600_000;
const GITHUB_TOKEN = 'real-loki-suite-token';

export type Backend = 'real' | 'imitation';

export interface Backends {
  organisation: TestOrganisation;
  imitation: LokiServer;
  github: GitHubServer;
  /** Calls `handler` with the API pointed at `backend`; every call is timed. */
  call<C extends Context>(
    backend: Backend,
    handler: (event: APIGatewayProxyEventV2, context: C) => Promise<unknown>,
    options: EventOptions,
  ): Promise<InvokeResult>;
  /** What every call took, per backend, for the report at the end of a file. */
  timings: Array<{ backend: Backend; what: string; ms: number; status: number }>;
  close(): Promise<void>;
}

export async function useBackends(run: RealLokiRun, env: Record<string, string> = {}): Promise<Backends> {
  const organisation = testOrganisation(run.serviceNamespace);
  const imitation = await startLokiServer({ entries: organisation.entries });
  const github = await startGitHubServer({ org: 'acme', teams: organisation.teams, token: GITHUB_TOKEN });
  const common = {
    SERVICE_NAME: run.serviceNamespace,
    GITHUB_ORG: 'acme',
    GITHUB_TOKEN,
    GITHUB_API_URL: github.url,
    LOKI_TIMEOUT_MS: String(LOKI_TIMEOUT_MS),
    ...env,
  };
  let restore = setEnv({ ...common, LOKI_URL: run.url });
  const timings: Backends['timings'] = [];
  return {
    organisation,
    imitation,
    github,
    timings,
    async call(backend, handler, options) {
      restore();
      restore = setEnv({ ...common, LOKI_URL: backend === 'real' ? run.url : imitation.url });
      const startedAt = performance.now();
      const response = await invoke(handler, options, REMAINING_MS);
      const what = `${options.method ?? 'GET'} ${options.path} ${JSON.stringify(options.query ?? {})} ${
        typeof options.body === 'object' ? JSON.stringify(options.body) : ''
      }`;
      timings.push({ backend, what, ms: performance.now() - startedAt, status: response.statusCode });
      return response;
    },
    async close() {
      restore();
      await Promise.all([imitation.close(), github.close()]);
    },
  };
}

/** One line per call on the real Loki: how long each took (seconds) and its status. */
export function timingReport(title: string, timings: Backends['timings']): string {
  const real = timings.filter((timing) => timing.backend === 'real');
  const total = real.reduce((sum, timing) => sum + timing.ms, 0);
  const lines = real.map(
    (timing) => `  ${(timing.ms / 1000).toFixed(2)} s  ${timing.status}  ${timing.what}`,
  );
  return `${title}: ${real.length} calls on the real Loki, ${(total / 1000).toFixed(1)} s\n${lines.join('\n')}`;
}
