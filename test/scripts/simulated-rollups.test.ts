import { runSimulatedRollupsBench } from '../../scripts/bench/simulated-rollups';

// `npm run bench -- --rollups --simulate`: the days it writes straight into s3rver must be the days the read
// path looks for (its selection, its keys, its format), or every read would go to Loki and its figures
// would say nothing about the store.
describe('the store simulation of the benchmark', () => {
  it('writes every day the reads need, so that each read finds all its closed days in the store, as days and as months', async () => {
    // Arrange: a small organisation over 20 days (its summary reads about 70).

    // Act
    const { figures, report } = await runSimulatedRollupsBench({ repositories: 6, days: 20 });

    // Assert
    expect(figures.failures).toEqual([]);
    expect(figures.events).toBeGreaterThan(0);
    expect(figures.store.objects).toBe(figures.days);
    expect(figures.reads).toHaveLength(5);
    expect(figures.monthReads).toHaveLength(5);
    expect(figures.compaction.months).toBeGreaterThanOrEqual(2);
    for (const read of [...figures.reads, ...figures.monthReads]) {
      expect(read.cold.statusCode).toBe(200);
      expect(read.cold.rollups).toMatch(/^memory=0 store=[1-9]\d* loki=0 open=\d+/);
      expect(read.coldCounts.s3.requests.GET).toBeGreaterThan(0);
    }
    expect(report).toContain('per repository-year');
  }, 120_000);
});
