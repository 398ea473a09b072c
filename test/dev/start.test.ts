import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { freePort, spawnNpmStart, waitForHealth } from '../helpers/local-server';

/**
 * `npm start` end to end: the real serverless offline over the generated events and the stand-ins.
 * Slow by nature (serverless and esbuild start up), so one start serves every case.
 */
jest.setTimeout(90_000);

const ROOT = path.resolve(__dirname, '../..');
const DAY = 86_400_000;
const DEFINED_ROUTES = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The window react-dora-charts asks for by default: 356 days ending at UTC midnight yesterday. */
function dashboardDefaultWindow(now = Date.now()): { start: string; end: string } {
  const todayMidnight = Math.floor(now / DAY) * DAY;
  const end = todayMidnight - DAY;
  return { start: new Date(end - 356 * DAY).toISOString(), end: new Date(end).toISOString() };
}

describe('npm start (tsx dev/start.ts)', () => {
  let child: ChildProcess;
  let port: number;
  let baseUrl: string;
  let output: () => string;
  let exited: Promise<number | null>;

  beforeAll(async () => {
    port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      OFFLINE_LAMBDA_PORT: String(await freePort()),
      // Empty values win over a developer's .env: this test is about the stand-ins.
      LOKI_URL: '',
      GITHUB_TOKEN: '',
      GITHUB_ORG: '',
      AUTH_MODE: '',
      AUTH_JWT_SECRET: '',
    };
    const started = spawnNpmStart(ROOT, env);
    child = started.child;
    output = started.output;
    exited = started.exited;
    await waitForHealth(baseUrl, child, output);
  });

  afterAll(() => {
    // Only when a test failed before the shutdown case: the whole group, so nothing outlives the test.
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });

  it('says where the generated events and teams come from', () => {
    expect(output()).toMatch(
      /No LOKI_URL set: serving \d+ generated events .* from a local Loki stand-in at http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(output()).toMatch(/local GitHub stand-in at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('prints the dashboard URL and serves the page there', async () => {
    const printed = /Dashboard: (http:\/\/localhost:\d+\/)/.exec(output())?.[1];

    const response = await fetch(`${baseUrl}/`);

    expect(printed).toBe(`http://localhost:${port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('answers GET /health with 200', async () => {
    const response = await fetch(`${baseUrl}/health`);

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', stage: 'local' });
  });

  it("answers POST /data for the dashboards' default window with records from the generated events", async () => {
    if (!/path: \/data\b/.test(DEFINED_ROUTES)) {
      console.warn('Skipping the /data check: serverless.yml has no /data route yet');
      return;
    }

    const response = await fetch(`${baseUrl}/data`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(dashboardDefaultWindow()),
    });

    const body = (await response.json()) as { records: Array<Record<string, unknown>> };
    expect({ status: response.status, hasRecords: Array.isArray(body.records) }).toEqual({
      status: 200,
      hasRecords: true,
    });
    const { records } = body;
    expect(records.length).toBeGreaterThan(100);
    expect(Object.keys(records[0] ?? {}).sort()).toEqual(
      [
        'change_url',
        'created_at',
        'deploy_url',
        'failed_at',
        'fixed_at',
        'fixed_url',
        'issue_url',
        'merged_at',
        'repository',
        'sha',
        'status',
        'team',
        'title',
        'total_cycle_time',
        'user',
      ].sort(),
    );
    expect(records.some((record) => record.failed_at !== null)).toBe(true);
  });

  it('lists the generated teams from the GitHub stand-in on GET /teams', async () => {
    if (!/path: \/teams\b/.test(DEFINED_ROUTES)) {
      console.warn('Skipping the /teams check: serverless.yml has no /teams route yet');
      return;
    }

    const response = await fetch(`${baseUrl}/teams`);

    const body = (await response.json()) as { teams: Array<{ name: string }> };
    expect({ status: response.status, body }).toEqual({ status: 200, body: { teams: expect.any(Array) } });
    const { teams } = body;
    expect(teams.map((team) => team.name)).toEqual(expect.arrayContaining(['Platform Core', 'tag-o11y']));
  });

  it('stops the API and the stand-ins on SIGTERM, leaving the port closed', async () => {
    process.kill(child.pid as number, 'SIGTERM');

    const code = await exited;

    expect(code).toBe(0);
    expect(await portAcceptsConnections(port)).toBe(false);
  });
});
