import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { resetTeamDirectoriesForTests } from '../../lib/github/directory';
import { generateSample } from '../../lib/sample/generator';
import { setEnv } from '../helpers/environment';
import type { invoke } from '../helpers/lambda';
import { TEST_JWT_SECRET } from './tokens';

export type Handler = Parameters<typeof invoke>[0];

/** Secrets configured for the API under test; none may ever appear in a log line. */
export const SECRETS = {
  GITHUB_TOKEN: 'ghp_securityTestToken0123456789abcdef',
  LOKI_TOKEN: 'glc_securityTestLokiToken9876543210',
  AUTH_JWT_SECRET: TEST_JWT_SECRET,
} as const;

export const LOKI_USER = 'loki-tenant-user';
const ORG = 'acme';
const DAY = 86_400_000;
export const SAMPLE_END = Date.UTC(2026, 10, 27);
export const sample = generateSample({ seed: 11, end: SAMPLE_END, days: 30, repositories: 4, teams: 2 });

export interface ApiUnderTest {
  loki: LokiServer;
  github: GitHubServer;
  handlers: {
    health: Handler;
    teams: Handler;
    data: Handler;
    metrics: Handler;
    summary: Handler;
    openapi: Handler;
    deployments: Handler;
    incidents: Handler;
    status: Handler;
    statusJson: Handler;
  };
  /** A period with deployments in the sample. */
  period: { start: string; end: string };
  restore: () => Promise<void>;
}

/**
 * The API as deployed, with authentication on, in front of Loki and GitHub stand-ins that demand
 * the configured credentials, so every route can be called for real.
 */
export async function startApi(env: Record<string, string> = {}): Promise<ApiUnderTest> {
  const loki = await startLokiServer({
    entries: sample.entries,
    requireAuth: { user: LOKI_USER, token: SECRETS.LOKI_TOKEN },
  });
  const github = await startGitHubServer({
    org: ORG,
    token: SECRETS.GITHUB_TOKEN,
    teams: sample.teams.map((team) => ({ name: team.name, repositories: [...team.repositories] })),
  });
  const restoreEnv = setEnv({
    ...SECRETS,
    LOKI_URL: loki.url,
    LOKI_USER,
    LOKI_MAX_RETRIES: '0',
    GITHUB_ORG: ORG,
    GITHUB_API_URL: github.url,
    GITHUB_MAX_RETRIES: '0',
    SSM_PARAMETER_PATH: '',
    CORS_ORIGINS: '',
    AUTH_MODE: '',
    ...env,
  });
  resetTeamDirectoriesForTests();
  const handlers = {
    health: (await import('../../functions/health')).handler as unknown as Handler,
    teams: (await import('../../functions/teams')).handler as unknown as Handler,
    data: (await import('../../functions/data')).handler as unknown as Handler,
    metrics: (await import('../../functions/metrics')).handler as unknown as Handler,
    summary: (await import('../../functions/metrics-summary')).handler as unknown as Handler,
    openapi: (await import('../../functions/openapi')).handler as unknown as Handler,
    deployments: (await import('../../functions/events-deployments')).handler as unknown as Handler,
    incidents: (await import('../../functions/events-incidents')).handler as unknown as Handler,
    status: (await import('../../functions/status')).handler as unknown as Handler,
    statusJson: (await import('../../functions/status-json')).handler as unknown as Handler,
  };
  return {
    loki,
    github,
    handlers,
    period: {
      start: new Date(SAMPLE_END - 20 * DAY).toISOString(),
      end: new Date(SAMPLE_END - DAY).toISOString(),
    },
    restore: async () => {
      restoreEnv();
      resetTeamDirectoriesForTests();
      await Promise.all([loki.close(), github.close()]);
    },
  };
}
