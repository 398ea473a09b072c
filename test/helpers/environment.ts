import { type LokiServer, type LokiServerOptions, startLokiServer } from '../../dev/loki-server';
import { resetConfigForTests } from '../../lib/config';

/**
 * Points the API at a Loki stand-in on an ephemeral loopback port, with the given settings, and
 * puts the environment back afterwards. Handlers read their configuration on first use, so tests
 * call this before invoking them.
 */
export async function useLokiStandIn(
  options: LokiServerOptions = {},
  env: Record<string, string> = {},
): Promise<{ loki: LokiServer; restore: () => Promise<void> }> {
  const loki = await startLokiServer(options);
  const restoreEnv = setEnv({ LOKI_URL: loki.url, ...env });
  return {
    loki,
    restore: async () => {
      restoreEnv();
      await loki.close();
    },
  };
}

/** Sets environment variables (an empty string unsets one) and returns the function that restores them. */
export function setEnv(env: Record<string, string>): () => void {
  const previous = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(env)) {
    if (value === '') delete process.env[name];
    else process.env[name] = value;
  }
  resetConfigForTests();
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetConfigForTests();
  };
}
