import { BYTES_PER_CACHED_EVENT, DataService, type DeploymentsQuery } from '../../lib/data/service';
import type { DeploymentEvent } from '../../lib/dora/types';
import type { EventRequest, EventStore } from '../../lib/loki/types';

const DAY = 86_400_000;
const START = Date.UTC(2026, 9, 1);

function deployments(repository: string, count: number): DeploymentEvent[] {
  return Array.from({ length: count }, (_, index) => ({
    repository,
    owner: 'acme',
    team: null,
    environment: 'production',
    sha: `${repository}-${index}`,
    deploymentId: `${repository}-${index}`,
    state: 'success',
    createdAt: START + index * 1000,
    url: `https://github.com/acme/${repository}/deployments/production`,
  }));
}

/** An event store answering each repository with that many deployments, counting the requests. */
function countingStore(sizes: Record<string, number>): EventStore & { requests: number } {
  const store = {
    requests: 0,
    async fetchEvents(request: EventRequest) {
      store.requests += 1;
      const repository = request.filter.repositories?.[0] ?? '';
      return {
        deployments: deployments(repository, sizes[repository] ?? 0),
        incidents: [],
        merges: [],
        stats: { requests: 1, pages: 1, lines: 0, skippedLines: 0, lokiMs: 0 },
      };
    },
  };
  return store;
}

function serviceWithBudget(store: EventStore, maxMb: number): DataService {
  return new DataService({
    events: store,
    teams: undefined,
    config: {
      lookaroundMs: 0,
      productionEnvironments: ['production'],
      dataCache: { ttlMs: 60_000, maxEntries: 100, maxMb },
    },
  });
}

const query = (repository: string): DeploymentsQuery => ({
  start: START,
  end: START + DAY,
  repositories: [repository],
});

// Answers may fill half of the budget (the other half is the Loki reader's closed days): in 1 MB, this many events.
const EVENTS_PER_MB = Math.floor(500_000 / BYTES_PER_CACHED_EVENT);

describe('the data cache budget', () => {
  it('serves a repeated request whose answer fits the budget from memory', async () => {
    const store = countingStore({ small: Math.floor(EVENTS_PER_MB / 4) });
    const service = serviceWithBudget(store, 1);

    const first = await service.loadDeployments(query('small'));
    const second = await service.loadDeployments(query('small'));

    expect(first.cached).toBe(false);
    expect(second.cached).toBe(true);
    expect(second.deployments).toHaveLength(Math.floor(EVENTS_PER_MB / 4));
    expect(store.requests).toBe(1);
  });

  it("does not keep an answer bigger than the answers' half of the budget", async () => {
    const store = countingStore({ huge: EVENTS_PER_MB + 1 });
    const service = serviceWithBudget(store, 1);

    await service.loadDeployments(query('huge'));
    const again = await service.loadDeployments(query('huge'));

    expect(again.cached).toBe(false);
    expect(store.requests).toBe(2);
  });

  it('drops the least recently used answers when a new one needs their room', async () => {
    const third = Math.floor(EVENTS_PER_MB / 3);
    const store = countingStore({ a: third, b: third, c: third + 10 });
    const service = serviceWithBudget(store, 1);

    await service.loadDeployments(query('a'));
    await service.loadDeployments(query('b'));
    await service.loadDeployments(query('a'));
    await service.loadDeployments(query('c'));
    const a = await service.loadDeployments(query('a'));
    const b = await service.loadDeployments(query('b'));

    expect(a.cached).toBe(true);
    expect(b.cached).toBe(false);
  });
});
