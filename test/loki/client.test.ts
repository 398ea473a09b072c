import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { parseConfig } from '../../lib/config';
import type { TimeRange } from '../../lib/dora/types';
import { BadRequestError, LokiError } from '../../lib/errors';
import {
  createLokiEventStore,
  getEventStore,
  type LokiSettings,
  parseLokiUrl,
  splitRange,
} from '../../lib/loki/client';
import { DEADLINE_MESSAGE, RESUMABLE_DEADLINE_MESSAGE } from '../../lib/loki/deadline';
import type { EventFilter, EventRequest, LokiEntry } from '../../lib/loki/types';
import { rejectionOf } from '../helpers/errors';

const DAY_MS = 86_400_000;
const START = Date.parse('2024-09-01T00:00:00Z');
const EMPTY: TimeRange = { start: START, end: START };

function ns(ms: number, extraNs = 0): string {
  return String(BigInt(ms) * 1_000_000n + BigInt(extraNs));
}

let nextId = 1;

function deploymentEntry(
  atMs: number,
  options: { repository?: string; team?: string; environment?: string; extraNs?: number } = {},
): LokiEntry {
  const id = nextId++;
  const repository = options.repository ?? 'api';
  return {
    labels: {
      service_namespace: 'github',
      deployment_status: 'success',
      deployment_environment_name: options.environment ?? 'production',
      vcs_repository_name: repository,
      ...(options.team === undefined ? {} : { team_name: options.team }),
      deployment_id: String(id),
    },
    timestampNs: ns(atMs, options.extraNs ?? 0),
    line: JSON.stringify({
      deployment: { id, sha: `sha${id}`, created_at: new Date(atMs).toISOString() },
      deployment_status: { state: 'success' },
      repository: {
        name: repository,
        full_name: `acme/${repository}`,
        html_url: `https://github.com/acme/${repository}`,
      },
    }),
  };
}

function settings(server: LokiServer, overrides: Partial<LokiSettings> = {}): LokiSettings {
  return {
    url: server.url,
    serviceNamespace: 'github',
    incidentLabels: ['incident'],
    pageLimit: 7,
    maxQueryLengthMs: DAY_MS,
    concurrency: 3,
    timeoutMs: 2000,
    maxRetries: 2,
    retryBaseDelayMs: 1,
    ...overrides,
  };
}

function deploymentsOnly(range: TimeRange, filter: EventFilter = {}): EventRequest {
  return { filter, ranges: { deployments: range, incidents: EMPTY, merges: EMPTY } };
}

const queryRanges = (server: LokiServer) =>
  server.requests.filter((request) => request.path === '/loki/api/v1/query_range');

describe('the Loki event store against a Loki-speaking server', () => {
  let server: LokiServer;

  beforeEach(async () => {
    server = await startLokiServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it('pages until a short page and loses nothing when many lines share the timestamp at a page edge', async () => {
    const before = Array.from({ length: 5 }, (_, i) => deploymentEntry(START + i * 1000));
    const sameInstant = Array.from({ length: 12 }, () => deploymentEntry(START + 10_000));
    const after = Array.from({ length: 13 }, (_, i) => deploymentEntry(START + 20_000 + i * 1000));
    const entries = [...before, ...sameInstant, ...after];
    server.add(entries);
    const store = createLokiEventStore(settings(server));

    const result = await store.fetchEvents(deploymentsOnly({ start: START, end: START + 60_000 }));

    const ids = result.deployments.map((event) => event.deploymentId).sort();
    expect(ids).toEqual(entries.map((entry) => entry.labels.deployment_id).sort());
    expect(result.stats.pages).toBeGreaterThanOrEqual(5);
    expect(result.stats).toMatchObject({ lines: 30, skippedLines: 0 });
    for (const request of queryRanges(server)) {
      expect(request.params.get('direction')).toBe('forward');
      expect(Number(request.params.get('limit'))).toBeLessThanOrEqual(5000);
    }
  });

  it('splits a 3.5-day range into spans Loki accepts and covers exactly [start, end)', async () => {
    const range = { start: START, end: START + 3.5 * DAY_MS };
    const inside = [
      deploymentEntry(range.start),
      deploymentEntry(range.start + DAY_MS - 1),
      deploymentEntry(range.start + DAY_MS),
      deploymentEntry(range.start + 2 * DAY_MS + 5),
      deploymentEntry(range.start + 3 * DAY_MS),
      deploymentEntry(range.end - 1, { extraNs: 999_999 }),
    ];
    const outside = [deploymentEntry(range.start - 1), deploymentEntry(range.end)];
    server = await replaceServer(server, { maxQueryLengthMs: DAY_MS, entries: [...inside, ...outside] });
    const store = createLokiEventStore(settings(server));

    const result = await store.fetchEvents(deploymentsOnly(range));

    expect(result.deployments.map((event) => event.deploymentId).sort()).toEqual(
      inside.map((entry) => entry.labels.deployment_id).sort(),
    );
    const spans = queryRanges(server).map((request) => [
      request.params.get('start'),
      request.params.get('end'),
    ]);
    expect(spans).toEqual(
      expect.arrayContaining([
        [ns(range.start), ns(range.start + DAY_MS)],
        [ns(range.start + 3 * DAY_MS), ns(range.end)],
      ]),
    );
  });

  it('sends a query too long for a URL as a form POST and reads the same events', async () => {
    // Arrange: a filter naming 400 repositories makes a query of ~6 kB.
    const repositories = Array.from({ length: 400 }, (_, i) => `repository-${i}`);
    server.add([deploymentEntry(START, { repository: 'repository-399' }), deploymentEntry(START + 1000)]);
    const store = createLokiEventStore(settings(server));
    const range = { start: START, end: START + 60_000 };

    // Act
    const long = await store.fetchEvents(deploymentsOnly(range, { repositories }));
    const short = await store.fetchEvents(deploymentsOnly(range, { repositories: ['api'] }));

    // Assert
    expect(long.deployments.map((event) => event.repository)).toEqual(['repository-399']);
    expect(short.deployments.map((event) => event.repository)).toEqual(['api']);
    const [longRequest, shortRequest] = queryRanges(server);
    expect(longRequest?.method).toBe('POST');
    expect(longRequest?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    expect(longRequest?.params.get('query')).toContain('repository-399');
    expect(shortRequest?.method).toBe('GET');
  });

  it('sends Basic auth from user and token, and the tenant as X-Scope-OrgID', async () => {
    server = await replaceServer(server, { requireAuth: { user: 'loki-user', token: 's3cret' } });
    const store = createLokiEventStore(
      settings(server, { user: 'loki-user', token: 's3cret', tenant: 'team-a' }),
    );

    await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }));

    const [request] = queryRanges(server);
    expect(request?.headers.authorization).toBe(
      `Basic ${Buffer.from('loki-user:s3cret').toString('base64')}`,
    );
    expect(request?.headers['x-scope-orgid']).toBe('team-a');
  });

  it('sends a Bearer token when there is no user, to the base of a full query_range URL', async () => {
    server = await replaceServer(server, { requireAuth: { token: 'tok' } });
    const store = createLokiEventStore(
      settings(server, { url: `${server.url}/loki/api/v1/query_range`, token: 'tok' }),
    );

    await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }));

    expect(queryRanges(server)[0]?.headers.authorization).toBe('Bearer tok');
  });

  it('retries a 503 and then succeeds', async () => {
    server.add([deploymentEntry(START)]);
    server.failNext(503, 2);
    const store = createLokiEventStore(settings(server));

    const result = await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }));

    expect(result.deployments).toHaveLength(1);
    expect(result.stats.requests).toBe(3);
  });

  it('waits as long as Retry-After asks before retrying a 429', async () => {
    server.failNext(429, 1, 'too many outstanding requests', { 'Retry-After': '2' });
    const delays: number[] = [];
    const store = createLokiEventStore(settings(server), {
      sleep: async (ms) => {
        delays.push(ms);
      },
    });

    await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }));

    expect(delays).toEqual([2000]);
  });

  it('answers 502 naming Loki and its status once retries are exhausted', async () => {
    server.failNext(503, 3);
    const store = createLokiEventStore(settings(server));

    const error = await rejectionOf(
      store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 })),
      LokiError,
    );

    expect(error).toBeInstanceOf(LokiError);
    expect(error).toMatchObject({ statusCode: 502, upstreamStatus: 503 });
    expect(error.publicMessage).toBe('Loki answered HTTP 503 after 3 attempts');
  });

  it('never retries a 400 and shows the first line of Loki message', async () => {
    server.failNext(400, 1, 'parse error at line 1, col 5: syntax error\nmore detail');
    const store = createLokiEventStore(settings(server));

    const error = await rejectionOf(
      store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 })),
      LokiError,
    );

    expect(error).toMatchObject({ statusCode: 502, upstreamStatus: 400 });
    expect(error.publicMessage).toBe(
      'Loki rejected the query (HTTP 400): parse error at line 1, col 5: syntax error',
    );
    expect(queryRanges(server)).toHaveLength(1);
  });

  it('answers 504 when Loki does not answer within the timeout', async () => {
    server.delayNext(1000);
    const store = createLokiEventStore(settings(server, { timeoutMs: 100 }));

    const error = await rejectionOf(
      store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 })),
      LokiError,
    );

    expect(error).toBeInstanceOf(LokiError);
    expect(error.statusCode).toBe(504);
  });

  it('answers 504 without asking Loki once the deadline has passed', async () => {
    const store = createLokiEventStore(settings(server));

    const error = await rejectionOf(
      store.fetchEvents({
        ...deploymentsOnly({ start: START, end: START + 1000 }),
        deadline: Date.now() - 1,
      }),
      LokiError,
    );

    expect(error.statusCode).toBe(504);
    expect(queryRanges(server)).toHaveLength(0);
    // Without a day cache nothing read is kept: asking again starts over, so the 504 does not say it continues.
    expect(error.message).toBe(DEADLINE_MESSAGE);
  });

  it('answers 502 when Loki cannot be reached, without echoing credentials from the URL', async () => {
    const closed = await startLokiServer();
    const url = closed.url.replace('http://', 'http://admin:hunter22@');
    await closed.close();
    const store = createLokiEventStore(settings(server, { url, maxRetries: 1 }));

    const error = await rejectionOf(
      store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 })),
      LokiError,
    );

    expect(error).toMatchObject({
      statusCode: 502,
      publicMessage: expect.stringMatching(
        /^Loki could not be reached at 127\.0\.0\.1:\d+ after 2 attempts: /,
      ),
    });
    expect(`${error.message} ${error.publicMessage}`).not.toContain('hunter22');
  });

  it('rejects hostile repository names before asking Loki', async () => {
    const store = createLokiEventStore(settings(server));

    const act = store.fetchEvents(
      deploymentsOnly({ start: START, end: START + 1000 }, { repositories: ['.*'] }),
    );

    await expect(act).rejects.toBeInstanceOf(BadRequestError);
    expect(queryRanges(server)).toHaveLength(0);
  });

  it.each([['"} or {service_namespace=~".+'], ['.*'], ['core" or team_name!="'], ['core\\']])(
    'a hostile team name %j returns no other team events',
    async (team) => {
      server.add([deploymentEntry(START, { team: 'core' }), deploymentEntry(START + 1, { team: 'web' })]);
      const store = createLokiEventStore(settings(server));

      const result = await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }, { team }));

      expect(result.deployments).toEqual([]);
    },
  );

  it('filters by repositories and by team, counting the team repositories without a team label', async () => {
    server.add([
      deploymentEntry(START, { repository: 'api', team: 'core' }),
      deploymentEntry(START + 1, { repository: 'web.app' }),
      deploymentEntry(START + 2, { repository: 'webxapp' }),
      deploymentEntry(START + 3, { repository: 'tools', team: 'other' }),
    ]);
    const store = createLokiEventStore(settings(server));
    const range = { start: START, end: START + 1000 };

    const byRepositories = await store.fetchEvents(
      deploymentsOnly(range, { repositories: ['api', 'web.app'] }),
    );
    const byTeam = await store.fetchEvents(
      deploymentsOnly(range, { team: 'core', teamRepositories: ['web.app'] }),
    );

    expect(byRepositories.deployments.map((event) => event.repository).sort()).toEqual(['api', 'web.app']);
    expect(byTeam.deployments.map((event) => event.repository).sort()).toEqual(['api', 'web.app']);
  });

  it('reads each range chunk once for all three kinds, each kind only inside its own range', async () => {
    const repository = { name: 'api', full_name: 'acme/api', html_url: 'https://github.com/acme/api' };
    const mergeAt = (atMs: number): LokiEntry => ({
      labels: {
        service_namespace: 'github',
        event_name: 'change_closed',
        merged_at: 'x',
        vcs_repository_name: 'api',
      },
      timestampNs: ns(atMs),
      line: JSON.stringify({
        pull_request: { merge_commit_sha: `m${atMs}`, merged_at: new Date(atMs).toISOString(), number: 1 },
        repository,
      }),
    });
    const incidentAt = (atMs: number, label = 'incident'): LokiEntry => ({
      labels: { service_namespace: 'github', event_name: 'issue_closed', vcs_repository_name: 'api' },
      timestampNs: ns(atMs),
      line: JSON.stringify({
        issue: { number: atMs, created_at: new Date(atMs).toISOString(), labels: [{ name: label }] },
        repository,
      }),
    });
    const window = { start: START + DAY_MS, end: START + 2 * DAY_MS };
    server.add([
      mergeAt(START),
      mergeAt(window.start + 1),
      mergeAt(window.end + 1),
      incidentAt(START),
      incidentAt(window.start + 2),
      incidentAt(window.start + 3, 'bug'),
      incidentAt(window.end + 2),
      deploymentEntry(START + 5),
      deploymentEntry(window.end + 5),
    ]);
    const store = createLokiEventStore(settings(server, { maxQueryLengthMs: 3 * DAY_MS, pageLimit: 100 }));

    const result = await store.fetchEvents({
      filter: {},
      ranges: {
        deployments: { start: START, end: START + 3 * DAY_MS },
        incidents: { start: window.start, end: START + 3 * DAY_MS },
        merges: { start: START, end: window.end },
      },
    });

    expect(queryRanges(server)).toHaveLength(1);
    expect(result.merges.map((event) => event.mergedAt)).toEqual([START, window.start + 1]);
    expect(result.incidents.map((event) => event.createdAt)).toEqual([window.start + 2, window.end + 2]);
    expect(result.deployments).toHaveLength(2);
    expect(result.stats.skippedLines).toBe(0);
  });

  it('asks Loki only for the days it lacks when a window moved by a day is asked again', async () => {
    server.add(Array.from({ length: 8 }, (_, day) => deploymentEntry(START + day * DAY_MS + 3_600_000)));
    const store = createLokiEventStore(settings(server, { maxQueryLengthMs: 30 * DAY_MS, dayCacheMaxMb: 1 }));
    const fresh = createLokiEventStore(settings(server, { maxQueryLengthMs: 30 * DAY_MS }));
    const moved = deploymentsOnly({ start: START + DAY_MS, end: START + 6 * DAY_MS });
    await store.fetchEvents(deploymentsOnly({ start: START, end: START + 5 * DAY_MS }));
    const before = queryRanges(server).length;

    const again = await store.fetchEvents(moved);

    const asked = queryRanges(server).slice(before);
    expect(asked.map((request) => [request.params.get('start'), request.params.get('end')])).toEqual([
      [ns(START + 5 * DAY_MS), ns(START + 6 * DAY_MS)],
    ]);
    const ids = (events: { deploymentId: string }[]) => events.map((event) => event.deploymentId).sort();
    expect(ids(again.deployments)).toEqual(ids((await fresh.fetchEvents(moved)).deployments));
    expect(again.deployments).toHaveLength(5);
  });

  /**
   * Three days of one deployment each, read with `overrides`: the first Loki answer comes at once, the
   * second after the deadline (a 504); then the same request again. What the second one asked Loki for.
   */
  async function askAgainAfterDeadline(overrides: Partial<LokiSettings>) {
    server.add(Array.from({ length: 3 }, (_, day) => deploymentEntry(START + day * DAY_MS + 3_600_000)));
    const store = createLokiEventStore(settings(server, { concurrency: 1, dayCacheMaxMb: 1, ...overrides }));
    const request = deploymentsOnly({ start: START, end: START + 3 * DAY_MS });
    server.delayNext(0, 1);
    server.delayNext(3_000, 1);
    const error = await rejectionOf(
      store.fetchEvents({ ...request, deadline: Date.now() + 1_000 }),
      LokiError,
    );
    const before = queryRanges(server).length;
    const again = await store.fetchEvents(request);
    const starts = queryRanges(server)
      .slice(before)
      .map((asked) => asked.params.get('start'));
    return { error, again, starts };
  }

  it('keeps the days of the chunks it completed when the request ends in a 504, so asking again continues', async () => {
    const { error, again, starts } = await askAgainAfterDeadline({ maxQueryLengthMs: DAY_MS });

    expect(error.statusCode).toBe(504);
    expect(error.message).toBe(RESUMABLE_DEADLINE_MESSAGE);
    expect(starts).toEqual([ns(START + DAY_MS), ns(START + 2 * DAY_MS)]);
    expect(again.deployments).toHaveLength(3);
  });

  it('keeps the days before the last page it got when a chunk ends in a 504 part-way through its pages', async () => {
    // One 3-day chunk, two entries per page: the second page comes after the deadline.
    const { error, again, starts } = await askAgainAfterDeadline({
      maxQueryLengthMs: 3 * DAY_MS,
      pageLimit: 2,
    });

    // The first day came complete in the first page; the second day's entry may have more after it.
    expect(error.statusCode).toBe(504);
    expect(starts[0]).toBe(ns(START + DAY_MS));
    expect(again.deployments).toHaveLength(3);
  });

  it('asks Loki for every day again with noCache, and never keeps a day that is not over', async () => {
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    server.add([deploymentEntry(START + 3_600_000), deploymentEntry(today)]);
    const store = createLokiEventStore(settings(server, { maxQueryLengthMs: 30 * DAY_MS, dayCacheMaxMb: 1 }));
    const past = deploymentsOnly({ start: START, end: START + DAY_MS });
    const current = deploymentsOnly({ start: today, end: today + DAY_MS });
    await store.fetchEvents(past);
    await store.fetchEvents(current);
    const before = queryRanges(server).length;

    await store.fetchEvents({ ...past, noCache: true });
    server.add([deploymentEntry(today + 1)]);
    const later = await store.fetchEvents(current);

    expect(queryRanges(server).length - before).toBe(2);
    expect(later.deployments).toHaveLength(2);
  });

  it('keeps only production deployments when production environments are set', async () => {
    server.add([
      deploymentEntry(START, { environment: 'Production' }),
      deploymentEntry(START + 1, { environment: 'staging' }),
    ]);
    const store = createLokiEventStore(settings(server, { productionEnvironments: ['production', 'prod'] }));

    const result = await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }));

    expect(result.deployments.map((event) => event.environment)).toEqual(['Production']);
  });

  it('counts lines that are not events without failing the request', async () => {
    server.add([
      deploymentEntry(START),
      {
        labels: { service_namespace: 'github', deployment_status: 'success' },
        timestampNs: ns(START + 1),
        line: 'oops',
      },
    ]);
    const store = createLokiEventStore(settings(server));

    const result = await store.fetchEvents(deploymentsOnly({ start: START, end: START + 1000 }));

    expect(result.deployments).toHaveLength(1);
    expect(result.stats).toMatchObject({ lines: 2, skippedLines: 1 });
  });
});

describe('adapting the requests in flight to Loki', () => {
  let server: LokiServer;

  beforeEach(async () => {
    server = await startLokiServer();
  });

  afterEach(async () => {
    await server.close();
  });

  /**
   * Forwards to the Loki imitation after `delayMs`, answering 429 "too many outstanding requests" (what
   * Loki's query queue answers when full) while more than `capacity` requests are in flight, or closing
   * the connection unanswered (what the real Loki 3.7.6 did to queued requests at its write timeout).
   */
  async function startQueueingLoki(
    capacity: number,
    delayMs: number,
    overflow: 'refuse' | 'close' = 'refuse',
  ) {
    let inFlight = 0;
    const stand = { refused: 0, mostAnswered: 0 };
    const proxy = createServer(async (request, response) => {
      inFlight += 1;
      try {
        if (inFlight > capacity) {
          stand.refused += 1;
          if (overflow === 'close') request.socket.destroy();
          else response.writeHead(429).end('too many outstanding requests');
          return;
        }
        stand.mostAnswered = Math.max(stand.mostAnswered, inFlight);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        const answer = await fetch(`${server.url}${request.url}`);
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
      } finally {
        inFlight -= 1;
      }
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const close = () => new Promise<void>((resolve) => proxy.close(() => resolve()));
    return { url, stand, close };
  }

  const twentyDays = { start: START, end: START + 20 * DAY_MS };
  const deploymentIds = (events: Array<{ deploymentId: string }>) =>
    events.map((event) => event.deploymentId).sort();

  it('halves the requests in flight when Loki answers 429, grows back after good answers, and returns the same records', async () => {
    server.add(Array.from({ length: 40 }, (_, i) => deploymentEntry(START + i * (DAY_MS / 2))));
    const expected = await createLokiEventStore(settings(server)).fetchEvents(deploymentsOnly(twentyDays));
    const loki = await startQueueingLoki(2, 20);
    const limits: number[] = [];
    const store = createLokiEventStore(
      { ...settings(server, { concurrency: 8, maxRetries: 6 }), url: loki.url },
      { onConcurrency: (concurrency) => limits.push(concurrency) },
    );

    const result = await store.fetchEvents(deploymentsOnly(twentyDays)).finally(loki.close);

    expect(loki.stand.refused).toBeGreaterThan(0);
    const lowest = Math.min(...limits);
    expect(lowest).toBeLessThanOrEqual(2);
    expect(Math.max(...limits.slice(limits.indexOf(lowest)))).toBeGreaterThan(lowest);
    expect(deploymentIds(result.deployments)).toEqual(deploymentIds(expected.deployments));
    expect(result.deployments).toHaveLength(40);
  });

  it('halves the requests in flight when Loki closes connections unanswered, and returns the same records', async () => {
    server.add(Array.from({ length: 40 }, (_, i) => deploymentEntry(START + i * (DAY_MS / 2))));
    const loki = await startQueueingLoki(2, 20, 'close');
    const limits: number[] = [];
    const store = createLokiEventStore(
      { ...settings(server, { concurrency: 8, maxRetries: 6 }), url: loki.url },
      { onConcurrency: (concurrency) => limits.push(concurrency) },
    );

    const result = await store.fetchEvents(deploymentsOnly(twentyDays)).finally(loki.close);

    expect(loki.stand.refused).toBeGreaterThan(0);
    expect(Math.min(...limits)).toBeLessThanOrEqual(2);
    expect(result.deployments).toHaveLength(40);
  });

  it('halves the requests in flight down to one while Loki answers slowly, and returns the same records', async () => {
    server.add(Array.from({ length: 20 }, (_, i) => deploymentEntry(START + i * DAY_MS)));
    const expected = await createLokiEventStore(settings(server)).fetchEvents(deploymentsOnly(twentyDays));
    server.delayNext(60, 20);
    const limits: number[] = [];
    const store = createLokiEventStore(settings(server, { concurrency: 8, slowAnswerMs: 30 }), {
      onConcurrency: (concurrency) => limits.push(concurrency),
    });

    const result = await store.fetchEvents(deploymentsOnly(twentyDays));

    expect(limits.slice(0, 3)).toEqual([4, 2, 1]);
    expect(deploymentIds(result.deployments)).toEqual(deploymentIds(expected.deployments));
  });

  it('keeps the requests in flight at their maximum while Loki answers quickly', async () => {
    server.add(Array.from({ length: 20 }, (_, i) => deploymentEntry(START + i * DAY_MS)));
    const limits: number[] = [];
    const store = createLokiEventStore(settings(server, { concurrency: 8 }), {
      onConcurrency: (concurrency) => limits.push(concurrency),
    });

    await store.fetchEvents(deploymentsOnly(twentyDays));

    expect(limits).toEqual([]);
  });
});

describe('reading Loki answers as they stream in', () => {
  it('decodes UTF-8 text whose characters are split between network chunks', async () => {
    const title = 'Réparer le déploiement 🚀 ünïcode';
    const line = JSON.stringify({
      pull_request: { merge_commit_sha: 'abc123', merged_at: '2024-09-01T00:00:01Z', title },
      repository: { name: 'api', full_name: 'acme/api', html_url: 'https://github.com/acme/api' },
    });
    const body = Buffer.from(
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'streams',
          result: [{ stream: { vcs_repository_name: 'api' }, values: [[ns(START + 1000), line]] }],
        },
      }),
    );
    // An ASCII first chunk, then a cut inside the two bytes of "é", then a cut inside the four of "🚀".
    const firstAccent = body.indexOf(Buffer.from('é'));
    const rocket = body.indexOf(Buffer.from('🚀'));
    const cuts = [0, firstAccent - 5, firstAccent + 1, rocket + 2, body.length];
    const server = createServer(async (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 1; i < cuts.length; i += 1) {
        response.write(body.subarray(cuts[i - 1], cuts[i]));
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const store = createLokiEventStore({
        url: `http://127.0.0.1:${port}`,
        serviceNamespace: 'github',
        incidentLabels: ['incident'],
        pageLimit: 100,
        maxQueryLengthMs: DAY_MS,
        concurrency: 1,
        timeoutMs: 2000,
        maxRetries: 0,
      });

      const result = await store.fetchEvents({
        filter: {},
        ranges: { deployments: EMPTY, incidents: EMPTY, merges: { start: START, end: START + 60_000 } },
      });

      expect(result.merges.map((merge) => merge.title)).toEqual([title]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('splitRange', () => {
  it('covers a range with a fraction of a day exactly', () => {
    expect(splitRange({ start: 0, end: 2.5 * DAY_MS }, DAY_MS)).toEqual([
      { start: 0, end: DAY_MS },
      { start: DAY_MS, end: 2 * DAY_MS },
      { start: 2 * DAY_MS, end: 2.5 * DAY_MS },
    ]);
  });

  it('refuses a query length that would never advance', () => {
    expect(() => splitRange({ start: 0, end: DAY_MS }, 0.5)).toThrow(RangeError);
    expect(() => splitRange({ start: 0, end: DAY_MS }, Number.NaN)).toThrow(RangeError);
  });

  it('keeps a range whole when the query length is 0 (no limit, as Loki reads max_query_length: 0)', () => {
    expect(splitRange({ start: 0, end: 400 * DAY_MS }, 0)).toEqual([{ start: 0, end: 400 * DAY_MS }]);
  });

  it('gives nothing for an empty range', () => {
    expect(splitRange({ start: 5, end: 5 }, DAY_MS)).toEqual([]);
  });
});

describe('parseLokiUrl', () => {
  it.each([
    ['https://logs.example.com', 'https://logs.example.com'],
    ['https://logs.example.com/', 'https://logs.example.com'],
    ['https://logs.example.com/loki/api/v1/query_range', 'https://logs.example.com'],
    ['https://example.com/proxy/loki/api/v1/query_range?x=1', 'https://example.com/proxy'],
  ])('reads %s as the base %s', (raw, base) => {
    expect(parseLokiUrl(raw).baseUrl).toBe(base);
  });

  it('takes credentials out of the URL', () => {
    expect(parseLokiUrl('https://me:p%40ss@logs.example.com')).toEqual({
      baseUrl: 'https://logs.example.com',
      user: 'me',
      password: 'p@ss',
    });
  });
});

describe('getEventStore', () => {
  const config = parseConfig({ LOKI_URL: 'http://127.0.0.1:9/loki/api/v1/query_range', LOKI_USER: 'u' });

  it('reuses the store while the secrets stay the same and builds a new one for a rotated token', () => {
    const first = getEventStore(config, { lokiToken: 'one' });
    const again = getEventStore(config, { lokiToken: 'one' });
    const rotated = getEventStore(config, { lokiToken: 'two' });
    expect(again).toBe(first);
    expect(rotated).not.toBe(first);
  });
});

async function replaceServer(
  current: LokiServer,
  options: Parameters<typeof startLokiServer>[0],
): Promise<LokiServer> {
  await current.close();
  return startLokiServer(options);
}
