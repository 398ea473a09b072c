import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeWithRealLoki } from './real-loki';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

function runBench(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench.ts', ...args], {
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
}

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
    const { code, output } = await runBench(['--loki=real'], env);

    // Assert
    expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
    const caseLines = output.split('\n').filter((line) => /^ {2}(data|metrics) \d+ d /.test(line));
    expect(caseLines).toHaveLength(10);
    for (const line of caseLines) expect(line).toMatch(/: [\d.]+ m?s \(200\);/);
    expect(output).toContain('#### 12 repositories, 90 days (`bench-small`)');
    expect(output).toContain('#### 24 repositories, 30 days (`bench-org-24r-30d`)');
  }, 600_000);

  it('with --rollups fills a store on s3rver and reads every closed day of each request from it', async () => {
    // Arrange
    const outDir = mkdtempSync(path.join(tmpdir(), 'dora-bench-rollups-smoke-'));
    const out = path.join(outDir, 'real-rollups.json');
    const env = { ...process.env, LOKI_BENCH_URL: run().url, BENCH_REPOSITORIES: '24', BENCH_DAYS: '30' };

    try {
      // Act
      const { code, output } = await runBench(['--loki=real', '--rollups', `--out=${out}`], env);

      // Assert
      expect({ code, tail: output.slice(-2000) }).toEqual({ code: 0, tail: expect.any(String) });
      const { figures } = JSON.parse(readFileSync(out, 'utf8')) as {
        figures: {
          reads: Array<{ cold: { statusCode: number; rollups?: string } }>;
          store: { objects: number };
        };
      };
      expect(figures.store.objects).toBe(30);
      expect(figures.reads.map((read) => read.cold.statusCode)).toEqual([200, 200, 200, 200, 200]);
      for (const read of figures.reads) expect(read.cold.rollups).toMatch(/ loki=0 /);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  }, 600_000);
});
