import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import { type LokiServer, type LokiServerOptions, startLokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { resetConfigForTests } from '../../lib/config';
import type { Team } from '../../lib/dora/types';
import { resetTeamDirectoriesForTests } from '../../lib/github/directory';
import type { LokiEntry } from '../../lib/loki/types';

/**
 * Points the API at a Loki stand-in on an ephemeral loopback port, with the given settings, and
 * puts the environment back afterwards. Handlers read their configuration on first use, so tests
 * call this before invoking them.
 */
export async function useLokiStandIn(
  options: LokiServerOptions = {},
  env: Record<string, string> = {},
): Promise<{ loki: LokiServer; restore: () => Promise<void> }> {
  const loki = await startLokiServer(options);
  const restoreEnv = setEnv({ LOKI_URL: loki.url, ...env });
  return {
    loki,
    restore: async () => {
      restoreEnv();
      await loki.close();
    },
  };
}

/** The API with nothing but the Loki stand-in: no GitHub, no authentication, no retries of Loki. */
export const LOKI_ONLY: Record<string, string> = {
  GITHUB_ORG: '',
  GITHUB_TOKEN: '',
  AUTH_MODE: 'off',
  LOKI_MAX_RETRIES: '0',
};

export interface MetricsRoutes {
  loki: LokiServer;
  metrics: typeof MetricsHandler;
  summary: typeof SummaryHandler;
  data: typeof DataHandler;
}

/**
 * For a describe block: the handlers of /metrics, /metrics/summary and /data over a Loki stand-in holding
 * `entries`, set up by LOKI_ONLY and `env`; started before the block's tests, closed after them. Its
 * fields are there once the block's tests run.
 */
export function useMetricsRoutes(entries: LokiEntry[], env: Record<string, string> = {}): MetricsRoutes {
  const routes = {} as MetricsRoutes;
  let restore: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ loki: routes.loki, restore } = await useLokiStandIn({ entries }, { ...LOKI_ONLY, ...env }));
    ({ handler: routes.metrics } = await import('../../functions/metrics'));
    ({ handler: routes.summary } = await import('../../functions/metrics-summary'));
    ({ handler: routes.data } = await import('../../functions/data'));
  });
  afterAll(async () => restore?.());
  return routes;
}

/** Sets environment variables (an empty string unsets one) and returns the function that restores them. */
export function setEnv(env: Record<string, string>): () => void {
  const previous = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(env)) {
    if (value === '') delete process.env[name];
    else process.env[name] = value;
  }
  resetConfigForTests();
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetConfigForTests();
  };
}

export const STAND_IN_GITHUB_TOKEN = 'test-token';

/**
 * A Loki stand-in holding `entries` and a GitHub stand-in owning `teams` of `org`, with the API pointed at
 * both (and `env`), and the team directory cache emptied; `restore` closes both and puts the environment back.
 */
export async function useStandIns(input: {
  entries: LokiEntry[];
  org: string;
  teams: Team[];
  env?: Record<string, string>;
}): Promise<{ loki: LokiServer; github: GitHubServer; restore: () => Promise<void> }> {
  const github = await startGitHubServer({
    org: input.org,
    teams: input.teams,
    token: STAND_IN_GITHUB_TOKEN,
  });
  const { loki, restore } = await useLokiStandIn(
    { entries: input.entries },
    { GITHUB_ORG: input.org, GITHUB_TOKEN: STAND_IN_GITHUB_TOKEN, GITHUB_API_URL: github.url, ...input.env },
  );
  resetTeamDirectoriesForTests();
  return {
    loki,
    github,
    restore: async () => {
      await restore();
      await github.close();
    },
  };
}
