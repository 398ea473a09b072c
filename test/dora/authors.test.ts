import { authorMatcher, excludeAuthors } from '../../lib/dora/authors';
import { computeMetric } from '../../lib/dora/metrics';
import { buildDeployments } from '../../lib/dora/records';
import { at, batch, deployment, merge } from './builders';

const range = { start: at('2024-09-02T00:00:00Z'), end: at('2024-09-03T00:00:00Z') };

/** A human change shipped by a bot's deployment, the bot's failing change, then a human fix. */
function scenario() {
  const merges = [
    merge({ sha: 'human1', user: 'alice', mergedAt: at('2024-09-02T08:00:00Z') }),
    merge({ sha: 'bot1', user: 'renovate[bot]', mergedAt: at('2024-09-02T09:00:00Z') }),
    merge({ sha: 'human2', user: 'bob', mergedAt: at('2024-09-02T11:00:00Z') }),
  ];
  const deployments = buildDeployments(
    batch({
      deployments: [
        deployment({ sha: 'bot1', state: 'failure', createdAt: '2024-09-02T10:00:00Z' }),
        deployment({ sha: 'human2', createdAt: '2024-09-02T12:00:00Z' }),
      ],
      merges,
    }),
    { window: range, productionEnvironments: ['production'] },
  );
  return { deployments, merges };
}

function metric(name: Parameters<typeof computeMetric>[0], input: ReturnType<typeof excludeAuthors>) {
  return computeMetric(name, { ...input, range, interval: 'all' })[0];
}

describe('authorMatcher', () => {
  it('matches GitHub App logins with a literal [bot] suffix and prefixes, ignoring case', () => {
    const isExcluded = authorMatcher(['*[bot]', 'renovate*']);

    expect(isExcluded('dependabot[bot]')).toBe(true);
    expect(isExcluded('Renovate-Self-Hosted')).toBe(true);
    expect(isExcluded('bob')).toBe(false);
    expect(isExcluded(null)).toBe(false);
  });

  it('excludes nobody without globs', () => {
    expect(authorMatcher([])('dependabot[bot]')).toBe(false);
  });
});

describe('excludeAuthors', () => {
  it('with scope lead-time leaves only the bot change out of lead time and counts it', () => {
    const result = excludeAuthors(scenario(), authorMatcher(['*[bot]']), 'lead-time', range);

    expect(result.excludedChanges).toBe(1);
    // The bot's deployment failed, so alice (4 h) and bob (1 h) ship at 12:00: median 2.5 h.
    expect(metric('lead_time_for_changes', result)).toMatchObject({ count: 2, value: 9000 });
    expect(metric('change_failure_rate', result)).toMatchObject({ count: 2, failed: 1 });
  });

  it('with scope all also leaves the failed bot deployment out of change fail rate', () => {
    const result = excludeAuthors(scenario(), authorMatcher(['*[bot]']), 'all', range);

    expect(result.excludedChanges).toBe(1);
    expect(metric('lead_time_for_changes', result)).toMatchObject({ count: 2, value: 9000 });
    expect(metric('change_failure_rate', result)).toMatchObject({ count: 1, failed: 0 });
  });

  it('changes nothing without globs', () => {
    const input = scenario();
    const result = excludeAuthors(input, authorMatcher([]), 'all', range);

    expect(result.excludedChanges).toBe(0);
    expect(result.deployments).toEqual(input.deployments);
    expect(result.merges).toEqual(input.merges);
  });
});
