import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as DeploymentsHandler } from '../../functions/events-deployments';
import type { handler as IncidentsHandler } from '../../functions/events-incidents';
import { formatTime } from '../../lib/dora/time';
import { mergeIncident } from '../../lib/events/handlers';
import { useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { recordsOf, wholeSecondsNow } from '../helpers/records';

const MINUTE = 60_000;

describe('POST /events/incidents, read back through /data', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let postIncident: typeof IncidentsHandler;
  let postDeployment: typeof DeploymentsHandler;
  let data: typeof DataHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn(
      {},
      { GITHUB_ORG: 'acme', GITHUB_TOKEN: '', LOKI_MAX_RETRIES: '0', LOKI_MAX_QUERY_LENGTH: '30d' },
    ));
    ({ handler: postIncident } = await import('../../functions/events-incidents'));
    ({ handler: postDeployment } = await import('../../functions/events-deployments'));
    ({ handler: data } = await import('../../functions/data'));
  });
  afterAll(async () => restore());

  const report = (body: unknown) => invoke(postIncident, { method: 'POST', path: '/events/incidents', body });
  const pushes = () => loki.requests.filter((request) => request.path.endsWith('/push')).length;

  async function deploy(repository: string, createdAt: number) {
    const response = await invoke(postDeployment, {
      method: 'POST',
      path: '/events/deployments',
      body: {
        repository,
        sha: '1'.repeat(40),
        environment: 'production',
        status: 'success',
        created_at: formatTime(createdAt),
      },
    });
    expect(response.statusCode).toBe(201);
  }

  it('opens an incident (201) that fails the deployment before it, then resolves it (200) and sets fixed_at', async () => {
    const deployedAt = wholeSecondsNow() - 40 * MINUTE;
    const openedAt = deployedAt + 5 * MINUTE;
    const resolvedAt = openedAt + 20 * MINUTE;
    await deploy('orders', deployedAt);

    const opened = await report({
      repository: 'orders',
      id: 'PD-1',
      title: 'Checkout errors',
      created_at: formatTime(openedAt),
      url: 'https://acme.pagerduty.com/incidents/PD-1',
    });
    const whileOpen = await recordsOf(data, 'orders', deployedAt - MINUTE, deployedAt + MINUTE);
    const resolved = await report({ repository: 'orders', id: 'PD-1', resolved_at: formatTime(resolvedAt) });
    const afterResolve = await recordsOf(data, 'orders', deployedAt - MINUTE, deployedAt + MINUTE);

    expect(opened.statusCode).toBe(201);
    expect(opened.json).toEqual({
      status: 'created',
      incident: {
        repository: 'orders',
        id: 'PD-1',
        team: null,
        title: 'Checkout errors',
        created_at: formatTime(openedAt),
        resolved_at: null,
        url: 'https://acme.pagerduty.com/incidents/PD-1',
      },
    });
    expect(whileOpen.map((r) => [r.failed_at, r.fixed_at, r.issue_url])).toEqual([
      [formatTime(openedAt), null, 'https://acme.pagerduty.com/incidents/PD-1'],
    ]);
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json).toMatchObject({
      status: 'updated',
      incident: {
        title: 'Checkout errors',
        created_at: formatTime(openedAt),
        resolved_at: formatTime(resolvedAt),
      },
    });
    expect(afterResolve.map((r) => [r.failed_at, r.fixed_at])).toEqual([
      [formatTime(openedAt), formatTime(resolvedAt)],
    ]);
  });

  it('answers 409 with the recorded incident when a report repeats it, and writes nothing', async () => {
    const body = {
      repository: 'repeat',
      id: 'alert-7',
      created_at: formatTime(wholeSecondsNow() - 10 * MINUTE),
      resolved_at: formatTime(wholeSecondsNow() - 5 * MINUTE),
    };
    const first = await report(body);
    const pushesAfterFirst = pushes();

    const again = await report(body);
    const withoutTimes = await report({ repository: 'repeat', id: 'alert-7' });

    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(409);
    expect(again.headers['Content-Type']).toContain('application/problem+json');
    expect(again.json).toMatchObject({
      status: 409,
      incident: { id: 'alert-7', resolved_at: body.resolved_at, url: 'https://github.com/acme/repeat' },
    });
    expect(withoutTimes.statusCode).toBe(409);
    expect(pushes()).toBe(pushesAfterFirst);
  });

  it('counts one incident however often it is reported', async () => {
    const deployedAt = wholeSecondsNow() - 45 * MINUTE;
    await deploy('flaky', deployedAt);
    await report({ repository: 'flaky', id: 'x', created_at: formatTime(deployedAt + MINUTE) });
    await report({ repository: 'flaky', id: 'x', title: 'renamed' });
    await report({ repository: 'flaky', id: 'x', resolved_at: formatTime(deployedAt + 3 * MINUTE) });
    await report({ repository: 'flaky', id: 'x', resolved_at: formatTime(deployedAt + 4 * MINUTE) });

    const records = await recordsOf(data, 'flaky', deployedAt - MINUTE, deployedAt + MINUTE);

    expect(records.map((r) => [r.failed_at, r.fixed_at])).toEqual([
      [formatTime(deployedAt + MINUTE), formatTime(deployedAt + 4 * MINUTE)],
    ]);
  });

  it('updates the title or link (200) and keeps the other fields', async () => {
    const createdAt = formatTime(wholeSecondsNow() - 10 * MINUTE);
    await report({ repository: 'rename', id: '42', title: 'old', created_at: createdAt });

    const renamed = await report({ repository: 'rename', id: '42', title: 'new' });

    expect(renamed.statusCode).toBe(200);
    expect(renamed.json).toMatchObject({
      incident: { title: 'new', created_at: createdAt, resolved_at: null },
    });
  });

  it('keeps incidents of different repositories with the same id apart', async () => {
    await report({ repository: 'left', id: 'same', created_at: formatTime(wholeSecondsNow() - 5 * MINUTE) });

    const other = await report({
      repository: 'right',
      id: 'same',
      created_at: formatTime(wholeSecondsNow() - 5 * MINUTE),
    });

    expect(other.statusCode).toBe(201);
  });

  it.each([
    ['id is missing', { repository: 'r' }, 'id'],
    ['id is empty', { repository: 'r', id: '' }, 'id'],
    ['id is too long', { repository: 'r', id: 'x'.repeat(129) }, 'id'],
    ['id has a line break', { repository: 'r', id: 'a\nb' }, 'id'],
    ['resolved_at is not RFC 3339', { repository: 'r', id: 'v1', resolved_at: 'now' }, 'resolved_at'],
    [
      'resolved_at is before created_at',
      {
        repository: 'r',
        id: 'v2',
        created_at: formatTime(wholeSecondsNow() - MINUTE),
        resolved_at: formatTime(wholeSecondsNow() - 2 * MINUTE),
      },
      'resolved_at',
    ],
    ['url is not https', { repository: 'r', id: 'v3', url: 'ftp://x' }, 'url'],
    ['repository is missing', { id: 'v4' }, 'repository'],
  ])('answers 400 naming the field when %s', async (_case, body, field) => {
    const before = pushes();

    const response = await report(body);

    expect(response.statusCode).toBe(400);
    expect((response.json as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toContain(
      field,
    );
    expect(pushes()).toBe(before);
  });

  it('finds the earlier report through a hostile id without widening the query', async () => {
    const hostile = '"} or {service_namespace=~".+';
    await report({
      repository: 'hostile',
      id: 'plain',
      created_at: formatTime(wholeSecondsNow() - 5 * MINUTE),
    });

    const response = await report({ repository: 'hostile', id: hostile });

    expect(response.statusCode).toBe(201);
    expect(response.json).toMatchObject({ incident: { id: hostile } });
  });

  it('answers 502 naming Loki when the look-up of earlier reports fails', async () => {
    loki.failNext(503, 1, 'overloaded');

    const response = await report({ repository: 'down', id: '1' });

    expect(response.statusCode).toBe(502);
    expect((response.json as { detail: string }).detail).toBe('Loki answered the query with HTTP 503');
  });
});

describe('mergeIncident (the reader merge rules, applied before writing)', () => {
  const existing = {
    repository: 'r',
    owner: 'acme',
    team: null,
    id: '1',
    title: 'first',
    createdAt: 1000,
    closedAt: 5000,
    url: 'https://x/1',
  };

  it.each([
    ['keeps the earliest creation', { createdAt: 2000 }, { createdAt: 1000 }],
    ['moves creation earlier', { createdAt: 500 }, { createdAt: 500 }],
    ['keeps the latest resolution', { resolvedAt: 4000 }, { closedAt: 5000 }],
    ['moves resolution later', { resolvedAt: 9000 }, { closedAt: 9000 }],
    ['replaces the title', { title: 'second' }, { title: 'second' }],
  ])('%s', (_case, change, expected) => {
    const merged = mergeIncident(
      existing,
      {
        createdAt: undefined,
        resolvedAt: undefined,
        title: undefined,
        team: undefined,
        url: undefined,
        ...change,
      },
      99_000,
    );

    expect(merged).toMatchObject(expected);
  });

  it('opens a new incident now when the report has no times', () => {
    const merged = mergeIncident(
      undefined,
      { createdAt: undefined, resolvedAt: undefined, title: undefined, team: undefined, url: undefined },
      99_000,
    );

    expect(merged).toEqual({ createdAt: 99_000, closedAt: null, title: null, team: null });
  });
});
