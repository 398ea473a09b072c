import { spawn } from 'node:child_process';
import path from 'node:path';
import { describeWithRealLoki } from './real-loki';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/**
 * `npm run bench -- --loki=real` end to end, on a small organisation (BENCH_REPOSITORIES=24 and BENCH_DAYS=30
 * instead of 300 and 365, in a namespace of its own) so that it runs in about a minute: it loads both organisations into the
 * suite's Loki, measures every case beside its floors and prints the tables. What it measures is not
 * checked here (timings are the benchmark's business), only that every case is asked and answered.
 */
describeWithRealLoki('npm run bench -- --loki=real', (run) => {
  it('loads its organisations, answers every case with 200 and prints a table per organisation', async () => {
    // Arrange
    const env = { ...process.env, LOKI_BENCH_URL: run().url, BENCH_REPOSITORIES: '24', BENCH_DAYS: '30' };

    // Act
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', '--loki=real'], {
        cwd: PROJECT_ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      child.on('close', (exitCode) => resolve({ code: exitCode, output: text }));
    });

    // Assert
    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
    const caseLines = output.split('\n').filter((line) => /^ {2}(data|metrics) \d+ d /.test(line));
    expect(caseLines).toHaveLength(10);
    for (const line of caseLines) expect(line).toMatch(/: [\d.]+ m?s \(200\);/);
    expect(output).toContain('#### 12 repositories, 90 days (`bench-small`)');
    expect(output).toContain('#### 24 repositories, 30 days (`bench-org-24r-30d`)');
  }, 600_000);
});
