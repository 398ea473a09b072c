import { computeMetric } from '../../lib/dora/metrics';
import { buildDeployments } from '../../lib/dora/records';
import type { EventBatch, TimeRange } from '../../lib/dora/types';
import { at, batch, deployment, merge } from './builders';

/**
 * `/metrics` builds the records of its period and of the look-around before it from the events read
 * from the look-around's start. Events before it are not read, so at the look-around's very start a
 * record can lack what came just before it: these pin down what the period's answer then is. Reading a
 * further look-around back (as the client once did) only moved the same edge 30 days earlier.
 */

const DAY = 86_400_000;
const LOOKAROUND = 30 * DAY;
const PERIOD: TimeRange = { start: at('2024-10-01T00:00:00Z'), end: at('2024-10-31T00:00:00Z') };
const RECORDS: TimeRange = { start: PERIOD.start - LOOKAROUND, end: PERIOD.end };

/** The events `/metrics` reads: from the look-around's start (every event given ends within the period). */
function readFromLookaround(events: EventBatch): EventBatch {
  const after = (time: number) => time >= RECORDS.start;
  return {
    deployments: events.deployments.filter((event) => after(event.createdAt)),
    incidents: events.incidents.filter((event) => after(event.createdAt)),
    merges: events.merges.filter((event) => after(event.mergedAt)),
  };
}

function metricOf(name: 'lead_time_for_changes' | 'time_to_restore_service', events: EventBatch) {
  const deployments = buildDeployments(events, { window: RECORDS, productionEnvironments: ['production'] });
  const merges = events.merges.filter((event) => event.mergedAt >= RECORDS.start);
  return computeMetric(name, { deployments, merges, range: PERIOD, interval: 'all' })[0];
}

describe('records at the start of the look-around before a period', () => {
  it('take a re-run just inside the look-around of a deployment before it for a deployment of its own', () => {
    // Arrange: `old` deployed just before the look-around, run again just inside it; `new` merged in
    // between and deployed in the period.
    const events = batch({
      merges: [
        merge({ sha: 'old', mergedAt: '2024-08-31T10:00:00Z' }),
        merge({ sha: 'new', mergedAt: '2024-09-01T01:00:00Z' }),
      ],
      deployments: [
        deployment({ sha: 'old', createdAt: '2024-08-31T12:00:00Z' }),
        deployment({ sha: 'old', createdAt: '2024-09-01T02:00:00Z' }),
        deployment({ sha: 'new', createdAt: '2024-10-02T10:00:00Z' }),
      ],
    });

    // Act
    const read = metricOf('lead_time_for_changes', readFromLookaround(events));
    const furtherBack = metricOf('lead_time_for_changes', events);

    // Assert: the re-run's commit is unknown, so it ships what was merged before it; with its first run
    // read, the period's deployment would have delivered `new`.
    expect(read).toMatchObject({ count: 0, value: null });
    expect(furtherBack).toMatchObject({ count: 1 });
  });

  it('count a failure run again just inside the look-around and fixed in the period as restored there', () => {
    const events = batch({
      deployments: [
        deployment({ sha: 'bad', state: 'failure', createdAt: '2024-08-31T23:00:00Z' }),
        deployment({ sha: 'bad', state: 'failure', createdAt: '2024-09-01T01:00:00Z' }),
        deployment({ sha: 'fix', createdAt: '2024-10-01T01:00:00Z' }),
      ],
    });

    const read = metricOf('time_to_restore_service', readFromLookaround(events));
    const furtherBack = metricOf('time_to_restore_service', events);

    // The restore is counted from the first failure read; reading further back, the first run is before the
    // records and the second a repeat of it, and the restore goes uncounted.
    expect(read).toMatchObject({ count: 1, value: 30 * 86_400 });
    expect(furtherBack).toMatchObject({ count: 0 });
  });
});
