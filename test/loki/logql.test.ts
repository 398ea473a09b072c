import fc from 'fast-check';
import { matchesLabels, parseLogql } from '../../dev/loki-server';
import { BadRequestError } from '../../lib/errors';
import {
  buildEventsQuery,
  buildQuery,
  escapeRegex,
  eventPredicate,
  exactAlternation,
  filterLabelNames,
  filterLabels,
  filterStages,
  kindsOf,
  logqlString,
  type QueryOptions,
  streamSelector,
  validateRepositories,
} from '../../lib/loki/logql';
import { parseDeployment } from '../../lib/loki/parse';
import { KINDS } from '../../lib/plan/read-plan';
import {
  deploymentLine,
  eventFilter,
  filterableEvent,
  filterOptions,
  presentLabels,
} from '../helpers/event-filters';

const options: QueryOptions = { serviceNamespace: 'github', incidentLabels: ['incident'] };
const KEEP =
  ' | keep vcs_repository_name, vcs_repository_owner, vcs_repository_url_full, team_name, deployment_environment_name, deployment_status, event_name, source, service_name';

/** Whether the query the client builds keeps an event with these labels (judged by the stand-in's parser). */
function keeps(query: string, labels: Record<string, string>): boolean {
  return matchesLabels(parseLogql(query), labels);
}

const deployment = (labels: Record<string, string>) => ({
  service_namespace: 'github',
  deployment_status: 'success',
  ...labels,
});

describe('logqlString', () => {
  it.each([
    ['plain', '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['back\\slash', '"back\\\\slash"'],
    ['line\nbreak', '"line\\nbreak"'],
    ['"} or {a=~".*', '"\\"} or {a=~\\".*"'],
  ])('writes %j as the literal %s', (value, literal) => {
    expect(logqlString(value)).toBe(literal);
  });

  it('reads back as the same text in LogQL for hostile values', () => {
    const hostile = ['a"b', 'a\\', '\\"', '"} or {x="', '`raw`', 'tab\there', 'nul\u0000', 'ünï€😀', '\r\n'];
    for (const value of hostile) {
      const parsed = parseLogql(`{team_name=${logqlString(value)}}`);
      expect(parsed.selector[0]?.value).toBe(value);
    }
  });

  it('rejects text with a lone surrogate, which a Go string literal cannot hold', () => {
    expect(() => logqlString('bad\uD800')).toThrow(BadRequestError);
  });
});

describe('escapeRegex and exactAlternation', () => {
  it('escapes every RE2 metacharacter', () => {
    expect(escapeRegex('a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o')).toBe(
      'a\\.b\\*c\\+d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o',
    );
  });

  it('matches exactly the listed names and nothing else', () => {
    const query = `{vcs_repository_name=~${exactAlternation(['api.v2', 'web'])}}`;
    expect(keeps(query, { vcs_repository_name: 'api.v2' })).toBe(true);
    expect(keeps(query, { vcs_repository_name: 'web' })).toBe(true);
    expect(keeps(query, { vcs_repository_name: 'apixv2' })).toBe(false);
    expect(keeps(query, { vcs_repository_name: 'web-tools' })).toBe(false);
  });
});

describe('validateRepositories', () => {
  it('accepts GitHub repository names and drops repeats', () => {
    expect(validateRepositories(['a', 'A.b_c-1', 'a'])).toEqual(['a', 'A.b_c-1']);
  });

  it.each([['.*'], ['a|b'], ['"} or {x=~".+'], ['a\nb'], ['a b'], [''], ['x'.repeat(101)], ['.'], ['..']])(
    'rejects %j with a 400 naming the field',
    (name) => {
      const act = () => validateRepositories(['ok', name]);
      expect(act).toThrow(BadRequestError);
      try {
        act();
      } catch (error) {
        expect((error as BadRequestError).fields).toEqual([
          { field: 'repositories[1]', message: expect.any(String) },
        ]);
      }
    },
  );
});

describe('buildQuery', () => {
  it("asks for every final deployment state the records count, GitHub's error (a failed deployment) too", () => {
    const query = buildQuery('deployments', {}, options);

    for (const state of ['success', 'failure', 'error']) {
      expect(keeps(query, deployment({ deployment_status: state }))).toBe(true);
      expect(kindsOf({ deployment_status: state })).toEqual(['deployments']);
    }
    for (const state of ['pending', 'queued', 'in_progress', 'inactive']) {
      expect(keeps(query, deployment({ deployment_status: state }))).toBe(false);
    }
  });

  it('builds the contract queries when there is no filter', () => {
    expect(buildQuery('deployments', {}, options)).toBe(
      `{service_namespace="github"} | deployment_status=~"error|failure|success"${KEEP}`,
    );
    expect(buildQuery('incidents', {}, options)).toBe(
      `{service_namespace="github"} |~ "(?i)(?:incident|\\"action\\":\\"unlabeled\\"|\\"action\\":\\"deleted\\")" | event_name=~"issue_closed|issue_deleted|issue_labeled|issue_opened|issue_reopened|issue_unlabeled"${KEEP}`,
    );
    expect(buildQuery('merges', {}, options)).toBe(
      `{service_namespace="github"} | event_name="change_closed", merged_at!=""${KEEP}`,
    );
  });

  it('filters several repositories with ONE anchored alternation, not an equality', () => {
    const query = buildQuery('deployments', { repositories: ['infra', 'web.app'] }, options);
    expect(query).toContain('| vcs_repository_name=~"infra|web\\\\.app"');
    expect(keeps(query, deployment({ vcs_repository_name: 'infra' }))).toBe(true);
    expect(keeps(query, deployment({ vcs_repository_name: 'web.app' }))).toBe(true);
    expect(keeps(query, deployment({ vcs_repository_name: 'infra-tools' }))).toBe(false);
    expect(keeps(query, deployment({ vcs_repository_name: 'webxapp' }))).toBe(false);
  });

  it('counts streams without team_name when the team owns their repository', () => {
    const query = buildQuery('merges', { team: 'core', teamRepositories: ['api'] }, options);
    const merge = {
      service_namespace: 'github',
      event_name: 'change_closed',
      merged_at: '2024-01-01T00:00:00Z',
    };
    expect(keeps(query, { ...merge, team_name: 'core', vcs_repository_name: 'other' })).toBe(true);
    expect(keeps(query, { ...merge, vcs_repository_name: 'api' })).toBe(true);
    expect(keeps(query, { ...merge, vcs_repository_name: 'web' })).toBe(false);
    expect(keeps(query, { ...merge, team_name: 'other', vcs_repository_name: 'web' })).toBe(false);
  });

  it('matches every spelling of a team (GitHub name and slug) and only those, escaped', () => {
    const query = buildQuery(
      'merges',
      { team: 'Core (EU)', teamAliases: ['core-eu', 'a"} or {x=~".*'] },
      options,
    );
    const merge = {
      service_namespace: 'github',
      event_name: 'change_closed',
      merged_at: '2024-01-01T00:00:00Z',
    };

    expect(keeps(query, { ...merge, team_name: 'Core (EU)' })).toBe(true);
    expect(keeps(query, { ...merge, team_name: 'core-eu' })).toBe(true);
    expect(keeps(query, { ...merge, team_name: 'a"} or {x=~".*' })).toBe(true);
    expect(keeps(query, { ...merge, team_name: 'Core EU' })).toBe(false);
    expect(keeps(query, { ...merge, team_name: 'other' })).toBe(false);
  });

  it('leaves deployments to other environments in Loki, keeping any case of a production name and events without one', () => {
    const query = buildQuery(
      'deployments',
      {},
      { ...options, productionEnvironments: ['production', 'prod.eu'] },
    );
    const to = (environment?: string) =>
      keeps(query, deployment(environment === undefined ? {} : { deployment_environment_name: environment }));

    expect([to('production'), to('PRODUCTION'), to('Prod.EU'), to(''), to(undefined)]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([to('staging'), to('production-eu'), to('preproduction'), to('prodXeu')]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('leaves the environment check to the client when a production name is not plain ASCII', () => {
    const query = buildQuery('deployments', {}, { ...options, productionEnvironments: ['prödüction'] });

    expect(query).toBe(`{service_namespace="github"} | deployment_status=~"error|failure|success"${KEEP}`);
  });

  it('treats an empty repository list and an empty team as no filter', () => {
    expect(filterStages({ repositories: [], team: '' })).toBe('');
  });

  it.each([
    ['a"b'],
    ['"} or {service_namespace=~".+'],
    ['" or team_name!="'],
    ['.*'],
    ['\\'],
    ['x\\"'],
    ['line\nbreak'],
    ['`'],
    [') or (team_name=~".*'],
  ])('a hostile team name %j matches only that exact team', (team) => {
    const query = buildQuery('deployments', { team }, options);
    expect(keeps(query, deployment({ team_name: team }))).toBe(true);
    expect(keeps(query, deployment({ team_name: 'someone-else' }))).toBe(false);
    expect(keeps(query, deployment({}))).toBe(false);
  });

  it('keeps the incident line filter away from labels the JSON line might escape', () => {
    const query = buildQuery('incidents', {}, { serviceNamespace: 'github', incidentLabels: ['sev<1>'] });
    expect(query).toBe(
      `{service_namespace="github"} | event_name=~"issue_closed|issue_deleted|issue_labeled|issue_opened|issue_reopened|issue_unlabeled"${KEEP}`,
    );
  });

  it('finds every issue event that opens, closes, reopens or relabels an issue, from the collector and the API', () => {
    const query = buildQuery('incidents', { repositories: ['api'] }, options);
    const issue = { service_namespace: 'github', vcs_repository_name: 'api' };

    for (const action of ['opened', 'closed', 'reopened', 'labeled', 'unlabeled', 'deleted']) {
      expect(keeps(query, { ...issue, event_name: `issue_${action}`, source: 'webhookevent' })).toBe(true);
    }
    expect(keeps(query, { ...issue, event_name: 'issue_opened', source: 'dora-api' })).toBe(true);
    expect(keeps(query, { ...issue, event_name: 'issue_assigned', source: 'webhookevent' })).toBe(false);
    expect(keeps(query, { ...issue, event_name: 'issue_comment', source: 'webhookevent' })).toBe(false);
    expect(
      keeps(query, { ...issue, event_name: 'issue_opened', source: 'dora-api', vcs_repository_name: 'web' }),
    ).toBe(false);
  });

  it('ignores repository names from GitHub that are not names instead of breaking the query', () => {
    const query = buildQuery('deployments', { team: 't', teamRepositories: ['ok', '.*'] }, options);
    expect(query).toContain('(team_name="t" or vcs_repository_name=~"ok")');
  });
});

describe('streamSelector', () => {
  it('selects the namespace alone without services', () => {
    expect(streamSelector({}, options)).toBe('{service_namespace="github"}');
  });

  it('selects one service on the service_name index label with an exact matcher', () => {
    expect(streamSelector({ services: ['checkout-service'] }, options)).toBe(
      '{service_namespace="github", service_name="checkout-service"}',
    );
  });

  it('selects exactly the listed services, whatever characters their names hold', () => {
    const selector = streamSelector({ services: ['api.v2', 'a"} or {x=~".+', 'api.v2'] }, options);

    expect(keeps(`${selector}`, { service_namespace: 'github', service_name: 'api.v2' })).toBe(true);
    expect(keeps(`${selector}`, { service_namespace: 'github', service_name: 'a"} or {x=~".+' })).toBe(true);
    expect(keeps(`${selector}`, { service_namespace: 'github', service_name: 'apixv2' })).toBe(false);
    expect(keeps(`${selector}`, { service_namespace: 'other', service_name: 'api.v2' })).toBe(false);
  });

  it('puts the services of a filter into every query of buildQuery', () => {
    expect(buildQuery('merges', { services: ['web'] }, options)).toMatch(
      /^\{service_namespace="github", service_name="web"\} \| /,
    );
  });

  const indexed = { ...options, repositoryLabel: 'service_name' };

  it('selects one repository by equality on the repository label', () => {
    expect(streamSelector({ repositories: ['payments-api'] }, indexed)).toBe(
      '{service_namespace="github", service_name="payments-api"}',
    );
  });

  it('selects several repositories with one escaped, anchored alternation', () => {
    const selector = streamSelector({ repositories: ['infra', 'web.app'] }, indexed);
    expect(selector).toBe('{service_namespace="github", service_name=~"infra|web\\\\.app"}');
    const query = `${selector} | deployment_status="success"`;
    expect(keeps(query, deployment({ service_name: 'web.app' }))).toBe(true);
    expect(keeps(query, deployment({ service_name: 'webxapp' }))).toBe(false);
    expect(keeps(query, deployment({ service_name: 'infra-tools' }))).toBe(false);
  });

  it('selects the whole namespace without a repository filter, for a team, or without the label', () => {
    expect(streamSelector({}, indexed)).toBe('{service_namespace="github"}');
    expect(streamSelector({ team: 'core', teamRepositories: ['api'] }, indexed)).toBe(
      '{service_namespace="github"}',
    );
    expect(streamSelector({ repositories: ['api'] }, options)).toBe('{service_namespace="github"}');
  });

  it("reads only the streams of a team's repositories when LOKI_TEAM_STREAMS is owned", () => {
    const team = { team: 'core', teamRepositories: ['api', 'web.app'] };
    expect(streamSelector(team, { ...indexed, teamStreams: 'owned' })).toBe(
      '{service_namespace="github", service_name=~"api|web\\\\.app"}',
    );
    expect(streamSelector(team, { ...indexed, teamStreams: 'all' })).toBe('{service_namespace="github"}');
    expect(streamSelector({ team: 'core' }, { ...indexed, teamStreams: 'owned' })).toBe(
      '{service_namespace="github"}',
    );
  });

  it("skips only other teams' repositories' streams when LOKI_TEAM_STREAMS is skip-others", () => {
    // Arrange
    const team = {
      team: 'core',
      teamRepositories: ['api', 'shared'],
      otherTeamsRepositories: ['billing', 'shared', 'web.app'],
    };

    // Act
    const selector = streamSelector(team, { ...indexed, teamStreams: 'skip-others' });

    // Assert: a repository the team shares with another team is still read.
    expect(selector).toBe('{service_namespace="github", service_name!~"billing|web\\\\.app"}');
    const query = `${selector} | deployment_status="success"`;
    expect(keeps(query, deployment({ service_name: 'api' }))).toBe(true);
    expect(keeps(query, deployment({ service_name: 'shared' }))).toBe(true);
    expect(keeps(query, deployment({ service_name: 'unowned-tool' }))).toBe(true);
    expect(keeps(query, deployment({ service_name: 'web.app' }))).toBe(false);
    expect(keeps(query, deployment({ service_name: 'webxapp' }))).toBe(true);
    expect(keeps(query, deployment({ service_name: 'billing' }))).toBe(false);
  });

  it("skips every team's repositories for a team GitHub does not know when LOKI_TEAM_STREAMS is skip-others", () => {
    const unknown = { team: 'core', otherTeamsRepositories: ['billing'] };

    expect(streamSelector(unknown, { ...indexed, teamStreams: 'skip-others' })).toBe(
      '{service_namespace="github", service_name!~"billing"}',
    );
    expect(streamSelector(unknown, { ...indexed, teamStreams: 'owned' })).toBe(
      '{service_namespace="github"}',
    );
    expect(streamSelector(unknown, { ...indexed, teamStreams: 'all' })).toBe('{service_namespace="github"}');
  });

  it('reads the whole namespace for a team when GitHub gave no ownership, whatever LOKI_TEAM_STREAMS says', () => {
    for (const teamStreams of ['skip-others', 'owned', 'all'] as const) {
      expect(streamSelector({ team: 'core' }, { ...indexed, teamStreams })).toBe(
        '{service_namespace="github"}',
      );
    }
    const everyRepositoryOwned = { team: 'core', teamRepositories: ['api'], otherTeamsRepositories: ['api'] };
    expect(streamSelector(everyRepositoryOwned, { ...indexed, teamStreams: 'skip-others' })).toBe(
      '{service_namespace="github"}',
    );
  });

  it('keeps the label filter beside the selector, so streams whose labels disagree count as before', () => {
    const query = buildQuery('merges', { repositories: ['api'] }, indexed);
    expect(query).toContain('{service_namespace="github", service_name="api"}');
    expect(query).toContain('| vcs_repository_name=~"api"');
  });
});

describe('buildEventsQuery', () => {
  const production = { ...options, productionEnvironments: ['production', 'prod'] };
  const all = ['deployments', 'incidents', 'merges'] as const;

  it('asks for every kind in one query that keeps exactly what the three queries keep', () => {
    const query = buildEventsQuery(all, { repositories: ['api'] }, production);
    const events: Array<Record<string, string>> = [
      deployment({ deployment_environment_name: 'production' }),
      deployment({ deployment_environment_name: 'staging' }),
      deployment({ deployment_status: 'in_progress' }),
      { service_namespace: 'github', event_name: 'issue_closed' },
      { service_namespace: 'github', event_name: 'issue_opened' },
      { service_namespace: 'github', event_name: 'issue_opened', source: 'dora-api' },
      { service_namespace: 'github', event_name: 'change_closed', merged_at: '2024-01-01T00:00:00Z' },
      { service_namespace: 'github', event_name: 'change_closed', merged_at: '' },
      { service_namespace: 'github', event_name: 'push' },
    ].map((labels) => ({ ...labels, vcs_repository_name: 'api' }));
    const separately = events.map((labels) =>
      all.some((kind) => keeps(buildQuery(kind, { repositories: ['api'] }, production), labels)),
    );
    expect(events.map((labels) => keeps(query, labels))).toEqual(separately);
    expect(separately).toEqual([true, false, false, true, true, true, true, false, false]);
  });

  it("is the single kind's own query when only one kind is asked for", () => {
    expect(buildEventsQuery(['incidents'], {}, options)).toBe(buildQuery('incidents', {}, options));
  });
});

describe('kindsOf', () => {
  it('tells the kinds apart by the labels their filters use', () => {
    expect(kindsOf({ deployment_status: 'failure' })).toEqual(['deployments']);
    expect(kindsOf({ event_name: 'issue_closed' })).toEqual(['incidents']);
    expect(kindsOf({ event_name: 'issue_opened', source: 'dora-api' })).toEqual(['incidents']);
    expect(kindsOf({ event_name: 'issue_opened', source: 'webhookevent' })).toEqual(['incidents']);
    expect(kindsOf({ event_name: 'issue_reopened' })).toEqual(['incidents']);
    expect(kindsOf({ event_name: 'issue_unlabeled' })).toEqual(['incidents']);
    expect(kindsOf({ event_name: 'issue_assigned' })).toEqual([]);
    expect(kindsOf({ event_name: 'change_closed' })).toEqual(['merges']);
  });
});

describe('eventPredicate', () => {
  /** What the reader keeps of an event of the namespace's query: the event and its `filterLabels`. */
  function readFromNamespace(
    labels: Record<string, string>,
    line: string,
    settings: typeof options & object,
  ) {
    const query = parseLogql(buildEventsQuery(KINDS, {}, settings));
    const shown = Object.fromEntries(Object.entries(labels).filter(([name]) => query.keep?.includes(name)));
    const event = parseDeployment(shown, line);
    if (event === undefined) throw new Error('not a deployment');
    return { event, labels: filterLabels(shown, event.repository, filterLabelNames(settings)) };
  }

  it("keeps exactly the events the filter's LogQL keeps, whatever the names, labels and settings", () => {
    fc.assert(
      fc.property(filterableEvent, eventFilter, filterOptions, (generated, filter, settings) => {
        const labels = {
          ...deployment({}),
          deployment_environment_name: 'production',
          ...presentLabels(generated.labels),
        };
        const query = { ...options, ...settings };
        const read = readFromNamespace(labels, deploymentLine(generated, 1, 0), query);

        const inMemory = eventPredicate(filter, query)?.(read.event, read.labels) ?? true;

        expect(inMemory).toBe(keeps(buildEventsQuery(KINDS, filter, query), labels));
      }),
      { numRuns: 3000 },
    );
  });

  it('compares names exactly: another case, or a metacharacter standing for a letter, is another name', () => {
    const event = { repository: 'a.b', team: 'Payments' };

    expect(eventPredicate({ repositories: ['a.b'] }, options)?.(event, undefined)).toBe(true);
    expect(eventPredicate({ repositories: ['aXb'] }, options)?.(event, undefined)).toBe(false);
    expect(eventPredicate({ repositories: ['A.B'] }, options)?.(event, undefined)).toBe(false);
    expect(eventPredicate({ team: 'payments' }, options)?.(event, undefined)).toBe(false);
    expect(eventPredicate({ team: 'payments', teamAliases: ['Payments'] }, options)?.(event, undefined)).toBe(
      true,
    );
  });

  it("reads the repository from vcs_repository_name, not from the line, as the query's label filter does", () => {
    const fromLine = { repository: 'api', team: null };
    const noLabel = filterLabels({ service_name: 'api' }, 'api', filterLabelNames(options));

    expect(noLabel).toEqual({ vcs_repository_name: '' });
    expect(eventPredicate({ repositories: ['api'] }, options)?.(fromLine, noLabel)).toBe(false);
    expect(eventPredicate({ team: 'x', teamRepositories: ['api'] }, options)?.(fromLine, noLabel)).toBe(
      false,
    );
  });

  it('keeps nothing beside an event whose labels all name its repository (the collector writes those)', () => {
    const labels = { vcs_repository_name: 'api', service_name: 'api', team_name: 'Payments' };

    expect(
      filterLabels(labels, 'api', filterLabelNames({ repositoryLabel: 'service_name' })),
    ).toBeUndefined();
  });

  it('is absent for a filter that keeps every event, and rejects the names the query rejects', () => {
    expect(eventPredicate({}, options)).toBeUndefined();
    expect(eventPredicate({ repositories: [], team: '' }, options)).toBeUndefined();
    expect(() => eventPredicate({ repositories: ['not a name'] }, options)).toThrow(BadRequestError);
    expect(() => eventPredicate({ team: 'bad\uD800' }, options)).toThrow(BadRequestError);
  });
});
