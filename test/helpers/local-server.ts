import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import path from 'node:path';
import { freePort } from '../../dev/ports';

/**
 * `npm start` (tsx dev/start.ts: serverless offline over the Loki imitation and the GitHub stand-in) as the
 * clients meet it: over HTTP on a free loopback port. Slow to start (serverless and esbuild), so a suite starts
 * one and shares it.
 */

export const ROOT = path.resolve(__dirname, '../..');

export { freePort };

export function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Until GET /health answers 200; fails with the process's output when it exits or never answers. */
export async function waitForHealth(
  baseUrl: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs = 75_000,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (Date.now() < giveUpAt) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`/health never answered 200:\n${output()}`);
}

export interface NpmStart {
  child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** Its exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/**
 * `tsx dev/start.ts` (what `npm start` runs) in its own process group, printing into a buffer.
 * --noTimeout (passed on to serverless offline): a first request's cold start on a busy machine must
 * not turn into a Lambda timeout; these suites are about behaviour, not speed.
 */
export function spawnNpmStart(root: string, env: NodeJS.ProcessEnv): NpmStart {
  let output = '';
  const child = spawn(path.join(root, 'node_modules', '.bin', 'tsx'), ['dev/start.ts', '--noTimeout'], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export interface LocalServer {
  baseUrl: string;
  port: number;
  child: ChildProcess;
  /** Everything npm start and serverless offline printed so far. */
  output(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Stops npm start and all it started (serverless, esbuild, the stand-ins); resolves once it has exited. */
  kill(): Promise<void>;
}

/**
 * Starts `npm start` on a free port and waits until GET /health answers. `env` wins over the developer's
 * .env (an empty value unsets a setting there); LOKI_URL, GITHUB_TOKEN and GITHUB_ORG are emptied so the
 * stand-ins serve the generated events unless the caller says otherwise.
 */
export async function startLocalServer(
  env: Record<string, string> = {},
  options: { port?: number } = {},
): Promise<LocalServer> {
  const port = options.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const { child, output, exited } = spawnNpmStart(ROOT, {
    ...process.env,
    LOKI_URL: '',
    GITHUB_TOKEN: '',
    GITHUB_ORG: '',
    AUTH_MODE: '',
    AUTH_JWT_SECRET: '',
    OFFLINE_LAMBDA_PORT: '',
    ...env,
    PORT: String(port),
  });
  // SIGTERM first: npm start then stops serverless offline's own process group and the stand-ins; SIGKILL
  // after a grace period for whatever is left of its group.
  const kill = () => {
    if (child.pid === undefined || child.exitCode !== null) return Promise.resolve();
    const group = child.pid;
    const signal = (name: NodeJS.Signals) => {
      try {
        process.kill(-group, name);
      } catch {
        // Already gone.
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 8_000);
    return exited.then(() => clearTimeout(timer));
  };
  try {
    await waitForHealth(baseUrl, child, output);
  } catch (error) {
    await kill();
    throw error;
  }
  return { baseUrl, port, child, output, exited, kill };
}
