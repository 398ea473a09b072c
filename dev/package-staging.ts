import path from 'node:path';

/**
 * Environment for a `serverless package` (or deploy) writing into `outDir`: serverless-esbuild 1.57.2 stages
 * each function's zip in a folder under the system temp folder and never removes it (its release is a
 * non-recursive remove whose failure it swallows: floydspace/serverless-esbuild#589), ~1 MB per function per
 * run. Pointing TMPDIR inside `outDir` puts that staging where removing `outDir` takes it along.
 */
export function packageStagingEnv(outDir: string): { TMPDIR: string } {
  return { TMPDIR: path.join(outDir, '.zip-staging') };
}
