import type { DeploymentEvent, MergeEvent } from '../../lib/dora/types';
import { parseDeployment, parseIncident, parseMerge } from '../../lib/loki/parse';
import type { LokiEntry } from '../../lib/loki/types';
import { generateEntries, generateSample, sampleTeams, teamSlug } from '../../lib/sample/generator';
import { describeWithFixtures, fixtureEntries } from '../helpers/fixtures';

const END = Date.UTC(2026, 10, 28, 9, 30);
const DAY = 86_400_000;
const PRODUCTION = new Set(['production', 'prod']);
const INCIDENT_LABELS = new Set(['incident']);

const sample = generateSample({ end: END });
const ofKind = (entries: LokiEntry[], eventName: string) =>
  entries.filter((entry) => entry.labels.event_name === eventName);
const deploymentEntries = ofKind(sample.entries, 'deployment_created');
const mergeEntries = ofKind(sample.entries, 'change_closed');
const issueEntries = ofKind(sample.entries, 'issue_closed');

function parsed<T>(entries: LokiEntry[], parse: (entry: LokiEntry) => T | undefined): T[] {
  return entries.map(parse).filter((event): event is T => event !== undefined);
}
const deployments = parsed(deploymentEntries, (entry) => parseDeployment(entry.labels, entry.line));
const merges = parsed(mergeEntries, (entry) => parseMerge(entry.labels, entry.line));
const incidents = parsed(issueEntries, (entry) => parseIncident(entry.labels, entry.line, INCIDENT_LABELS));
const productionDeployments = deployments
  .filter((deployment) => PRODUCTION.has(deployment.environment))
  .sort((a, b) => a.createdAt - b.createdAt);

function byRepository<T extends { repository: string }>(events: T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const event of events) groups.set(event.repository, [...(groups.get(event.repository) ?? []), event]);
  return groups;
}

describe('generateSample', () => {
  describe('determinism', () => {
    it('gives identical entries for the same seed and end', () => {
      const options = { seed: 7, end: END, repositories: 4, days: 20 };

      const first = generateSample(options);
      const second = generateSample(options);

      expect(second.entries).toEqual(first.entries);
      expect(second.counts).toEqual(first.counts);
    });

    it('gives different entries for another seed', () => {
      const first = generateSample({ seed: 7, end: END, repositories: 4, days: 20 });
      const second = generateSample({ seed: 8, end: END, repositories: 4, days: 20 });

      expect(second.entries.map((entry) => entry.line)).not.toEqual(first.entries.map((entry) => entry.line));
    });

    it('streams exactly the entries generateSample returns, and the same counts', () => {
      const options = { seed: 3, end: END, repositories: 3, days: 15 };
      const streamed: LokiEntry[] = [];
      const iterator = generateEntries(options);

      let step = iterator.next();
      while (!step.done) {
        streamed.push(step.value);
        step = iterator.next();
      }

      const collected = generateSample(options);
      expect(streamed).toEqual(collected.entries);
      expect(step.value).toEqual(collected.counts);
    });
  });

  describe('incident issues as GitHub sends them', () => {
    it('writes an issue_opened event before the closing of every issue, both with the issue as it then was', () => {
      const opened = ofKind(sample.entries, 'issue_opened');
      const openedNumbers = new Set(opened.map((entry) => JSON.parse(entry.line).issue.number));

      expect(opened.length).toBeGreaterThanOrEqual(issueEntries.length);
      for (const entry of issueEntries)
        expect(openedNumbers.has(JSON.parse(entry.line).issue.number)).toBe(true);
      for (const entry of opened) {
        expect(JSON.parse(entry.line)).toMatchObject({
          action: 'opened',
          issue: { state: 'open', closed_at: null },
        });
      }
    });

    it('leaves the incidents of the last openIncidentDays open and changes nothing else', () => {
      const options = { seed: 11, end: Date.UTC(2026, 10, 27), days: 60, repositories: 5, teams: 2 };
      const plain = generateSample(options);

      const withOpen = generateSample({ ...options, openIncidentDays: 7 });

      const missing = plain.entries.filter(
        (entry) => !withOpen.entries.some((other) => other.timestampNs === entry.timestampNs),
      );
      expect(withOpen.counts.openIncidents).toBeGreaterThan(0);
      expect(missing.map((entry) => entry.labels.event_name)).toEqual(
        Array(withOpen.counts.openIncidents - plain.counts.openIncidents).fill('issue_closed'),
      );
      expect(withOpen.entries.length + missing.length).toBe(plain.entries.length);
    });
  });

  describe('shape the API parses', () => {
    it('writes every deployment status event so that the Loki parser keeps it', () => {
      expect(deploymentEntries.length).toBeGreaterThan(0);
      expect(deployments).toHaveLength(deploymentEntries.length);
    });

    it('writes every merged pull request so that the parser keeps it, and closes some without merging', () => {
      const unmerged = mergeEntries.filter((entry) => entry.labels.merged_at === undefined);

      expect(merges).toHaveLength(mergeEntries.length - unmerged.length);
      expect(unmerged.length).toBeGreaterThan(0);
      for (const entry of unmerged) expect(JSON.parse(entry.line).pull_request.merged_at).toBeNull();
    });

    it('writes every incident so that the parser keeps it, and other closed issues that are no incident', () => {
      const incidentEntries = issueEntries.filter((entry) => entry.line.includes('"name":"incident"'));

      expect(incidents).toHaveLength(incidentEntries.length);
      expect(issueEntries.length).toBeGreaterThan(incidentEntries.length);
    });

    it('carries the JSON paths the API reads in every line', () => {
      // One expect over all lines: per-line matchers made this test slow.
      const wrongDeployments = deploymentEntries.filter((entry) => {
        const line = JSON.parse(entry.line);
        return !(
          typeof line.deployment?.id === 'number' &&
          line.deployment.sha === entry.labels.vcs_repository_ref_revision &&
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(line.deployment.created_at) &&
          line.deployment_status?.state === entry.labels.deployment_status &&
          line.repository?.name === entry.labels.vcs_repository_name &&
          line.repository?.owner?.login === 'acme'
        );
      });
      const wrongMerges = mergeEntries.filter((entry) => {
        const pull = JSON.parse(entry.line).pull_request;
        return !(
          pull?.merge_commit_sha === entry.labels.merge_sha &&
          typeof pull.title === 'string' &&
          typeof pull.user?.login === 'string' &&
          /^https:\/\/github\.com\/acme\/[^/]+\/pull\/\d+$/.test(pull.html_url)
        );
      });

      expect(wrongDeployments).toEqual([]);
      expect(wrongMerges).toEqual([]);
    });

    it('writes workflow_run in all three forms the collector sends: absent, null and a run', () => {
      const runs = deploymentEntries.map((entry) => JSON.parse(entry.line).workflow_run);

      expect(runs).toContain(undefined);
      expect(runs).toContain(null);
      expect(runs.find((run) => run !== null && run !== undefined)).toEqual(
        expect.objectContaining({
          html_url: expect.stringContaining('/actions/runs/'),
          id: expect.any(Number),
        }),
      );
    });

    it('stamps each entry a few seconds after the event it records, and never at or after end', () => {
      const delays = deploymentEntries.map(
        (entry) =>
          Number(entry.timestampNs.slice(0, -6)) - Date.parse(JSON.parse(entry.line).deployment.updated_at),
      );
      const badStamps = sample.entries.filter(
        (entry) => !/^\d{19}$/.test(entry.timestampNs) || Number(entry.timestampNs.slice(0, -6)) >= END,
      );

      expect(Math.min(...delays)).toBeGreaterThanOrEqual(1_000);
      expect(Math.max(...delays)).toBeLessThanOrEqual(5_000);
      expect(badStamps).toEqual([]);
    });
  });

  describe('a realistic mix', () => {
    it('deploys to both production names and to environments that are not production', () => {
      const environments = new Set(deployments.map((deployment) => deployment.environment));

      for (const name of ['production', 'prod', 'staging', 'dev', 'prod-eu'])
        expect(environments).toContain(name);
      expect([...environments].some((name) => /^preview-\d+$/.test(name))).toBe(true);
    });

    it('mostly succeeds, with runs of consecutive production failures and retries of a failed commit', () => {
      const failures = productionDeployments.filter((deployment) => deployment.state === 'failure');
      let consecutive = 0;
      let retries = 0;
      for (const events of byRepository(productionDeployments).values()) {
        events.forEach((event, index) => {
          const previous = events[index - 1];
          if (previous?.state !== 'failure') return;
          if (event.state === 'failure') consecutive += 1;
          if (event.state === 'success' && event.sha === previous.sha) retries += 1;
        });
      }

      expect(failures.length / productionDeployments.length).toBeGreaterThan(0.03);
      expect(failures.length / productionDeployments.length).toBeLessThan(0.25);
      expect(consecutive).toBeGreaterThan(0);
      expect(retries).toBeGreaterThan(0);
    });

    it('opens incidents shortly after a production deployment and closes them hours later', () => {
      expect(incidents.length).toBeGreaterThan(0);
      const deploymentsByRepository = byRepository(productionDeployments);
      for (const incident of incidents) {
        const before = (deploymentsByRepository.get(incident.repository) ?? []).filter(
          (deployment) => deployment.createdAt <= incident.createdAt,
        );
        const latest = before.at(-1) as DeploymentEvent;
        expect(incident.createdAt - latest.createdAt).toBeLessThanOrEqual(2 * 3_600_000);
        expect(incident.closedAt).toBeGreaterThan(incident.createdAt);
      }
    });

    it('deploys merge commits, sometimes several pull requests at once, and some direct pushes', () => {
      const deployedShas = new Set(productionDeployments.map((deployment) => deployment.sha));
      const mergedShas = new Set(merges.map((merge) => merge.sha));
      const shippedByMergeCommit = productionDeployments.filter((deployment) =>
        mergedShas.has(deployment.sha),
      );
      const shippedAlongAnother = merges.filter(
        (merge: MergeEvent) => !deployedShas.has(merge.sha) && merge.mergedAt < END - DAY,
      );
      const directPushes = productionDeployments.filter((deployment) => !mergedShas.has(deployment.sha));

      expect(shippedByMergeCommit.length / productionDeployments.length).toBeGreaterThan(0.5);
      expect(shippedAlongAnother.length).toBeGreaterThan(0);
      expect(directPushes.length).toBeGreaterThan(0);
    });

    it('merges a few pull requests before the window, counted as such', () => {
      const beforeWindow = merges.filter((merge) => merge.mergedAt < sample.start);

      expect(sample.start).toBe(END - 90 * DAY);
      expect(beforeWindow).toHaveLength(sample.counts.mergesBeforeWindow);
      expect(beforeWindow.length).toBeGreaterThan(0);
    });

    it('leaves team_name off some repositories, which GitHub still assigns to a team', () => {
      const labelled = new Set(sample.entries.map((entry) => entry.labels.team_name));
      const unlabelledRepositories = new Set(
        sample.entries
          .filter((entry) => entry.labels.team_name === undefined)
          .map((e) => e.labels.service_name),
      );
      const teamOf = new Map(
        sample.teams.flatMap((team) => team.repositories.map((name) => [name, team.name])),
      );

      expect(unlabelledRepositories.size).toBeGreaterThanOrEqual(2);
      for (const repository of unlabelledRepositories) expect(teamOf.get(repository as string)).toBeDefined();
      for (const name of labelled)
        if (name !== undefined) expect(sample.teams.map((t) => t.name)).toContain(name);
    });

    it('names teams like GitHub does, each repository owned by exactly one team', () => {
      const repositories = sample.teams.flatMap((team) => team.repositories);

      expect(sample.teams.map((team) => team.name)).toEqual(
        expect.arrayContaining(['Platform Core', 'tag-o11y']),
      );
      expect(sample.teams.find((team) => team.name === 'Platform Core')?.slug).toBe('platform-core');
      expect(repositories).toHaveLength(12);
      expect(new Set(repositories).size).toBe(12);
      expect(sampleTeams({ teams: 2, repositories: 5 }).map((team) => team.repositories.length)).toEqual([
        3, 2,
      ]);
      expect(teamSlug('Developer Experience!')).toBe('developer-experience');
    });
  });

  describe('counts', () => {
    it('match the entries generated', () => {
      const production = deploymentEntries.filter((entry) =>
        PRODUCTION.has(entry.labels.deployment_environment_name as string),
      );

      expect(sample.counts).toMatchObject({
        entries: sample.entries.length,
        deployments: deploymentEntries.length,
        productionDeployments: production.length,
        productionFailures: production.filter((entry) => entry.labels.deployment_status === 'failure').length,
        incidents: incidents.length,
        merges: merges.length,
      });
    });

    it('grow with repositories, days and deployment rate', () => {
      const base = generateSample({ end: END, repositories: 3, days: 20 }).counts.productionDeployments;

      const moreRepositories = generateSample({ end: END, repositories: 12, days: 20 }).counts;
      const moreDays = generateSample({ end: END, repositories: 3, days: 80 }).counts;
      const busier = generateSample({
        end: END,
        repositories: 6,
        days: 30,
        deploymentsPerRepositoryPerDay: 6,
      });

      expect(moreRepositories.productionDeployments).toBeGreaterThan(2.5 * base);
      expect(moreDays.productionDeployments).toBeGreaterThan(2.5 * base);
      expect(busier.counts.productionDeployments).toBeGreaterThan(2.5 * base);
    });

    it('uses the service namespace and organisation it is given', () => {
      const custom = generateSample({
        end: END,
        repositories: 2,
        days: 5,
        org: 'globex',
        serviceNamespace: 'gh',
      });

      expect(new Set(custom.entries.map((entry) => entry.labels.service_namespace))).toEqual(new Set(['gh']));
      expect(custom.entries[0]?.labels.vcs_repository_url_full).toMatch(/^https:\/\/github\.com\/globex\//);
    });

    it('rejects a non-positive size', () => {
      expect(() => generateSample({ end: END, repositories: 0 })).toThrow(/repositories must be positive/);
    });
  });
});

describeWithFixtures('generated events against the real collector fixtures', () => {
  const fixtureKinds = [
    ['deployments', deploymentEntries],
    ['incidents', issueEntries],
    ['merges', mergeEntries],
  ] as const;

  it.each(fixtureKinds)('use only label names the real %s carry', (kind, generated) => {
    const realLabels = new Set(fixtureEntries(kind).flatMap((entry) => Object.keys(entry.labels)));

    const generatedLabels = new Set(generated.flatMap((entry) => Object.keys(entry.labels)));

    expect([...generatedLabels].filter((name) => !realLabels.has(name))).toEqual([]);
  });

  it.each(fixtureKinds)('write the same top-level line keys as the real %s', (kind, generated) => {
    const keysOf = (entries: readonly LokiEntry[]) =>
      new Set(entries.flatMap((entry) => Object.keys(JSON.parse(entry.line))));

    expect(keysOf(generated)).toEqual(keysOf(fixtureEntries(kind)));
  });
});
