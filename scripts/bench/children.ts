import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';

/** Runs one of the benchmark's TypeScript files in its own Node process (through tsx). */
export function forkScript(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  execArgv: string[] = [],
): ChildProcess {
  return fork(path.join(__dirname, file), [], {
    env,
    execArgv: ['--import', 'tsx', ...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The first message the child sends; fails if it exits first. */
export function firstMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${child.spawnfile} exited with ${code} before answering`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  // A child killed by a signal (a crash on running out of heap) has a signalCode and no exitCode.
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * The V8 heap settings Lambda's Node.js runtime starts a function with (its bootstrap gives a tenth of
 * the memory to the young generation, half of that per semi-space, and the rest to the old generation):
 * with them the probe collects garbage as a function of that size would.
 */
export function lambdaHeapFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memoryMb - newSpace}`];
}
