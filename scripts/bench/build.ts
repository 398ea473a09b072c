import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/**
 * Builds a function and the memory probe the way serverless.yml's custom.esbuild does (bundled, CommonJS,
 * the AWS SDK left to the runtime), so that the probe measures the code Lambda runs, not tsx.
 */
export function buildForProbe(routes: readonly string[]): {
  dir: string;
  probe: string;
  handlers: Record<string, string>;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'dora-bench-build-'));
  const entryPoints = Object.fromEntries([
    ...routes.map((route) => [route, path.join(PROJECT_ROOT, 'functions', `${route}.ts`)]),
    ['memory-probe', path.join(__dirname, 'memory-probe.ts')],
  ]);
  buildSync({
    entryPoints,
    outdir: dir,
    bundle: true,
    minifyWhitespace: true,
    minifySyntax: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['@aws-sdk/*'],
    logLevel: 'error',
  });
  return {
    dir,
    probe: path.join(dir, 'memory-probe.js'),
    handlers: Object.fromEntries(routes.map((route) => [route, path.join(dir, `${route}.js`)])),
  };
}
