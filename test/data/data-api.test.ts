import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import { buildDeployments, toRecords } from '../../lib/dora/records';
import type { DeploymentRecord } from '../../lib/dora/types';
import { eventsFromEntries } from '../../lib/loki/parse';
import type { LokiEntry } from '../../lib/loki/types';
import { generateSample } from '../../lib/sample/generator';
import { useLokiStandIn } from '../helpers/environment';
import { expectBadRequestNaming, invoke } from '../helpers/lambda';

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 7, end: END, days: 60, repositories: 6, teams: 3 });

function kindOf(entry: LokiEntry): 'deployments' | 'incidents' | 'merges' | undefined {
  if (entry.labels.deployment_status !== undefined) return 'deployments';
  if (entry.labels.event_name?.startsWith('issue_')) return 'incidents';
  if (entry.labels.event_name === 'change_closed') return 'merges';
  return undefined;
}

/** What /data must answer, computed straight from the generated entries without Loki in between. */
function expectedRecords(start: number, end: number): DeploymentRecord[] {
  const byKind = (kind: 'deployments' | 'incidents' | 'merges') =>
    eventsFromEntries(
      kind,
      sample.entries.filter((entry) => kindOf(entry) === kind),
    );
  const events = {
    deployments: byKind('deployments').deployments,
    incidents: byKind('incidents').incidents,
    merges: byKind('merges').merges,
  };
  return toRecords(
    buildDeployments(events, { window: { start, end }, productionEnvironments: ['production', 'prod'] }),
  );
}

describe('POST /data against a Loki stand-in serving generated events', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    // A tiny page size and a 7-day query limit make the client page and split a lot.
    ({ loki, restore } = await useLokiStandIn(
      { entries: sample.entries, maxQueryLengthMs: 7 * DAY + 3_600_000 },
      {
        GITHUB_ORG: '',
        GITHUB_TOKEN: '',
        LOKI_PAGE_LIMIT: '25',
        LOKI_MAX_QUERY_LENGTH: '7d',
        LOKI_MAX_RETRIES: '1',
        LOKI_TIMEOUT_MS: '1500',
      },
    ));
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => restore());

  const post = (body: unknown, query: Record<string, string> = { no_cache: 'true' }) =>
    invoke(handler, { method: 'POST', path: '/data', body, query });

  it('loses no line while paging and splitting: the records equal those built from every event', async () => {
    const start = END - 45 * DAY + 5 * 3_600_000;
    const end = END - 2 * DAY;

    const response = await post({ start: new Date(start).toISOString(), end: new Date(end).toISOString() });

    expect(response.statusCode).toBe(200);
    const { records } = response.json as { records: DeploymentRecord[] };
    const expected = expectedRecords(start, end).map((record) => ({
      ...record,
      // Events lacking team_name get a team only from GitHub, which this test leaves unconfigured.
      team: record.team,
    }));
    expect(records.length).toBeGreaterThan(50);
    expect(records).toEqual(expected);
  });

  it('answers the dashboards default window (356 days ending yesterday)', async () => {
    const response = await post({
      start: new Date(END - 356 * DAY).toISOString(),
      end: new Date(END).toISOString(),
    });

    expect(response.statusCode).toBe(200);
    expect((response.json as { records: unknown[] }).records.length).toBeGreaterThan(0);
  });

  it('serves a repeated request from the cache and refreshes it with no_cache=true', async () => {
    const body = { start: new Date(END - 10 * DAY).toISOString(), end: new Date(END).toISOString() };

    const first = await post(body, {});
    const requestsAfterFirst = loki.requests.length;
    const second = await post(body, {});
    const requestsAfterSecond = loki.requests.length;
    const refreshed = await post(body, { no_cache: 'true' });

    expect(first.headers['X-Cache']).toBe('miss');
    expect(second.headers['X-Cache']).toBe('hit');
    expect(second.json).toEqual(first.json);
    expect(requestsAfterSecond).toBe(requestsAfterFirst);
    expect(refreshed.headers['X-Cache']).toBe('miss');
    expect(loki.requests.length).toBeGreaterThan(requestsAfterSecond);
  });

  it.each([
    ['start is missing', { end: '2026-11-01T00:00:00Z' }, 'start'],
    ['end is before start', { start: '2026-11-02T00:00:00Z', end: '2026-11-01T00:00:00Z' }, 'end'],
    ['start is not RFC 3339', { start: '2026-11-01', end: '2026-11-02T00:00:00Z' }, 'start'],
    ['the span exceeds 1100 days', { start: '2023-01-01T00:00:00Z', end: '2026-01-06T00:00:00Z' }, 'end'],
    [
      'repositories is not an array',
      { start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z', repositories: 'a' },
      'repositories',
    ],
    [
      'a repository name could break out of LogQL',
      { start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z', repositories: ['a"} or {x=~".*'] },
      'repositories.0',
    ],
    ['team is not a string', { start: '2026-11-01T00:00:00Z', end: '2026-11-02T00:00:00Z', team: 7 }, 'team'],
  ])('returns 400 naming the field when %s', async (_case, body, field) => {
    const requestsBefore = loki.requests.length;

    const response = await post(body);

    expectBadRequestNaming(response, field);
    expect(loki.requests.length).toBe(requestsBefore);
  });

  it('returns 400 for a body that is not JSON', async () => {
    const response = await post('{"start": ');

    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({ status: 400, detail: expect.stringContaining('JSON') });
  });

  it('accepts null as missing for repositories and team', async () => {
    const response = await post({
      start: new Date(END - 3 * DAY).toISOString(),
      end: new Date(END).toISOString(),
      repositories: null,
      team: null,
      somethingElse: true,
    });

    expect(response.statusCode).toBe(200);
  });

  it('waits for a slow Loki answer while the deadline allows, longer than LOKI_TIMEOUT_MS', async () => {
    loki.delayNext(2_000, 1);

    const response = await post({
      start: new Date(END - 3 * DAY).toISOString(),
      end: new Date(END).toISOString(),
    });

    expect(response.statusCode).toBe(200);
  });

  it('returns 502 naming Loki and its status when Loki keeps failing', async () => {
    loki.failNext(503, 20, 'too busy');

    const response = await post({
      start: new Date(END - 3 * DAY).toISOString(),
      end: new Date(END).toISOString(),
    });

    expect(response.statusCode).toBe(502);
    expect(response.json).toMatchObject({ status: 502, detail: expect.stringMatching(/Loki.*503/) });
    loki.failNext(200, 0);
  });

  it('returns 504 naming Loki and what to ask for instead when Loki cannot answer before the deadline', async () => {
    loki.delayNext(4_000, 20);

    // 3.5 s left: the function keeps 2 s for its own answer, so Loki has 1.5 s.
    const response = await invoke(
      handler,
      {
        method: 'POST',
        path: '/data',
        body: { start: new Date(END - 3 * DAY).toISOString(), end: new Date(END).toISOString() },
        query: { no_cache: 'true' },
      },
      3_500,
    );

    expect(response.statusCode).toBe(504);
    expect(response.json).toMatchObject({
      status: 504,
      detail: expect.stringMatching(/Loki.*shorter window or fewer repositories/),
    });
    loki.delayNext(0, 0);
  });
});
