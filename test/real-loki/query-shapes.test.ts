import { startLokiServer } from '../../dev/loki-server';
import { loadIntoLoki, uniqueServiceNamespace } from '../../dev/real-loki';
import { getConfig } from '../../lib/config';
import type { EventBatch, TimeRange } from '../../lib/dora/types';
import { createLokiEventStore, lokiSettingsFrom } from '../../lib/loki/client';
import type { EventFilter, LokiEntry } from '../../lib/loki/types';
import { setEnv } from '../helpers/environment';
import { LOKI_TIMEOUT_MS } from './backends';
import { DAY, ORG_END, testOrganisation } from './organisation';
import { describeWithRealLoki } from './real-loki';

/**
 * Whatever LogQL the client builds for a filter and the settings, the real Loki must accept it: a 400
 * from Loki fails the fetch. These go through the event store (not the query builder), so they hold
 * however the client chooses to ask; each filter and setting below reaches another branch of
 * lib/loki/logql.ts today. Team names that would break a string literal or widen a regular expression
 * are stored as labels and must come back exactly, on the real Loki as on the imitation.
 */

const HOSTILE_TEAMS = [
  'Ops "Blue" Team',
  'back\\slash\\',
  '(a|b).*+?[x]{2}^$',
  'line\nbreak\ttab',
  'Équipe 北京 🚀',
  '`tick` {brace} | pipe',
];

const FILTERS: Array<[string, EventFilter]> = [
  ['no filter', {}],
  ['one repository', { repositories: ['payments-api'] }],
  [
    'repositories with dots, dashes and underscores',
    { repositories: ['auth-gateway', 'a.b_c-d', '.github'] },
  ],
  ['a team', { team: 'Payments' }],
  [
    'a team, its slug and its repositories',
    { team: 'Platform Core', teamAliases: ['platform-core'], teamRepositories: ['checkout-service', 'x.y'] },
  ],
  ['a team and repositories', { team: 'tag-o11y', repositories: ['payments-api', 'auth-gateway'] }],
  ['services', { services: ['payments-api', 'auth-gateway'] }],
  [
    'a service, repositories and a team',
    { services: ['auth-gateway'], repositories: ['auth-gateway', 'x.y'], team: 'tag-o11y' },
  ],
  ...HOSTILE_TEAMS.map((team): [string, EventFilter] => [
    `the team ${JSON.stringify(team)}`,
    { team, teamAliases: [team.toUpperCase()], teamRepositories: ['auth-gateway'] },
  ]),
];

const SETTINGS: Array<[string, Record<string, string>]> = [
  ['repositories chosen by structured metadata, not the index label', { LOKI_REPOSITORY_LABEL: 'none' }],
  ['production names the query cannot filter on', { PRODUCTION_ENVIRONMENT_NAMES: 'production,produção' }],
  ['several plain incident labels', { INCIDENT_LABELS: 'incident,outage,sev-1' }],
  ['an incident label the line filter cannot carry', { INCIDENT_LABELS: 'incident,sev<1>' }],
];

const WINDOW: TimeRange = { start: ORG_END - 10 * DAY, end: ORG_END };

function sortedBatch(batch: EventBatch): Record<keyof EventBatch, string[]> {
  const sorted = (events: readonly unknown[]) => events.map((event) => JSON.stringify(event)).sort();
  return {
    deployments: sorted(batch.deployments),
    incidents: sorted(batch.incidents),
    merges: sorted(batch.merges),
  };
}

describeWithRealLoki('every query the client sends is accepted by the real Loki', (run) => {
  let restore: () => void = () => undefined;
  afterEach(() => restore());

  async function fetchFrom(
    url: string,
    serviceNamespace: string,
    filter: EventFilter,
    env: Record<string, string>,
  ) {
    restore = setEnv({
      LOKI_URL: url,
      SERVICE_NAME: serviceNamespace,
      LOKI_TIMEOUT_MS: String(LOKI_TIMEOUT_MS),
      ...env,
    });
    // A store of its own: the memoised one (getEventStore) is per connection and would keep the first settings.
    const store = createLokiEventStore(lokiSettingsFrom(getConfig(), { lokiToken: undefined }));
    const batch = await store.fetchEvents({
      filter,
      ranges: { deployments: WINDOW, incidents: WINDOW, merges: WINDOW },
    });
    restore();
    return batch;
  }

  it.each(FILTERS)('fetches events for %s', async (_filter, filter) => {
    const { url, serviceNamespace } = run();

    const batch = await fetchFrom(url, serviceNamespace, filter, {});

    expect(batch.stats.requests).toBeGreaterThan(0);
  });

  describe.each(SETTINGS)('with %s', (_settings, env) => {
    it.each(FILTERS.slice(0, 5))('fetches events for %s', async (_filter, filter) => {
      const { url, serviceNamespace } = run();

      const batch = await fetchFrom(url, serviceNamespace, filter, env);

      expect(batch.stats.requests).toBeGreaterThan(0);
    });
  });

  it('finds the same events for repositories by index label and by structured metadata', async () => {
    const { url, serviceNamespace } = run();
    const filter = { repositories: ['auth-gateway', 'payments-api'] };

    const byIndexLabel = await fetchFrom(url, serviceNamespace, filter, {});
    const byMetadata = await fetchFrom(url, serviceNamespace, filter, { LOKI_REPOSITORY_LABEL: 'none' });

    expect(byIndexLabel.merges.length).toBeGreaterThan(1000);
    expect(sortedBatch(byMetadata)).toEqual(sortedBatch(byIndexLabel));
  });

  it('finds the same events for a team whichever streams LOKI_TEAM_STREAMS reads, where labels agree with GitHub', async () => {
    // Arrange: the organisation labels every repository's events with its GitHub team, or not at all.
    const { url, serviceNamespace } = run();
    const { teams } = testOrganisation(serviceNamespace);
    const [team, ...others] = teams;
    if (team === undefined) throw new Error('the organisation has no team');
    const filter: EventFilter = {
      team: team.name,
      teamAliases: [team.slug],
      teamRepositories: team.repositories,
      otherTeamsRepositories: others.flatMap((other) => other.repositories),
    };

    // Act (in turn: each fetch sets the environment it reads)
    const all = await fetchFrom(url, serviceNamespace, filter, { LOKI_TEAM_STREAMS: 'all' });
    const skipOthers = await fetchFrom(url, serviceNamespace, filter, { LOKI_TEAM_STREAMS: 'skip-others' });
    const owned = await fetchFrom(url, serviceNamespace, filter, { LOKI_TEAM_STREAMS: 'owned' });

    // Assert
    expect(all.deployments.length).toBeGreaterThan(0);
    expect(sortedBatch(skipOthers)).toEqual(sortedBatch(all));
    expect(sortedBatch(owned)).toEqual(sortedBatch(all));
  });

  it('sends a query too long for a URL as a form POST, which the real Loki answers like the short one', async () => {
    const { url, serviceNamespace } = run();
    const unknown = Array.from({ length: 400 }, (_, index) => `no-such-repository-${index}`);

    const long = await fetchFrom(url, serviceNamespace, { repositories: [...unknown, 'payments-api'] }, {});
    const short = await fetchFrom(url, serviceNamespace, { repositories: ['payments-api'] }, {});

    expect(short.deployments.length).toBeGreaterThan(0);
    expect(sortedBatch(long)).toEqual(sortedBatch(short));
  });

  describe('hostile team names stored as labels', () => {
    const serviceNamespace = uniqueServiceNamespace('dora-test');
    let entries: LokiEntry[];
    let imitationUrl: string;
    let closeImitation: () => Promise<void>;

    beforeAll(async () => {
      // One repository's last 10 days, once per hostile name.
      const source = testOrganisation(serviceNamespace).entries.filter(
        (entry) =>
          entry.labels.service_name === 'payments-api' &&
          BigInt(entry.timestampNs) >= BigInt(WINDOW.start) * 1_000_000n,
      );
      // Each name gets the whole copy, in a stream of its own (Loki drops a repeated line of one stream).
      entries = HOSTILE_TEAMS.flatMap((team, index) =>
        source.map((entry) => ({
          ...entry,
          labels: { ...entry.labels, service_name: `hostile-${index}`, team_name: team },
        })),
      );
      await loadIntoLoki(run().url, entries);
      const imitation = await startLokiServer({ entries });
      imitationUrl = imitation.url;
      closeImitation = () => imitation.close();
    });
    afterAll(async () => closeImitation());

    it.each(HOSTILE_TEAMS)('finds exactly the events of team %j, as the imitation does', async (team) => {
      const filter = { team };

      const real = await fetchFrom(run().url, serviceNamespace, filter, {});
      const imitation = await fetchFrom(imitationUrl, serviceNamespace, filter, {});

      const labelled = entries.filter((entry) => entry.labels.team_name === team);
      expect(real.deployments.length + real.merges.length + real.incidents.length).toBeGreaterThan(0);
      expect(real.merges.length).toBe(
        labelled.filter((entry) => entry.labels.event_name === 'change_closed' && entry.labels.merged_at)
          .length,
      );
      expect(sortedBatch(real)).toEqual(sortedBatch(imitation));
    });
  });
});
