import { computeMetric, deliveries } from '../../lib/dora/metrics';
import { buildDeployments } from '../../lib/dora/records';
import type { EventBatch } from '../../lib/dora/types';
import { describeWithFixtures, fixtureEvents } from '../helpers/fixtures';

describeWithFixtures('metrics over the real Loki fixtures', () => {
  // The fixtures span 2024-08-29 to 2024-09-15.
  const range = { start: Date.UTC(2024, 7, 29), end: Date.UTC(2024, 8, 16) };
  let events: EventBatch;

  beforeAll(() => {
    events = fixtureEvents();
  });

  const productionOnly = () =>
    buildDeployments(events, { window: range, productionEnvironments: ['production', 'prod'] });

  it('counts only the production deployments: 8, of which 7 succeeded over 18 days', () => {
    const deployments = productionOnly();

    const [frequency] = computeMetric('deployment_frequency', {
      deployments,
      merges: events.merges,
      range,
      interval: 'all',
    });
    const [failureRate] = computeMetric('change_failure_rate', {
      deployments,
      merges: events.merges,
      range,
      interval: 'all',
    });

    expect(frequency).toEqual({ date: null, value: 7 / 18, count: 7, days: 18 });
    expect(failureRate).toEqual({ date: null, value: 1 / 8, count: 8, failed: 1 });
  });

  it('restores the one failed clockwork deployment with the next healthy one, 4 h 24 min later', () => {
    const deployments = productionOnly();

    const [restore] = computeMetric('time_to_restore_service', {
      deployments,
      merges: events.merges,
      range,
      interval: 'all',
    });
    const [rework] = computeMetric('rework_rate', {
      deployments,
      merges: events.merges,
      range,
      interval: 'all',
    });

    expect(restore).toMatchObject({ value: 4 * 3600 + 24 * 60, count: 1, open: 0 });
    expect(rework).toEqual({ date: null, value: 1 / 8, count: 8, rework: 1 });
  });

  it('delivers far more pull requests than the deployments whose sha is a merge commit', () => {
    const deployments = productionOnly();

    const delivered = deliveries(deployments, events.merges);

    const bySha = deployments.filter((deployment) => deployment.success && deployment.merge !== null).length;
    expect(bySha).toBeLessThan(5);
    expect(delivered.length).toBeGreaterThan(bySha * 5);
    expect(delivered.every((delivery) => delivery.deliveredAt >= delivery.mergedAt)).toBe(true);
    expect(
      delivered.every((delivery) =>
        ['production', 'prod'].includes(delivery.deployment.environment.toLowerCase()),
      ),
    ).toBe(true);
  });
});
