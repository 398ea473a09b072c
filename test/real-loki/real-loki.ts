import { LOKI_DEFAULT_LIMITS, type LokiLimits } from '../../dev/real-loki';

/**
 * What the real-Loki suite's global setup hands to its test files (through the environment, which jest's
 * workers inherit), and the `describe` that skips with one message when there is no real Loki.
 */

export interface RealLokiRun {
  url: string;
  /** The `service_namespace` of the organisation loaded for this run (SERVICE_NAME). */
  serviceNamespace: string;
  /** That Loki's limits (its `GET /config`), which the expectations follow. */
  limits: LokiLimits;
}

export function realLokiRun(): RealLokiRun | undefined {
  const url = process.env.REAL_LOKI_URL;
  const serviceNamespace = process.env.REAL_LOKI_NAMESPACE;
  const limits = process.env.REAL_LOKI_LIMITS;
  return url && serviceNamespace
    ? { url, serviceNamespace, limits: limits ? (JSON.parse(limits) as LokiLimits) : LOKI_DEFAULT_LIMITS }
    : undefined;
}

/** The limits of the suite's Loki when there is one (test names and skips are decided before it runs). */
export function realLokiLimits(): LokiLimits {
  return realLokiRun()?.limits ?? LOKI_DEFAULT_LIMITS;
}

/** `describe` when the global setup found or started a real Loki; otherwise skipped (the setup said why). */
export function describeWithRealLoki(name: string, fn: (run: () => RealLokiRun) => void): void {
  const run = realLokiRun();
  const get = () => {
    if (run === undefined) throw new Error('no real Loki');
    return run;
  };
  if (run === undefined) describe.skip(name, () => fn(get));
  else describe(name, () => fn(get));
}

/** LOKI_TEST_PORT: where a Loki started by the suite listens (a port, or a range such as 3210-3229). */
export function lokiTestPort(): number | [number, number] | undefined {
  const value = process.env.LOKI_TEST_PORT?.trim();
  if (!value) return undefined;
  const [from, to] = value.split('-').map(Number);
  if (!Number.isInteger(from) || (to !== undefined && !Number.isInteger(to))) {
    throw new Error(`LOKI_TEST_PORT must be a port or a range like 3210-3229, not "${value}"`);
  }
  return to === undefined ? (from as number) : [from as number, to];
}
