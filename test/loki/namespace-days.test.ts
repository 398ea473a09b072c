import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import type { Team } from '../../lib/dora/types';
import { createLokiEventStore, type LokiSettings } from '../../lib/loki/client';
import { rollupsHeaderValue, storeSelection } from '../../lib/loki/closed-days';
import { buildEventsQuery } from '../../lib/loki/logql';
import type { EventFilter, EventRequest, EventStore } from '../../lib/loki/types';
import { KINDS } from '../../lib/plan/read-plan';
import { withBacklogGuard } from '../../lib/rollups/backlog';
import { RollupStore } from '../../lib/rollups/store';
import { generateSample } from '../../lib/sample/generator';
import { DirectoryObjectStore } from '../../lib/store/object-store';

/**
 * A filtered request (a team, repositories, services) answers its closed days from the namespace's days
 * in the store (on disk here), narrowed in memory, with the events the store-off reader gives it, and
 * without asking Loki for them.
 */

const DAY_MS = 86_400_000;
const END = Math.floor(Date.now() / DAY_MS) * DAY_MS - 20 * DAY_MS;
const DAYS = 12;
const WINDOW = { start: END - DAYS * DAY_MS, end: END };

function request(filter: EventFilter): EventRequest {
  return { filter, ranges: { deployments: WINDOW, incidents: WINDOW, merges: WINDOW } };
}

function teamFilter(team: Team): EventFilter {
  return { team: team.name, teamAliases: [team.slug], teamRepositories: team.repositories };
}

/** The events of an answer, each kind in an order that does not depend on how Loki ordered a tie. */
function sorted(batch: Awaited<ReturnType<EventStore['fetchEvents']>>) {
  const order = (events: unknown[]) => events.map((event) => JSON.stringify(event)).sort();
  return {
    deployments: order(batch.deployments),
    incidents: order(batch.incidents),
    merges: order(batch.merges),
  };
}

describe('closed days of a filtered request from the namespace’s days', () => {
  const sample = generateSample({ seed: 7, end: END, days: DAYS + 2, repositories: 6, teams: 3 });
  let loki: LokiServer;
  let dir: string;
  let rollups: RollupStore;

  const settings = (overrides: Partial<LokiSettings> = {}): LokiSettings => ({
    url: loki.url,
    serviceNamespace: 'github',
    incidentLabels: ['incident'],
    pageLimit: 1000,
    maxQueryLengthMs: 30 * DAY_MS,
    concurrency: 2,
    timeoutMs: 5000,
    maxRetries: 0,
    ...overrides,
  });
  /** A reader as a new process has it: nothing in memory. */
  const reader = (overrides: Partial<LokiSettings> = {}) =>
    createLokiEventStore(settings(overrides), { rollups });
  const lokiCalls = () => loki.requests.filter((call) => call.path === '/loki/api/v1/query_range').length;
  const namespaceKey = () => storeSelection(buildEventsQuery(KINDS, {}, settings()), settings());

  beforeEach(async () => {
    loki = await startLokiServer({ entries: sample.entries });
    dir = mkdtempSync(path.join(tmpdir(), 'namespace-days-'));
    rollups = new RollupStore(new DirectoryObjectStore(dir));
  });
  afterEach(async () => {
    await loki.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const [first, second] = sample.teams as [Team, Team, ...Team[]];
  const filters: Array<[string, EventFilter]> = [
    ['a team by its name, with its slug and repositories', teamFilter(first)],
    ['a team by its slug', { ...teamFilter(second), team: second.slug, teamAliases: [second.name] }],
    ['one repository', { repositories: [first.repositories[0] ?? ''] }],
    [
      'two repositories',
      { repositories: [...first.repositories.slice(0, 1), ...second.repositories.slice(0, 1)] },
    ],
    ['a service', { services: [second.repositories[0] ?? ''] }],
    ['a team and a service', { ...teamFilter(first), services: [first.repositories[0] ?? ''] }],
  ];

  it.each(filters)(
    'answers %s from the organisation’s days alone, as without a store',
    async (_name, filter) => {
      await reader({ dayCacheMaxMb: 0 }).fetchEvents(request({}));
      const asked = lokiCalls();

      const narrowed = await reader({ dayCacheMaxMb: 0 }).fetchEvents(request(filter));

      const raw = await createLokiEventStore(settings({ dayCacheMaxMb: 0 })).fetchEvents(request(filter));
      expect(sorted(narrowed)).toEqual(sorted(raw));
      expect(raw.deployments.length).toBeGreaterThan(0);
      expect(rollupsHeaderValue(narrowed.stats.days)).toBe(
        `memory=0 store=${DAYS} loki=0 open=0 namespace=${DAYS}`,
      );
      expect(lokiCalls()).toBe(asked + 1); // the store-off reader's
    },
  );

  it('narrows the organisation’s days another request of the container left in memory', async () => {
    const events = reader({ dayCacheMaxMb: 50 });
    await events.fetchEvents(request({}));
    const asked = lokiCalls();

    const team = await events.fetchEvents(request(teamFilter(first)));

    expect(rollupsHeaderValue(team.stats.days)).toBe(
      `memory=${DAYS} store=0 loki=0 open=0 namespace=${DAYS}`,
    );
    expect(lokiCalls()).toBe(asked);
    expect(team.deployments.every((event) => first.repositories.includes(event.repository))).toBe(true);
  });

  it('reads the days the organisation lacks from Loki and keeps them under the request’s own selection', async () => {
    await reader({ dayCacheMaxMb: 0 }).fetchEvents({
      filter: {},
      ranges: {
        deployments: { start: WINDOW.start, end: WINDOW.start + 4 * DAY_MS },
        incidents: { start: WINDOW.start, end: WINDOW.start + 4 * DAY_MS },
        merges: { start: WINDOW.start, end: WINDOW.start + 4 * DAY_MS },
      },
    });

    const cold = await reader({ dayCacheMaxMb: 0 }).fetchEvents(request(teamFilter(first)));
    const warm = await reader({ dayCacheMaxMb: 0 }).fetchEvents(request(teamFilter(first)));

    expect(rollupsHeaderValue(cold.stats.days)).toBe('memory=0 store=4 loki=8 open=0 namespace=4 stored=8');
    expect(rollupsHeaderValue(warm.stats.days)).toBe('memory=0 store=12 loki=0 open=0 namespace=4');
    expect(sorted(warm)).toEqual(sorted(cold));
    expect(await rollups.days(namespaceKey())).toHaveLength(4);
  });

  it('keeps the days a slow store answered in time and reads only the others from Loki', async () => {
    await reader({ dayCacheMaxMb: 0 }).fetchEvents(request({}));
    const objects = rollups.objects;
    let gets = 0;
    // The first few days answer at once, the others after the request's store budget.
    const slow = new RollupStore({
      ...objects,
      description: objects.description,
      list: (prefix: string) => objects.list(prefix),
      put: (key: string, bytes: Buffer) => objects.put(key, bytes),
      get: async (key: string) => {
        gets += 1;
        if (gets > 3) await new Promise((resolve) => setTimeout(resolve, 1_500));
        return objects.get(key);
      },
    });
    const events = createLokiEventStore(settings({ dayCacheMaxMb: 0, concurrency: 1 }), { rollups: slow });

    const team = await events.fetchEvents({ ...request(teamFilter(first)), deadline: Date.now() + 1_500 });

    const raw = await createLokiEventStore(settings({ dayCacheMaxMb: 0 })).fetchEvents(
      request(teamFilter(first)),
    );
    expect(sorted(team)).toEqual(sorted(raw));
    expect(rollupsHeaderValue(team.stats.days)).toBe(
      `memory=0 store=3 loki=${DAYS - 3} open=0 namespace=3 fallback`,
    );
  });

  it('counts the organisation’s stored days as present for a filtered request that must not wait for a fill', async () => {
    await reader({ dayCacheMaxMb: 0 }).fetchEvents(request({}));
    const started: unknown[] = [];
    const guarded = withBacklogGuard(reader({ dayCacheMaxMb: 0 }), {
      rollups,
      background: { start: async (fill) => void started.push(fill) },
      selectionKey: (filter) => storeSelection(buildEventsQuery(KINDS, filter, settings()), settings()),
      namespaceKey: namespaceKey(),
      closedAfterMs: 2 * 3_600_000,
      // A Loki so slow that no missing day would fit the deadline.
      initialMsPerDay: () => 1_000_000,
    });

    const team = await guarded.fetchEvents({ ...request(teamFilter(first)), deadline: Date.now() + 20_000 });

    expect(started).toEqual([]);
    expect(team.stats.days?.loki).toBe(0);
  });
});
