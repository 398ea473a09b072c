import type { Handler } from './invocations';
import { invokeCase, type Route } from './invocations';

/**
 * Child process (plain Node, no tsx): one invocation over the whole organisation and year with the
 * function built the way serverless-esbuild builds it, reporting peak resident memory as Lambda
 * would count it. The stand-ins run in another process.
 */
export interface MemoryProbeResult {
  route: Route;
  statusCode: number;
  responseBytes: number;
  /** Resident memory once the function is loaded, before the invocation. */
  rssAfterInitBytes: number;
  /** Peak resident memory of the process over its whole life. */
  peakRssBytes: number;
  durationMs: number;
}

async function main(): Promise<void> {
  const route = (process.env.BENCH_PROBE_ROUTE ?? 'data') as Route;
  const bundle = process.env.BENCH_PROBE_BUNDLE;
  if (bundle === undefined) throw new Error('BENCH_PROBE_BUNDLE must name the built handler');
  const { handler } = require(bundle) as { handler: Handler };
  const rssAfterInitBytes = process.memoryUsage.rss();
  const startedAt = performance.now();
  const response = await invokeCase(handler, { route, days: 365, scope: 'organisation' });
  const result: MemoryProbeResult = {
    route,
    statusCode: response.statusCode,
    responseBytes: Buffer.byteLength(response.body ?? ''),
    rssAfterInitBytes,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    durationMs: performance.now() - startedAt,
  };
  process.send?.(result);
  process.disconnect?.();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
