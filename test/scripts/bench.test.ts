import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

interface BenchResults {
  latency: Array<{ route: string; days: number; scope: string; statusCodes: number[]; lokiLines: number }>;
  memory: Array<{ route: string; limit: string; statusCode?: number; peakRssBytes?: number; error?: string }>;
}

// `npm run bench` is a measurement, not a test; this only keeps it from rotting: the whole script runs
// end to end over a tiny organisation (its figures are not looked at).
describe('npm run bench', () => {
  let outDir: string;

  beforeAll(() => {
    outDir = mkdtempSync(path.join(tmpdir(), 'dora-bench-smoke-'));
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('measures both routes over a small organisation and writes its results', async () => {
    const out = path.join(outDir, 'results.json');

    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/bench.ts',
        '--quick',
        '--runs=1',
        '--no-bundles',
        '--lambda-memory=256',
        `--out=${out}`,
      ],
      { cwd: PROJECT_ROOT, env: { ...process.env, BENCH_REPOSITORIES: '4' }, maxBuffer: 16 * 1024 * 1024 },
    );

    expect(stdout).toContain('### Latency');
    expect(stdout).toContain('### Peak memory of one invocation');
    const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
    expect(results.latency).toHaveLength(2 * 2 * 3);
    for (const result of results.latency) {
      expect(result.statusCodes).toEqual([200]);
      expect(result.lokiLines).toBeGreaterThan(0);
    }
    expect(results.memory.map((probe) => [probe.route, probe.statusCode])).toEqual([
      ['data', 200],
      ['data', 200],
      ['metrics', 200],
      ['metrics', 200],
    ]);
    for (const probe of results.memory) expect(probe.peakRssBytes).toBeGreaterThan(0);
  }, 120_000);
});
