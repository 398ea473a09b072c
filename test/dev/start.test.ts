import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { getConfig } from '../../lib/config';
import { getDeliveryOutbox } from '../../lib/webhooks/store-outbox';
import {
  freePort,
  type LocalServer,
  portAcceptsConnections,
  ROOT,
  spawnNpmStart,
  startLocalServer,
} from '../helpers/local-server';

/**
 * `npm start` end to end: the real serverless offline over the generated events and the stand-ins.
 * Slow by nature (serverless and esbuild start up), so one start serves every case.
 */
jest.setTimeout(90_000);

const DAY = 86_400_000;
const DEFINED_ROUTES = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');

/** The window react-dora-charts asks for by default: 356 days ending at UTC midnight yesterday. */
function dashboardDefaultWindow(now = Date.now()): { start: string; end: string } {
  const todayMidnight = Math.floor(now / DAY) * DAY;
  const end = todayMidnight - DAY;
  return { start: new Date(end - 356 * DAY).toISOString(), end: new Date(end).toISOString() };
}

describe('npm start (tsx dev/start.ts)', () => {
  let server: LocalServer;
  let baseUrl: string;
  let output: () => string;

  beforeAll(async () => {
    // A delivery an earlier run kept while Loki was away (the tests' outbox folder, test/helpers/setup.ts).
    await getDeliveryOutbox(getConfig()).keep({
      id: 'kept-by-an-earlier-run',
      event: 'ping',
      receivedAt: new Date().toISOString(),
      entries: [
        {
          labels: { service_name: 'orders', service_namespace: 'github' },
          timestampNs: `${Date.now()}000000`,
          line: '{}',
        },
      ],
    });
    server = await startLocalServer({
      OFFLINE_LAMBDA_PORT: String(await freePort()),
      GITHUB_WEBHOOK_SECRET: '',
    });
    ({ baseUrl, output } = server);
  });

  // Only when a test failed before the shutdown case: the whole group, so nothing outlives the test.
  afterAll(async () => server?.kill());

  it('says where the generated events and teams come from', () => {
    expect(output()).toMatch(
      /No LOKI_URL set: serving \d+ generated events .* from a local Loki stand-in at http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(output()).toMatch(/local GitHub stand-in at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('says how to set GITHUB_WEBHOOK_SECRET, and the receiver refuses deliveries until it is set', async () => {
    const body = '{"zen":"x","hook_id":1}';

    const response = await fetch(`${baseUrl}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'x-github-delivery': 'start-1',
      },
      body,
    });

    expect(output()).toMatch(
      /Webhooks: GITHUB_WEBHOOK_SECRET not set, .*GITHUB_WEBHOOK_SECRET=<long random text> in \.env/,
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ detail: 'The GitHub webhook receiver is not configured' });
  });

  it('prints the dashboard URL and serves the page there', async () => {
    const printed = /Dashboard: (http:\/\/localhost:\d+\/)/.exec(output())?.[1];

    const response = await fetch(`${baseUrl}/`);

    expect(printed).toBe(`http://localhost:${server.port}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it("serves GitOps drift for the sample organisation, so the dashboard's drift table is filled", async () => {
    const response = await fetch(`${baseUrl}/status.json`);
    const statuses = (await response.json()) as Array<{ repo: string; sync_status: string }>;

    expect(response.status).toBe(200);
    expect(statuses.map((status) => status.sync_status).sort()).toEqual([
      'OUT_OF_SYNC',
      'OUT_OF_SYNC',
      'SYNCED',
      'SYNCED',
    ]);
    expect(statuses.every((status) => status.repo.startsWith('acme/'))).toBe(true);
  });

  it('forwards webhook deliveries kept by an earlier run to Loki as soon as it starts', async () => {
    expect(output()).toMatch(
      /Webhook deliveries Loki does not take wait in file:\/\/\S+; the webhooksReplay function forwards them every minute/,
    );
    expect(output()).toContain(
      'Webhook outbox: forwarded 1, failed 0, dead-lettered 0; 0 pending, 0 dead letters',
    );
    expect(await getDeliveryOutbox(getConfig()).pending()).toBe(0);
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
    process.kill(server.child.pid as number, 'SIGTERM');

    const code = await server.exited;

    expect(code).toBe(0);
    expect(await portAcceptsConnections(server.port)).toBe(false);
  });
});

describe('npm start on a port already taken', () => {
  it('says at once that the port is taken and how to choose another, and exits 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const startedAt = Date.now();

    const { output, exited } = spawnNpmStart(ROOT, { ...process.env, PORT: String(port), LOKI_URL: '' });
    const code = await exited;
    await new Promise<void>((resolve) => taken.close(() => resolve()));

    expect(code).toBe(1);
    expect(output()).toContain(`[npm start] Port ${port} is taken`);
    expect(output()).toContain('PORT=3100 npm start');
    expect(output()).not.toMatch(/No LOKI_URL set|serverless-offline|EADDRINUSE/);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
  });
});

describe('npm start with a LOKI_URL holding credentials', () => {
  it('prints the Loki it uses as scheme, host and port only: no user info, path or query', async () => {
    const secret = 'password-in-the-loki-url';
    const port = await freePort();
    const started = spawnNpmStart(ROOT, {
      ...process.env,
      PORT: String(port),
      LOKI_URL: `https://tenant:${secret}@loki.example.invalid:3100/loki?orgId=${secret}`,
      OFFLINE_LAMBDA_PORT: '',
    });
    const giveUpAt = Date.now() + 30_000;
    while (!started.output().includes('Starting the API') && Date.now() < giveUpAt) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    process.kill(-(started.child.pid as number), 'SIGTERM');
    await started.exited;

    expect(started.output()).toContain(
      '[npm start] Using Loki at https://loki.example.invalid:3100 (LOKI_URL)',
    );
    expect(started.output()).not.toMatch(new RegExp(`${secret}|tenant:|orgId`));
  });
});
