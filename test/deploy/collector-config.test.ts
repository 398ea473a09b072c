import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { handler as DataHandler } from '../../functions/data';
import {
  type CollectedRecord,
  type CollectorConfig,
  collect,
  collectorStatements,
  lokiEntry,
  readCollectorConfig,
} from '../helpers/collector';
import { useStandIns } from '../helpers/environment';
import { describeWithFixtures, FIXTURES_DIR } from '../helpers/fixtures';
import { recordsOf, wholeSecondsNow } from '../helpers/records';
import {
  deploymentStatus,
  example,
  incidentIssue,
  mergedPullRequest,
  type Where,
} from '../webhooks/deliveries';

/**
 * deploy/collector/otelcol-config.yaml, the OpenTelemetry Collector configuration docs/getting-started.md
 * hands to a platform team: its pipeline, what its transform makes of GitHub's deliveries, and that the
 * API reads the result. The collector itself does not run here (test/helpers/ottl.ts evaluates its
 * statements); the real-Loki suite sends the same records to Loki's own OTLP endpoint.
 */

const MINUTE = 60_000;
const where: Where = { owner: 'acme', repository: 'checkout' };

let config: CollectorConfig;
beforeAll(() => {
  config = readCollectorConfig();
});

const run = (payload: unknown): CollectedRecord => collect(collectorStatements(config), payload);

describe('the OpenTelemetry Collector configuration', () => {
  it('wires the webhookevent receiver, the GitHub transform and the Loki OTLP exporter into one logs pipeline', () => {
    const pipelines = config.service.pipelines;

    const logs = pipelines.logs;

    expect(Object.keys(pipelines)).toEqual(['logs']);
    expect(logs?.receivers).toEqual(['webhookevent']);
    expect(logs?.processors[0]).toBe('transform/github');
    expect(logs?.exporters).toEqual(['otlphttp/loki']);
    for (const name of logs?.receivers ?? []) expect(config.receivers[name]).toBeDefined();
    for (const name of logs?.processors ?? []) expect(config.processors[name]).toBeDefined();
    for (const name of logs?.exporters ?? []) expect(config.exporters[name]).toBeDefined();
    expect(config.receivers.webhookevent).toMatchObject({ endpoint: '0.0.0.0:8088', path: '/events' });
    expect(config.processors['transform/github']).toMatchObject({ error_mode: 'ignore' });
    expect(config.exporters['otlphttp/loki']).toMatchObject({
      endpoint: expect.stringMatching(/^\$\{env:LOKI_OTLP_ENDPOINT\}$/),
    });
    expect(collectorStatements(config).length).toBeGreaterThan(10);
  });

  it('labels a deployment status with the stream, state, environment, id and sha the API reads', () => {
    const payload = deploymentStatus(where, {
      sha: 'a'.repeat(40),
      state: 'failure',
      environment: 'production',
      createdAt: Date.parse('2026-11-30T10:00:00Z'),
      id: 42,
    });

    const record = run(payload);

    expect(record.errors).toEqual([]);
    expect(record.resource).toEqual({
      source: 'webhookevent',
      receiver: 'webhookevent',
      'service.namespace': 'github',
      'service.name': 'checkout',
    });
    expect(record.attributes).toEqual({
      'vcs.repository.name': 'checkout',
      'vcs.repository.owner': 'acme',
      'vcs.repository.url.full': 'https://github.com/acme/checkout',
      'event.name': 'deployment_created',
      'deployment.status': 'failure',
      'deployment.environment.name': 'production',
      'deployment.id': 42,
      'vcs.repository.ref.revision': 'a'.repeat(40),
    });
    expect(record.body).toBe(JSON.stringify(payload));
  });

  it('labels a merged pull request as a closed change with its merge time and commit', () => {
    const payload = mergedPullRequest(where, {
      sha: 'b'.repeat(40),
      mergedAt: Date.parse('2026-11-30T09:00:00Z'),
      title: 'Faster checkout',
    });

    const record = run(payload);

    expect(record.errors).toEqual([]);
    expect(record.attributes).toMatchObject({
      'event.name': 'change_closed',
      merged_at: '2026-11-30T09:00:00Z',
      merge_sha: 'b'.repeat(40),
      'vcs.repository.change.title': 'Faster checkout',
    });
  });

  it('labels issue events issue_<action> with their creation and closing times', () => {
    const createdAt = Date.parse('2026-11-30T11:00:00Z');
    const closedAt = Date.parse('2026-11-30T12:30:00Z');

    const opened = run(incidentIssue(where, { action: 'opened', number: 7, createdAt }));
    const closed = run(incidentIssue(where, { action: 'closed', number: 7, createdAt, closedAt }));

    expect(opened.errors).toEqual([]);
    expect(opened.attributes).toMatchObject({
      'event.name': 'issue_opened',
      created_at: '2026-11-30T11:00:00Z',
    });
    expect(opened.attributes).not.toHaveProperty('closed_at');
    expect(closed.attributes).toMatchObject({
      'event.name': 'issue_closed',
      closed_at: '2026-11-30T12:30:00Z',
    });
  });

  it('gives events the API does not read no event name: comments, unmerged or open pull requests', () => {
    const comment = run(example('issue_comment', 'created'));
    const opened = run(example('pull_request', 'opened'));
    const unmerged = mergedPullRequest(where, { sha: 'c'.repeat(40), mergedAt: Date.now() });
    unmerged.pull_request.merged = false;
    unmerged.pull_request.merged_at = null;

    const closedUnmerged = run(unmerged);

    expect(comment.attributes).not.toHaveProperty('event.name');
    expect(opened.attributes).not.toHaveProperty('event.name');
    expect(closedUnmerged.attributes).not.toHaveProperty('merged_at');
  });

  it('labels the team from a "team" custom property of the repository, when the organisation has one', () => {
    const payload = deploymentStatus(where, {
      sha: 'd'.repeat(40),
      state: 'success',
      environment: 'production',
      createdAt: Date.now(),
    });
    payload.repository.custom_properties = { team: 'payments' };

    const record = run(payload);

    expect(record.errors).toEqual([]);
    expect(record.attributes['team.name']).toBe('payments');
  });

  it('skips, without failing the delivery, a body that is not JSON', () => {
    const record = collect(collectorStatements(config), undefined);

    expect(record.attributes).toEqual({});
    expect(record.errors.length).toBeGreaterThan(0);
  });
});

describe('events written by the collector configuration, read through /data', () => {
  let restore: () => Promise<void>;
  let data: typeof DataHandler;
  const deployedAt = wholeSecondsNow() - 60 * MINUTE;
  const sha = 'e'.repeat(40);
  const at = (ms: number) => `${BigInt(ms + 1500) * 1_000_000n}`;

  beforeAll(async () => {
    const statements = collectorStatements(readCollectorConfig());
    const merge = collect(
      statements,
      mergedPullRequest(where, { sha, mergedAt: deployedAt - 25 * MINUTE, title: 'Faster checkout' }),
    );
    const deployment = collect(
      statements,
      deploymentStatus(where, { sha, state: 'success', environment: 'production', createdAt: deployedAt }),
    );
    const incidentAt = deployedAt + 10 * MINUTE;
    const incident = collect(
      statements,
      incidentIssue(where, { action: 'opened', number: 9, createdAt: incidentAt }),
    );
    ({ restore } = await useStandIns({
      entries: [
        lokiEntry(merge, at(deployedAt - 25 * MINUTE)),
        lokiEntry(deployment, at(deployedAt)),
        lokiEntry(incident, at(incidentAt)),
      ],
      org: 'acme',
      teams: [{ name: 'Payments', slug: 'payments', repositories: ['checkout'] }],
      env: { AUTH_JWT_SECRET: '' },
    }));
    ({ handler: data } = await import('../../functions/data'));
  });
  afterAll(async () => {
    await restore();
  });

  it('gives the deployment its pull request, its incident and its team', async () => {
    const records = await recordsOf(data, 'checkout', deployedAt - 60 * MINUTE, deployedAt + 60 * MINUTE);

    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      repository: 'checkout',
      team: 'Payments',
      sha,
      status: true,
      title: 'Faster checkout',
      merged_at: new Date(deployedAt - 25 * MINUTE).toISOString().replace('.000Z', 'Z'),
      failed_at: new Date(deployedAt + 10 * MINUTE).toISOString().replace('.000Z', 'Z'),
      fixed_at: null,
      issue_url: 'https://github.com/acme/checkout/issues/9',
    });
  });
});

describeWithFixtures('the collector configuration against the real collector events', () => {
  it('writes only label names the collector wrote in the real Loki fixtures', () => {
    const fixtureLabels = new Set(
      ['deployments.json', 'incidents.json', 'merges.json'].flatMap((file) =>
        (
          JSON.parse(readFileSync(path.join(FIXTURES_DIR, file), 'utf8')) as {
            data: { result: Array<{ stream: Record<string, string> }> };
          }
        ).data.result.flatMap((stream) => Object.keys(stream.stream)),
      ),
    );
    const now = Date.now();
    const records = [
      deploymentStatus(where, { sha: 'f'.repeat(40), state: 'success', environment: 'prod', createdAt: now }),
      mergedPullRequest(where, { sha: 'f'.repeat(40), mergedAt: now }),
      incidentIssue(where, { action: 'closed', number: 3, createdAt: now - MINUTE, closedAt: now }),
    ].map(run);

    const written = new Set(records.flatMap((record) => Object.keys(lokiEntry(record, '0').labels)));

    expect([...written].filter((name) => !fixtureLabels.has(name))).toEqual([]);
  });
});
