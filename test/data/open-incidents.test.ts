import type { DeploymentRecord } from '../../lib/dora/types';
import type { WriteContext } from '../../lib/events/entries';
import { generateSample } from '../../lib/sample/generator';
import { useMetricsRoutes } from '../helpers/environment';
import { expectedRecords, recordOf, withReopenedAndUnlabelledIssues } from '../helpers/incidents';
import { invoke } from '../helpers/lambda';

/**
 * Incident issues as GitHub shows them, on the generator's organisation: an issue still open marks its
 * deployment failed now with recovery pending; reopened is open again; an issue whose incident label was
 * removed is no incident.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({
  seed: 11,
  end: END,
  days: 60,
  repositories: 5,
  teams: 2,
  openIncidentDays: 7,
});
const context: WriteContext = { serviceNamespace: 'github', owner: sample.org, now: END, maxBackdateMs: DAY };

/** Issues on successful deployments of the last 20 days with no generated incident and a quiet hour after them. */
const { entries, reopenedOn, unlabelledOn } = withReopenedAndUnlabelledIssues(
  sample.entries,
  { from: END - 20 * DAY, end: END, quietMs: 60 * MINUTE },
  context,
);
if (!reopenedOn || !unlabelledOn) throw new Error('the sample has quiet deployments');

describe('open, reopened and relabelled incident issues on the generated organisation', () => {
  const routes = useMetricsRoutes(entries, { LOOKAROUND_DAYS: '30' });

  const start = END - 30 * DAY;
  const window = { start: new Date(start).toISOString(), end: new Date(END).toISOString() };
  const records = async () =>
    (
      (await invoke(routes.data, { method: 'POST', path: '/data', body: window })).json as {
        records: DeploymentRecord[];
      }
    ).records;

  it('marks the deployment of an incident still open as failed now, fixed_at null, also behind later deployments', async () => {
    expect(sample.counts.openIncidents).toBeGreaterThan(0);

    const answered = await records();

    expect(answered).toEqual(expectedRecords(entries, start, END));
    const open = answered.filter((record) => record.issue_url !== null && record.fixed_at === null);
    expect(open.length).toBeGreaterThanOrEqual(sample.counts.openIncidents);
    for (const record of open) {
      expect(record).toMatchObject({ status: true, fixed_url: null });
      expect(record.failed_at).not.toBeNull();
    }
    // At least one of them has healthy deployments of its repository after it, which did not restore it.
    expect(
      open.some((record) =>
        answered.some(
          (other) =>
            other.repository === record.repository &&
            other.created_at > record.created_at &&
            other.failed_at === null,
        ),
      ),
    ).toBe(true);
  });

  it('reads an incident closed and reopened as open again, and one whose label was removed as no incident', async () => {
    const answered = await records();

    expect(recordOf(answered, reopenedOn)).toMatchObject({
      failed_at: new Date(reopenedOn.createdAt + 5 * MINUTE).toISOString().replace('.000Z', 'Z'),
      fixed_at: null,
      issue_url: expect.stringMatching(/\/issues\/90001$/),
    });
    expect(recordOf(answered, unlabelledOn)).toMatchObject({ failed_at: null, issue_url: null });
  });

  it('counts open incidents in change fail rate and as open in recovery time', async () => {
    const answered = await records();
    const period = { start_date: new Date(start).toISOString().slice(0, 10), end_date: '2026-11-26' };

    const response = await invoke(routes.summary, { path: '/metrics/summary', query: period });

    const metrics = (response.json as { metrics: Record<string, { failed?: number; open?: number }> })
      .metrics;
    const openFailures = answered.filter((record) => record.failed_at !== null && record.fixed_at === null);
    expect(metrics.change_failure_rate?.failed).toBe(
      answered.filter((record) => record.failed_at !== null).length,
    );
    expect(metrics.time_to_restore_service?.open).toBe(openFailures.length);
  });
});
