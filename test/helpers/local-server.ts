import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

/** Helpers of the suites that start the API as `npm start` does (test/dev, test/browser). */

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
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
 * not turn into a Lambda timeout; these suites are about the wiring, not about speed.
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
