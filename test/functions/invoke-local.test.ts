import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { generateSample } from '../../lib/sample/generator';
import { ROOT } from '../helpers/local-server';

/**
 * `serverless invoke local`, one of the three ways this API is used, exactly as the README tells it:
 * `LOKI_URL=... GITHUB_ORG=... GITHUB_TOKEN=... npx serverless invoke local --stage local -f <function> -p events/<event>.json`
 * (GITHUB_API_URL only to reach the stand-in). Every function answers its sample event, against the Loki
 * imitation and the GitHub stand-in. Two invocations run at a time (each builds its function with esbuild).
 */
jest.setTimeout(180_000);

const SAMPLES: Array<[fn: string, event: string, status: number]> = [
  ['health', 'health', 200],
  ['dashboard', 'dashboard', 200],
  ['openapi', 'openapi', 200],
  ['data', 'data', 200],
  ['teams', 'teams', 200],
  ['services', 'services', 200],
  ['metrics', 'metrics', 200],
  ['metricsSummary', 'metrics-summary', 200],
  ['eventsDeployments', 'events-deployments', 201],
  ['eventsIncidents', 'events-incidents', 201],
  ['gitopsStatus', 'status', 200],
  ['gitopsStatusJson', 'status-json', 200],
  ['webhooksGithub', 'webhooks-github', 200],
];

/**
 * The secret events/webhooks-github.json is signed with (X-Hub-Signature-256 over its body), as
 * docs/deployment.md tells to set it: the receiver verifies every delivery.
 */
const WEBHOOK_SAMPLE_SECRET = 'sample-webhook-secret-of-events-webhooks-github-json';

interface Invocation {
  code: number | null;
  stdout: string;
  stderr: string;
  result: { statusCode?: number; body?: string } | undefined;
}

/** serverless prints the handler's result last, as indented JSON starting on a line of its own. */
function resultOf(stdout: string): Invocation['result'] {
  const start = stdout.lastIndexOf('\n{\n');
  const text = start >= 0 ? stdout.slice(start + 1) : stdout.startsWith('{\n') ? stdout : '';
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The key of the invocation of GET /services?team= on a deployment without GitHub. */
const TEAM_WITHOUT_GITHUB = 'services?team= without GitHub';

let loki: LokiServer;
let github: GitHubServer;
const workFolders: string[] = [];
const results = new Map<string, Promise<Invocation>>();

/** `event`: a sample of events/ by name (`-p`), or an event of the test's own (`-d`, JSON). */
function invokeLocal(fn: string, event: string | object, env: Record<string, string>): Promise<Invocation> {
  // serverless-esbuild joins ESBUILD_WORK_FOLDER to the project folder even when it is absolute: a folder of
  // the project's own, ignored by git (`.esbuild-*/`), removed after the file.
  const workFolder = path.relative(ROOT, mkdtempSync(path.join(ROOT, '.esbuild-invoke-local-')));
  workFolders.push(workFolder);
  const serverless = path.join(ROOT, 'node_modules', '.bin', 'serverless');
  return new Promise((resolve) => {
    const child = spawn(
      serverless,
      [
        'invoke',
        'local',
        '--stage',
        'local',
        '-f',
        fn,
        ...(typeof event === 'string' ? ['-p', `events/${event}.json`] : ['-d', JSON.stringify(event)]),
      ],
      {
        cwd: ROOT,
        // Only what the README says to set, on top of a clean environment (not the test runner's settings).
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmpdir(),
          ESBUILD_WORK_FOLDER: workFolder,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr, result: resultOf(stdout) }));
  });
}

beforeAll(async () => {
  // The sample events ask for windows ending 2026-11-27/28: events there give /data something to answer.
  const sample = generateSample({
    seed: 3,
    end: Date.UTC(2026, 10, 28),
    days: 120,
    repositories: 4,
    teams: 2,
  });
  loki = await startLokiServer({ entries: sample.entries });
  github = await startGitHubServer({ org: sample.org, teams: sample.teams, token: 'invoke-local-token' });
  const env = {
    LOKI_URL: loki.url,
    GITHUB_ORG: sample.org,
    GITHUB_TOKEN: 'invoke-local-token',
    GITHUB_API_URL: github.url,
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SAMPLE_SECRET,
  };
  const limit = pLimit(2);
  for (const [fn, event] of SAMPLES)
    results.set(
      fn,
      limit(() => invokeLocal(fn, event, env)),
    );
  // Without GITHUB_ORG/GITHUB_TOKEN, as a deployment that reads teams only from the events' team_name.
  const services = JSON.parse(readFileSync(path.join(ROOT, 'events', 'services.json'), 'utf8'));
  const team = sample.teams[0]?.slug ?? 'no-team-generated';
  results.set(
    TEAM_WITHOUT_GITHUB,
    limit(() =>
      invokeLocal(
        'services',
        { ...services, rawQueryString: `team=${team}`, queryStringParameters: { team } },
        { LOKI_URL: loki.url },
      ),
    ),
  );
  await Promise.all(results.values());
});

afterAll(async () => {
  await Promise.all([loki?.close(), github?.close()]);
  for (const folder of workFolders) rmSync(path.join(ROOT, folder), { recursive: true, force: true });
});

describe('npx serverless invoke local --stage local -f <function> -p events/<event>.json', () => {
  it.each(SAMPLES)('%s answers events/%s.json with %d', async (fn, _event, status) => {
    const invocation = (await results.get(fn)) as Invocation;

    expect({ fn, code: invocation.code, status: invocation.result?.statusCode }).toEqual({
      fn,
      code: 0,
      status,
    });
  });

  it('invokes every sample of events/', () => {
    const samples = readdirSync(path.join(ROOT, 'events'))
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length));

    expect(samples.sort()).toEqual(SAMPLES.map(([, event]) => event).sort());
  });

  it('webhooksGithub verifies the signed sample delivery and writes its entries to Loki', async () => {
    const invocation = (await results.get('webhooksGithub')) as Invocation;

    expect(JSON.parse(invocation.result?.body ?? '{}')).toMatchObject({
      status: 'written',
      event: 'deployment_status',
      entries: expect.any(Number),
    });
    expect(readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8')).toContain(WEBHOOK_SAMPLE_SECRET);
  });

  it('data answers records read from the Loki imitation', async () => {
    const invocation = (await results.get('data')) as Invocation;

    const body = JSON.parse(invocation.result?.body ?? '{}') as { records?: unknown[] };
    expect(body.records?.length).toBeGreaterThan(0);
  });

  it('services answers ?team= without GITHUB_ORG with a 400 naming team and the missing setting', async () => {
    const invocation = (await results.get(TEAM_WITHOUT_GITHUB)) as Invocation;

    expect({ code: invocation.code, status: invocation.result?.statusCode }).toEqual({
      code: 0,
      status: 400,
    });
    expect(JSON.parse(invocation.result?.body ?? '{}')).toMatchObject({
      errors: [{ field: 'team', message: 'needs GitHub: GITHUB_ORG is not configured' }],
    });
  });

  it('services lists the services of the Loki imitation', async () => {
    const invocation = (await results.get('services')) as Invocation;

    expect(JSON.parse(invocation.result?.body ?? '{}')).toEqual({
      services: expect.arrayContaining([expect.any(String)]),
    });
  });
});
