import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import { handler as teamsHandler } from '../../functions/teams';
import { resetConfigForTests } from '../../lib/config';
import { resetTeamDirectoriesForTests } from '../../lib/github/directory';
import { logger } from '../../lib/logger';
import { invoke } from '../helpers/lambda';

/** JSON.stringify drops an Error's message, stack and cause: keep them, recursively. */
function expandErrors(_key: string, value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  return { ...value, name: value.name, message: value.message, stack: value.stack, cause: value.cause };
}

const ORG = 'acme';
const TOKEN = 'ghp_teamsHandlerSecret987';
// The helper types the Lambda context plainly; the function's context also carries `secrets`.
const handler = teamsHandler as unknown as Parameters<typeof invoke>[0];

const TEAMS = [
  { name: 'Platform', repositories: ['infra', 'api'] },
  { name: 'Checkout', repositories: ['cart'] },
];

describe('GET /teams', () => {
  let server: GitHubServer;
  const savedEnv = { ...process.env };

  /** Settings are read per request (getConfig), so a test changes them without reloading the function. */
  function configure(env: Record<string, string | undefined>): void {
    process.env = { ...savedEnv, GITHUB_ORG: ORG, GITHUB_API_URL: server.url, GITHUB_TOKEN: TOKEN, ...env };
    for (const [name, value] of Object.entries(env)) if (value === undefined) delete process.env[name];
    delete process.env.SSM_PARAMETER_PATH;
    resetConfigForTests();
    resetTeamDirectoriesForTests();
  }

  beforeEach(async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: TEAMS });
    configure({ GITHUB_MAX_RETRIES: '0' });
  });

  afterEach(async () => {
    await server.close();
    process.env = { ...savedEnv };
    resetConfigForTests();
    resetTeamDirectoriesForTests();
  });

  it('answers the teams of GITHUB_ORG with their repositories, sorted by name', async () => {
    const response = await invoke(handler, { path: '/teams' });

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({
      teams: [
        { name: 'Checkout', repositories: ['cart'] },
        { name: 'Platform', repositories: ['api', 'infra'] },
      ],
    });
    expect(response.headers['X-Cache']).toBe('miss');
  });

  it('answers names only with ?fields=name, as the Backstage plugin reads them', async () => {
    const response = await invoke(handler, { path: '/teams', query: { fields: 'name' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ teams: ['Checkout', 'Platform'] });
  });

  it('accepts ?fields=name,repositories as the default shape', async () => {
    const response = await invoke(handler, { path: '/teams', query: { fields: 'name,repositories' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toMatchObject({
      teams: [{ name: 'Checkout', repositories: ['cart'] }, expect.anything()],
    });
  });

  it('serves the second request from memory without calling GitHub', async () => {
    await invoke(handler, { path: '/teams' });
    const requestsAfterFirst = server.requests.length;

    const response = await invoke(handler, { path: '/teams', query: { fields: 'name' } });

    expect(response.headers['X-Cache']).toBe('hit');
    expect(server.requests).toHaveLength(requestsAfterFirst);
  });

  it('asks GitHub again with ?no_cache=true', async () => {
    await invoke(handler, { path: '/teams' });
    server.setTeams([...TEAMS, { name: 'Data', repositories: ['warehouse'] }]);

    const response = await invoke(handler, { path: '/teams', query: { fields: 'name', no_cache: 'true' } });

    expect(response.headers['X-Cache']).toBe('miss');
    expect(response.json).toEqual({ teams: ['Checkout', 'Data', 'Platform'] });
  });

  it('serves the last list, saying it is stale, when GitHub fails on a refresh', async () => {
    await invoke(handler, { path: '/teams' });
    server.failNext({ kind: 'status', status: 500 }, 5);

    const response = await invoke(handler, { path: '/teams', query: { fields: 'name', no_cache: 'true' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ teams: ['Checkout', 'Platform'] });
    expect(response.headers['X-Cache']).toBe('stale');
    expect(response.headers.Warning).toBe('110 - "Response is stale"');
    expect(response.headers['X-Cache-Stale-Reason']).toContain('GitHub answered HTTP 500');
  });

  it.each(['members', 'constructor', 'toString', '__proto__'])(
    'answers 400 naming the parameter for the unknown fields value %s',
    async (fields) => {
      const response = await invoke(handler, { path: '/teams', query: { fields } });

      expect(response.statusCode).toBe(400);
      expect(response.json).toMatchObject({ errors: [{ field: 'fields' }] });
      expect(server.requests).toHaveLength(0);
    },
  );

  it('answers 400 naming an unknown query parameter', async () => {
    const response = await invoke(handler, { path: '/teams', query: { nocache: 'true' } });

    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({
      errors: [{ field: 'nocache', message: 'is not a known parameter' }],
    });
  });

  it('answers 502 saying GitHub refused the credentials, never echoing the token', async () => {
    configure({ GITHUB_TOKEN: 'ghp_revokedTokenValue55' });
    const lines: string[] = [];
    // What our code hands the logger, before the logger's own redaction: the token must not be there.
    const spies = (['debug', 'info', 'warn', 'error'] as const).map((level) =>
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        lines.push(JSON.stringify(args, expandErrors));
      }),
    );

    const response = await invoke(handler, { path: '/teams' });
    for (const spy of spies) spy.mockRestore();

    expect(response.statusCode).toBe(502);
    expect(response.json).toMatchObject({
      detail: 'GitHub refused the credentials (HTTP 401); check GITHUB_TOKEN',
    });
    expect(lines.length).toBeGreaterThan(0);
    expect([response.body, JSON.stringify(response.headers), ...lines].join('\n')).not.toContain(
      'ghp_revokedTokenValue55',
    );
  });

  it('answers 502 naming an organisation GitHub does not know', async () => {
    configure({ GITHUB_ORG: 'ghost-org' });

    const response = await invoke(handler, { path: '/teams' });

    expect(response.statusCode).toBe(502);
    expect(response.json).toMatchObject({
      detail: "GitHub organisation 'ghost-org' was not found or the token cannot see it",
    });
  });

  it('answers 503 with Retry-After when the rate limit is exhausted and nothing is cached', async () => {
    server.failNext({ kind: 'primary-rate-limit', resetInSeconds: 600 });

    const response = await invoke(handler, { path: '/teams' });

    expect(response.statusCode).toBe(503);
    expect(Number(response.headers['Retry-After'])).toBeGreaterThan(590);
    expect(response.json).toMatchObject({ detail: expect.stringContaining('GitHub rate limit exceeded') });
  });

  it('answers 500 naming GITHUB_ORG when it is not configured', async () => {
    configure({ GITHUB_ORG: undefined });

    const response = await invoke(handler, { path: '/teams' });

    expect(response.statusCode).toBe(500);
    expect(response.json).toMatchObject({ detail: 'GITHUB_ORG is not configured' });
  });

  it('answers 500 naming GITHUB_TOKEN when it is not configured', async () => {
    configure({ GITHUB_TOKEN: undefined });

    const response = await invoke(handler, { path: '/teams' });

    expect(response.statusCode).toBe(500);
    expect(response.json).toMatchObject({
      detail: expect.stringContaining('GITHUB_TOKEN is not configured'),
    });
  });
});
