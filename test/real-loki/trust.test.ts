import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadIntoLoki, uniqueServiceNamespace } from '../../dev/real-loki';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import type { DeploymentRecord } from '../../lib/dora/types';
import { generateSample } from '../../lib/sample/generator';
import { setEnv } from '../helpers/environment';
import { expectedRecords, recordOf, withReopenedAndUnlabelledIssues } from '../helpers/incidents';
import { invoke } from '../helpers/lambda';
import { describeWithRealLoki } from './real-loki';

/**
 * The rules of open incidents, DORA's vocabulary, the per-repository summary and exclude_authors on the
 * real Loki, over a generated organisation of the last days (incidents of the last 3 days left open) with
 * incident issues closed and reopened, and unlabelled, as GitHub sends them. Loki is reached through a
 * proxy that counts the requests it receives.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REMAINING_MS = 600_000;

describeWithRealLoki('open incidents, vocabulary and per-repository summaries on the real Loki', (run) => {
  const namespace = uniqueServiceNamespace('dora-test-trust');
  const END = Math.floor(Date.now() / HOUR) * HOUR;
  const sample = generateSample({
    seed: 23,
    end: END,
    days: 5,
    repositories: 3,
    teams: 2,
    serviceNamespace: namespace,
    deploymentsPerRepositoryPerDay: 30,
    openIncidentDays: 3,
  });
  const context = { serviceNamespace: namespace, owner: sample.org, now: END, maxBackdateMs: DAY };

  const added = withReopenedAndUnlabelledIssues(
    sample.entries,
    { from: END - 3 * DAY, to: END - 2 * HOUR, end: END, quietMs: 10 * MINUTE },
    context,
  );
  const { reopenedOn, unlabelledOn } = added;
  const entries = added.entries.sort((a, b) =>
    BigInt(a.timestampNs) < BigInt(b.timestampNs)
      ? -1
      : BigInt(a.timestampNs) > BigInt(b.timestampNs)
        ? 1
        : 0,
  );

  let proxy: Server;
  let lokiRequests = 0;
  let restore: () => void;
  let data: typeof DataHandler;
  let summary: typeof SummaryHandler;

  beforeAll(async () => {
    await loadIntoLoki(run().url, entries);
    proxy = createServer((request, response) => {
      if (request.url?.includes('/query_range')) lokiRequests += 1;
      fetch(`${run().url}${request.url ?? ''}`)
        .then(async (answer) => {
          response.writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'text/plain',
          });
          response.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          response.writeHead(502);
          response.end();
        });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    restore = setEnv({
      LOKI_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
      SERVICE_NAME: namespace,
      GITHUB_ORG: '',
      GITHUB_TOKEN: '',
      AUTH_MODE: 'off',
      EXCLUDE_AUTHORS: '*[bot]',
      LOKI_TIMEOUT_MS: '120000',
    });
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
  });
  afterAll(async () => {
    restore?.();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  const start = END - 4 * DAY;
  const records = async () => {
    const body = { start: new Date(start).toISOString(), end: new Date(END).toISOString() };
    const response = await invoke(
      data,
      { method: 'POST', path: '/data', body, query: { no_cache: 'true' } },
      REMAINING_MS,
    );
    expect(response.statusCode).toBe(200);
    return (response.json as { records: DeploymentRecord[] }).records;
  };
  const getSummary = async (query: Record<string, string>) => {
    const today = new Date(END - 1).toISOString().slice(0, 10);
    const yesterday = new Date(END - DAY).toISOString().slice(0, 10);
    const response = await invoke(
      summary,
      { path: '/metrics/summary', query: { start_date: yesterday, end_date: today, ...query } },
      REMAINING_MS,
    );
    expect(response.statusCode).toBe(200);
    return response.json as {
      excluded_changes: number;
      metrics: Record<string, Record<string, unknown>>;
      throughput: Record<string, unknown>;
      instability: Record<string, unknown>;
      repositories?: Array<{ repository: string; metrics: Record<string, Record<string, unknown>> }>;
    };
  };

  it('answers the records built from every event, incidents still open with fixed_at null', async () => {
    const expected = expectedRecords(entries, start, END);

    const answered = await records();

    expect(answered).toEqual(expected);
    const open = answered.filter((record) => record.issue_url !== null && record.fixed_at === null);
    expect(open.length).toBeGreaterThan(0);
    for (const record of open) expect(record).toMatchObject({ status: true, fixed_url: null });
  });

  it('reads a closed then reopened incident as open, and one whose label was removed as no incident', async () => {
    if (!reopenedOn || !unlabelledOn) throw new Error('the organisation has two quiet deployments');

    const answered = await records();

    expect(recordOf(answered, reopenedOn)).toMatchObject({
      fixed_at: null,
      issue_url: expect.stringMatching(/\/issues\/90001$/),
    });
    expect(recordOf(answered, reopenedOn)?.failed_at).not.toBeNull();
    expect(recordOf(answered, unlabelledOn)).toMatchObject({ failed_at: null, issue_url: null });
  });

  it('splits the summary per repository from the same Loki requests, each equal to its own summary', async () => {
    const before = lokiRequests;
    const blended = await getSummary({ no_cache: 'true' });
    const blendedRequests = lokiRequests - before;
    const grouped = await getSummary({ no_cache: 'true', group_by: 'repository' });
    const groupedRequests = lokiRequests - before - blendedRequests;

    expect(blendedRequests).toBeGreaterThan(0);
    expect(groupedRequests).toBe(blendedRequests);
    expect(grouped.metrics).toEqual(blended.metrics);
    expect(grouped.repositories?.map((entry) => entry.repository).sort()).toEqual(
      sample.teams.flatMap((team) => team.repositories).sort(),
    );
    for (const entry of grouped.repositories ?? []) {
      const alone = await getSummary({ repositories: entry.repository });
      for (const [name, metric] of Object.entries(alone.metrics)) {
        const { dora_name, category, definition, definition_url, ...numbers } = metric;
        expect(entry.metrics[name]).toEqual(numbers);
      }
    }
  });

  it("answers DORA's groups and the recovery alias with the old keys' values", async () => {
    const body = await getSummary({});

    expect(body.metrics.failed_deployment_recovery_time).toEqual(body.metrics.time_to_restore_service);
    expect(body.throughput.failed_deployment_recovery_time).toEqual(body.metrics.time_to_restore_service);
    expect(body.instability.change_failure_rate).toEqual(body.metrics.change_failure_rate);
  });

  it('applies EXCLUDE_AUTHORS without the parameter, and excludes nobody for exclude_authors=', async () => {
    const setting = await getSummary({});
    const nobody = await getSummary({ exclude_authors: '' });

    expect(setting.excluded_changes).toBeGreaterThan(0);
    expect(nobody.excluded_changes).toBe(0);
    expect(nobody.metrics.lead_time_for_changes?.count).toBeGreaterThan(
      setting.metrics.lead_time_for_changes?.count as number,
    );
  });
});
