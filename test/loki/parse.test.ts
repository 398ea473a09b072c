import {
  dedupeIncidents,
  eventsFromEntries,
  forEachEntry,
  incidentLabelSet,
  parseDeployment,
  parseIncident,
  parseMerge,
} from '../../lib/loki/parse';
import { describeWithFixtures, fixtureEntries } from '../helpers/fixtures';

const repoLabels = {
  vcs_repository_name: 'api',
  vcs_repository_owner: 'acme',
  team_name: 'core',
};

function deploymentLine(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    deployment: { id: 42, sha: 'abc123', created_at: '2024-09-09T17:34:12Z', environment: 'production' },
    deployment_status: { state: 'success', environment: 'production' },
    repository: { name: 'api', full_name: 'acme/api', html_url: 'https://github.com/acme/api' },
    ...overrides,
  });
}

describeWithFixtures('parsing the real Loki fixtures', () => {
  it('turns every deployment line into a deployment event with a real https link', () => {
    const { deployments, skippedLines } = eventsFromEntries('deployments', fixtureEntries('deployments'));

    expect(deployments).toHaveLength(232);
    expect(skippedLines).toBe(0);
    for (const event of deployments) {
      expect(event.url).toMatch(
        /^https:\/\/github\.com\/[^/\s]+\/[^/\s]+\/(deployments|actions\/runs)\/\S+$/,
      );
      expect(event.url).not.toContain('/actions/workflows/');
      expect(event.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(Number.isFinite(event.createdAt)).toBe(true);
    }
    expect(new Set(deployments.map((event) => event.repository)).size).toBe(23);
    expect(deployments.filter((event) => event.state === 'failure')).toHaveLength(38);
  });

  it('keeps one incident per issue, with its latest closing', () => {
    const { incidents, lines } = eventsFromEntries('incidents', fixtureEntries('incidents'));

    expect(lines).toBe(6);
    expect(incidents).toEqual([
      {
        repository: 'dora-deploy-demo',
        owner: 'liatrio',
        team: 'tag-o11y',
        id: '379',
        title: null,
        createdAt: Date.parse('2024-08-28T21:56:49Z'),
        closedAt: Date.parse('2024-08-29T16:39:53Z'),
        url: 'https://github.com/liatrio/dora-deploy-demo/issues/379',
        // The Loki time of the latest closing event.
        stateAt: Date.parse('2024-08-29T16:39:54.620Z'),
      },
    ]);
  });

  it('turns every merged pull request into a merge event with its web link', () => {
    const { merges, skippedLines } = eventsFromEntries('merges', fixtureEntries('merges'));

    expect(merges).toHaveLength(514);
    expect(skippedLines).toBe(0);
    for (const merge of merges) {
      expect(merge.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(merge.url).toMatch(/^https:\/\/github\.com\/[^/]+\/[^/]+\/pull\/\d+$/);
      expect(merge.user).not.toBeNull();
    }
    expect(merges[0]).toMatchObject({
      repository: 'flywheel-infrastructure-account-vending',
      sha: '07b00571584b7b70d8164847da0901bf26dbf2df',
      title: 'chore(deps): update tj-actions/changed-files digest to f4e0652',
      user: 'renovate[bot]',
      mergedAt: Date.parse('2024-09-16T03:51:37Z'),
      url: 'https://github.com/liatrio/flywheel-infrastructure-account-vending/pull/638',
    });
  });
});

describe('parseDeployment', () => {
  it('links the workflow run page when the event carries it', () => {
    const line = deploymentLine({ workflow_run: { html_url: 'https://github.com/acme/api/actions/runs/7' } });
    expect(parseDeployment(repoLabels, line)?.url).toBe('https://github.com/acme/api/actions/runs/7');
  });

  it('builds the run link from a run id, never from the workflow definition id', () => {
    const line = deploymentLine({ workflow_run: { id: 99, workflow_id: 12345 } });
    expect(parseDeployment(repoLabels, line)?.url).toBe('https://github.com/acme/api/actions/runs/99');
  });

  it('falls back to the environment deployments page, URL-encoding the environment', () => {
    const line = deploymentLine({ workflow_run: null });
    const labels = { ...repoLabels, deployment_environment_name: 'prod eu/1' };
    expect(parseDeployment(labels, line)?.url).toBe('https://github.com/acme/api/deployments/prod%20eu%2F1');
  });

  it('takes repository and owner from the line when the stream lacks the labels', () => {
    const event = parseDeployment({}, deploymentLine());
    expect(event).toMatchObject({ repository: 'api', owner: 'acme', team: null, environment: 'production' });
  });

  it.each([
    ['a line that is not JSON', 'deployment created'],
    ['a line without a deployment', JSON.stringify({ repository: { name: 'api' } })],
    [
      'a line with an unreadable created_at',
      deploymentLine({ deployment: { id: 1, sha: 'a', created_at: 'soon' } }),
    ],
    ['truncated JSON', deploymentLine().slice(0, 40)],
  ])('skips %s', (_case, line) => {
    expect(parseDeployment(repoLabels, line)).toBeUndefined();
  });
});

describe('parseIncident', () => {
  const incidentLabels = incidentLabelSet(['Incident', 'outage']);
  const issueLine = (labels: unknown[], closedAt = '2024-08-29T16:39:53Z') =>
    JSON.stringify({
      issue: { number: 5, created_at: '2024-08-28T21:56:49Z', closed_at: closedAt, labels, title: 'Down' },
      repository: { name: 'api', html_url: 'https://github.com/acme/api' },
    });

  it('accepts an issue carrying an incident label in any case', () => {
    const event = parseIncident(repoLabels, issueLine([{ name: 'INCIDENT' }]), incidentLabels);
    expect(event).toMatchObject({ id: '5', title: 'Down', url: 'https://github.com/acme/api/issues/5' });
  });

  it('skips an issue that only mentions the word incident elsewhere', () => {
    const event = parseIncident(repoLabels, issueLine([{ name: 'incident-review' }]), incidentLabels);
    expect(event).toBeUndefined();
  });

  it('keeps the latest closing of an issue closed several times', () => {
    const first = parseIncident(repoLabels, issueLine(['outage'], '2024-08-29T10:00:00Z'), incidentLabels);
    const last = parseIncident(repoLabels, issueLine(['outage'], '2024-08-29T12:00:00Z'), incidentLabels);
    if (!first || !last) throw new Error('both lines are incidents');
    expect(dedupeIncidents([last, first])).toEqual([last]);
    expect(dedupeIncidents([first, last])).toEqual([last]);
  });

  /** An `issues` webhook event as the collector writes it: the issue as the action left it. */
  const issueEvent = (action: string, state: 'open' | 'closed', labels: string[], closedAt: string | null) =>
    JSON.stringify({
      action,
      issue: {
        number: 9,
        created_at: '2024-08-28T21:00:00Z',
        closed_at: closedAt,
        labels: labels.map((name) => ({ name })),
        state,
      },
      repository: { name: 'api', html_url: 'https://github.com/acme/api' },
    });
  const ns = (iso: string) => `${Date.parse(iso)}000000`;
  const read = (line: string, at: string) => parseIncident(repoLabels, line, incidentLabels, ns(at));

  it('reads an opened incident issue as an open incident seen at its Loki time', () => {
    const event = read(issueEvent('opened', 'open', ['incident'], null), '2024-08-28T21:00:01Z');

    expect(event).toMatchObject({
      id: '9',
      createdAt: Date.parse('2024-08-28T21:00:00Z'),
      closedAt: null,
      stateAt: Date.parse('2024-08-28T21:00:01Z'),
    });
    expect(event?.withdrawn).toBeUndefined();
  });

  it('reads a reopened issue as open again, whatever closing its labels remember', () => {
    const line = issueEvent('reopened', 'open', ['incident'], null);

    const event = parseIncident({ ...repoLabels, closed_at: '2024-08-29T10:00:00Z' }, line, incidentLabels);

    expect(event?.closedAt).toBeNull();
  });

  it('reads an unlabeled issue left without an incident label as withdrawn, other issue events as nothing', () => {
    const unlabelled = read(issueEvent('unlabeled', 'open', ['bug'], null), '2024-08-28T22:00:00Z');
    const bugOpened = read(issueEvent('opened', 'open', ['bug'], null), '2024-08-28T22:00:00Z');
    const stillIncident = read(issueEvent('unlabeled', 'open', ['incident'], null), '2024-08-28T22:00:00Z');

    expect(unlabelled).toMatchObject({ id: '9', withdrawn: true });
    expect(bugOpened).toBeUndefined();
    expect(stillIncident?.withdrawn).toBeUndefined();
  });

  it('keeps the latest state of an issue by Loki time: opened, closed, reopened is open; relabelled counts again', () => {
    const opened = read(issueEvent('opened', 'open', ['incident'], null), '2024-08-28T21:00:01Z');
    const closed = read(
      issueEvent('closed', 'closed', ['incident'], '2024-08-29T09:00:00Z'),
      '2024-08-29T09:00:01Z',
    );
    const reopened = read(issueEvent('reopened', 'open', ['incident'], null), '2024-08-29T11:00:00Z');
    const unlabelled = read(issueEvent('unlabeled', 'open', [], null), '2024-08-29T12:00:00Z');
    const relabelled = read(issueEvent('labeled', 'open', ['incident'], null), '2024-08-29T13:00:00Z');
    if (!opened || !closed || !reopened || !unlabelled || !relabelled)
      throw new Error('all are issue events');

    expect(dedupeIncidents([opened, closed])).toEqual([closed]);
    expect(dedupeIncidents([reopened, opened, closed])).toEqual([reopened]);
    expect(dedupeIncidents([opened, closed, reopened, unlabelled])).toEqual([]);
    expect(dedupeIncidents([opened, unlabelled, relabelled])).toEqual([relabelled]);
  });
});

describe('parseMerge', () => {
  it('derives the web link from the API form of the pull request URL', () => {
    const line = JSON.stringify({
      pull_request: {
        merge_commit_sha: 'def',
        merged_at: '2024-09-16T03:51:37Z',
        url: 'https://api.github.com/repos/acme/api/pulls/12',
        user: { login: 'dev' },
      },
    });
    expect(parseMerge(repoLabels, line)).toMatchObject({
      sha: 'def',
      user: 'dev',
      url: 'https://github.com/acme/api/pull/12',
    });
  });

  it('skips a pull request closed without merging', () => {
    const line = JSON.stringify({ pull_request: { merge_commit_sha: 'def', merged_at: null } });
    expect(parseMerge(repoLabels, line)).toBeUndefined();
  });
});

describe('forEachEntry', () => {
  it('reads categorize-labels answers, merging structured metadata into the labels', () => {
    const body = {
      status: 'success',
      data: {
        resultType: 'streams',
        encodingFlags: ['categorize-labels'],
        result: [
          {
            stream: { service_namespace: 'github' },
            values: [['1', 'line', { structuredMetadata: { vcs_repository_name: 'api' } }]],
          },
        ],
      },
    };
    const seen: unknown[] = [];
    forEachEntry(body, (entry) => seen.push(entry));
    expect(seen).toEqual([
      { labels: { service_namespace: 'github', vcs_repository_name: 'api' }, timestampNs: '1', line: 'line' },
    ]);
  });

  it('refuses a body that is not a streams answer', () => {
    expect(() => forEachEntry({ status: 'error' }, () => undefined)).toThrow();
  });
});
