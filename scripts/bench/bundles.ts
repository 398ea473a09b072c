import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageStagingEnv } from '../../dev/package-staging';
import { median } from './stats';

export interface BundleFigures {
  name: string;
  zipBytes: number;
  /** The handler's JavaScript alone (the zip also holds its source map). */
  jsBytes: number;
  /** require() of the built file in a fresh Node process, median over the runs. */
  coldInitMs: number;
  /** The same with NODE_OPTIONS=--enable-source-maps (off in serverless.yml; operators may turn it on). */
  coldInitWithSourceMapsMs: number;
}

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** `serverless package` into a temporary folder (the project's own .serverless/ is left alone); the caller removes it. */
export function packageFunctions(): string {
  const target = mkdtempSync(path.join(tmpdir(), 'dora-bench-package-'));
  execFileSync('npx', ['serverless', 'package', '--package', target], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...packageStagingEnv(target) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return target;
}

/** Time to require `file` (a path or a package) in a fresh process, measured inside it (start-up excluded). */
function timeRequireOnce(file: string, sourceMaps: boolean): number {
  const script = `const t=performance.now();require(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t))`;
  const result = spawnSync(
    process.execPath,
    [...(sourceMaps ? ['--enable-source-maps'] : []), '-e', script],
    {
      // The AWS SDK is left out of the bundles: Lambda's runtime provides it, here the project's copy stands in.
      env: {
        PATH: process.env.PATH,
        NODE_PATH: path.join(PROJECT_ROOT, 'node_modules'),
        AWS_REGION: 'eu-west-1',
      },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`require(${file}) failed: ${result.stderr}`);
  return Number(result.stdout);
}

export function measureBundles(packageDir: string, runs: number): BundleFigures[] {
  const zips = readdirSync(packageDir).filter((name) => name.endsWith('.zip'));
  return zips.map((zip) => {
    const name = zip.replace(/\.zip$/, '');
    const unpacked = mkdtempSync(path.join(tmpdir(), `dora-bench-${name}-`));
    try {
      execFileSync('unzip', ['-q', '-o', path.join(packageDir, zip), '-d', unpacked]);
      // The function's name in serverless.yml need not be its file's: take the one handler the zip holds.
      const handlerFile = readdirSync(path.join(unpacked, 'functions')).find((file) => file.endsWith('.js'));
      if (handlerFile === undefined) throw new Error(`${zip} holds no functions/*.js`);
      const jsFile = path.join(unpacked, 'functions', handlerFile);
      const times = (sourceMaps: boolean) =>
        median(Array.from({ length: runs }, () => timeRequireOnce(jsFile, sourceMaps)));
      return {
        name,
        zipBytes: statSync(path.join(packageDir, zip)).size,
        jsBytes: statSync(jsFile).size,
        coldInitMs: times(false),
        coldInitWithSourceMapsMs: times(true),
      };
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
  });
}

/**
 * What the first request that reads secrets from SSM adds to a cold start: functions load the SSM client
 * then (lib/secrets.ts), not at initialisation. Median over `runs` fresh processes.
 */
export function measureSsmClientLoad(runs: number): number {
  return median(Array.from({ length: runs }, () => timeRequireOnce('@aws-sdk/client-ssm', false)));
}
