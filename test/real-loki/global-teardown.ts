import type { RealLoki } from '../../dev/real-loki';

/** Stops the Loki the global setup started (by its PID); a Loki at LOKI_TEST_URL is left running. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { realLoki?: RealLoki }).realLoki?.stop();
}
