import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLokiWriter, INDEX_LABELS, type LokiWriter } from '../lib/loki/push';
import type { LokiEntry } from '../lib/loki/types';

/**
 * A real Grafana Loki for the real-Loki test suite (`npm run test:loki`) and the benchmark: the one at
 * LOKI_TEST_URL, else one started with the workspace's `../shared/tools/loki/start-loki.sh` on a free
 * port and stopped by its PID, else none (the caller skips, saying why). Data is loaded the way that
 * tool's README says past data must be: through the project's own push client (lib/loki/push.ts), each
 * stream in time order, then `POST /flush`.
 */

const PROJECT_ROOT = path.resolve(__dirname, '..');
/** The workspace's Loki 3.7.6 binary and its start script; beside a clone in CI, absent on a user's machine. */
export const LOKI_TOOLS_DIR = path.resolve(PROJECT_ROOT, '../shared/tools/loki');
export const START_LOKI_SCRIPT = path.join(LOKI_TOOLS_DIR, 'start-loki.sh');
/** start-loki.sh puts Loki's gRPC port this far above its HTTP port; both must be free. */
const GRPC_PORT_OFFSET = 6000;

export type RealLokiSource =
  | { kind: 'url'; url: string }
  | { kind: 'script'; script: string }
  | { kind: 'none'; reason: string };

/** Where a real Loki comes from: LOKI_TEST_URL first, then the workspace's start script. */
export function findRealLoki(env: NodeJS.ProcessEnv = process.env): RealLokiSource {
  const url = env.LOKI_TEST_URL?.trim();
  if (url) return { kind: 'url', url: url.replace(/\/+$/, '') };
  if (existsSync(START_LOKI_SCRIPT)) return { kind: 'script', script: START_LOKI_SCRIPT };
  return {
    kind: 'none',
    reason:
      `no real Loki: LOKI_TEST_URL is not set and ${path.relative(PROJECT_ROOT, START_LOKI_SCRIPT)} is absent ` +
      '(it ships with the workspace, not with a clone); set LOKI_TEST_URL to a Loki 3.x with structured ' +
      'metadata on and old samples accepted',
  };
}

export interface RealLoki {
  url: string;
  /** The PID of the Loki this module started; undefined for LOKI_TEST_URL's Loki, which is never stopped. */
  pid: number | undefined;
  /** The folder with Loki's config, data and log (loki.log) when started here. */
  dir: string | undefined;
  /** Stops the Loki started here (SIGTERM, then SIGKILL) and removes its folder; nothing for LOKI_TEST_URL. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** An HTTP port, or an inclusive range to take the first free one from; default any free port. */
  port?: number | readonly [number, number];
  /** Folder for config, data and log; default a new folder under the system's temp folder. */
  dir?: string;
  /** Loki's embedded results cache, as most production Lokis run (off by default, like the tool). */
  resultsCache?: boolean;
  /** Keep the folder after stop (to read loki.log). */
  keepDir?: boolean;
}

/** LOKI_TEST_URL's Loki (checked to be ready), else one started here; undefined when neither exists. */
export async function useRealLoki(
  options: StartOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RealLoki | undefined> {
  const source = findRealLoki(env);
  if (source.kind === 'none') return undefined;
  if (source.kind === 'url') {
    await waitUntilReady(source.url, 30_000);
    return { url: source.url, pid: undefined, dir: undefined, stop: async () => undefined };
  }
  return startRealLoki(options);
}

/** Starts the workspace's Loki 3.7.6 on a free port and resolves once `/ready` answers (10-20 s). */
export async function startRealLoki(options: StartOptions = {}): Promise<RealLoki> {
  if (!existsSync(START_LOKI_SCRIPT)) throw new Error(findRealLokiReason());
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'dora-real-loki-'));
  mkdirSync(dir, { recursive: true });
  // A port found free can be taken before Loki binds it: try another one then.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePortPair(options.port);
    const args = ['--port', String(port), '--dir', dir, ...(options.resultsCache ? ['--results-cache'] : [])];
    try {
      const url = await runStartScript(args);
      const pid = Number(readFileSync(path.join(dir, 'pid'), 'utf8').trim());
      return {
        url,
        pid,
        dir,
        stop: async () => {
          await stopProcess(pid);
          if (ownDir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (error) {
      lastError = error;
      const pidFile = path.join(dir, 'pid');
      if (existsSync(pidFile)) await stopProcess(Number(readFileSync(pidFile, 'utf8').trim()));
    }
  }
  throw lastError;
}

function findRealLokiReason(): string {
  const source = findRealLoki({});
  return source.kind === 'none' ? source.reason : 'unreachable';
}

function runStartScript(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    // The script waits up to 120 s for /ready and then exits, leaving Loki running under its own PID.
    execFile(START_LOKI_SCRIPT, args, { timeout: 150_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`start-loki.sh failed: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim().split('\n').at(-1) ?? '');
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** An HTTP port whose gRPC companion (port + 6000) is free too. */
async function freePortPair(wanted: StartOptions['port']): Promise<number> {
  const pairFree = async (port: number) =>
    port + GRPC_PORT_OFFSET <= 65_535 &&
    (await portIsFree(port)) &&
    (await portIsFree(port + GRPC_PORT_OFFSET));
  if (typeof wanted === 'number') {
    if (await pairFree(wanted)) return wanted;
    throw new Error(`port ${wanted} or ${wanted + GRPC_PORT_OFFSET} is taken`);
  }
  if (wanted !== undefined) {
    for (let port = wanted[0]; port <= wanted[1]; port += 1) if (await pairFree(port)) return port;
    throw new Error(`no free port pair in ${wanted[0]}-${wanted[1]} (and +${GRPC_PORT_OFFSET})`);
  }
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await anyFreePort();
    if (await pairFree(port)) return port;
  }
  throw new Error('found no free port pair for Loki');
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, and SIGKILL if the process is still there after `graceMs`; resolves once it is gone. */
async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!(pid > 0) || !isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + graceMs;
  while (isRunning(pid)) {
    if (Date.now() >= until) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await sleep(100);
  }
  while (isRunning(pid)) await sleep(50);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `/ready` until Loki says `ready`; fails after `timeoutMs` naming what it last saw. */
export async function waitUntilReady(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const response = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(5_000) });
      last = `HTTP ${response.status} ${(await response.text()).trim().slice(0, 200)}`;
      if (response.ok && last.endsWith('ready')) return;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= until) throw new Error(`Loki at ${url} not ready after ${timeoutMs} ms: ${last}`);
    await sleep(500);
  }
}

/** A `service_namespace` no other run uses, so runs sharing one Loki never see each other's events. */
export function uniqueServiceNamespace(prefix = 'dora-test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface LoadOptions {
  /** Entries per push request (one stream's); default 2000 (~3 MB with structured metadata). */
  batchEntries?: number;
  /** Push requests in flight at once (each stream's pushes stay in order); default 4. */
  concurrency?: number;
  /** Time limit of one push; default 60 s. */
  timeoutMs?: number;
  /** How long loaded entries may take to become visible to queries after the flush; default 60 s. */
  visibleWithinMs?: number;
}

export interface LoadReport {
  entries: number;
  streams: number;
  pushes: number;
  pushMs: number;
  /** Whether Loki took `POST /flush` (a Loki behind a gateway may not offer it). */
  flushed: boolean;
  /** From the flush until every stream's first and last entry was found by a query. */
  visibleMs: number;
}

interface StreamEnds {
  labels: Record<string, string>;
  first: bigint;
  last: bigint;
}

/**
 * Loads entries into a real Loki through the project's push client. Each stream (its index labels,
 * INDEX_LABELS) must come in time order, as the generator yields them: Loki refuses an entry far behind
 * the newest of its stream. Streams are pushed concurrently, each stream's batches one after the other.
 *
 * Then `POST /flush`: the ingester would otherwise flush the back-filled chunks by itself within a minute,
 * in the middle of whatever runs next, and for a moment after a chunk is flushed queries do not see it
 * (measured: up to ~250 ms on Loki 3.7.6). So the flush happens now, and loading ends only when a query
 * finds the first and the last entry of every stream.
 */
export async function loadIntoLoki(
  url: string,
  entries: Iterable<LokiEntry>,
  options: LoadOptions = {},
): Promise<LoadReport> {
  const batchEntries = options.batchEntries ?? 2000;
  const concurrency = options.concurrency ?? 4;
  const writer: LokiWriter = createLokiWriter({ url, timeoutMs: options.timeoutMs ?? 60_000, maxRetries: 2 });
  const startedAt = performance.now();
  const buffers = new Map<string, LokiEntry[]>();
  const streams = new Map<string, StreamEnds>();
  /** Each stream's last push, which its next push waits for. */
  const tails = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let count = 0;
  let pushes = 0;

  const send = async (key: string, batch: LokiEntry[]) => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
    const push = (tails.get(key) ?? Promise.resolve())
      .then(() => writer.push(batch))
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(push));
    pushes += 1;
    inFlight.add(push);
    tails.set(key, push);
  };

  for (const entry of entries) {
    const key = streamKey(entry.labels);
    const ns = BigInt(entry.timestampNs);
    const ends = streams.get(key);
    if (ends === undefined) streams.set(key, { labels: entry.labels, first: ns, last: ns });
    else if (ns < ends.last) {
      throw new Error(`loadIntoLoki: stream ${key} is not in time order at ${entry.timestampNs}`);
    } else ends.last = ns;
    count += 1;
    let buffer = buffers.get(key);
    if (buffer === undefined) {
      buffer = [];
      buffers.set(key, buffer);
    }
    buffer.push(entry);
    if (buffer.length >= batchEntries) {
      buffers.set(key, []);
      await send(key, buffer);
    }
  }
  for (const [key, buffer] of buffers) if (buffer.length > 0) await send(key, buffer);
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  const pushedAt = performance.now();
  const flushed = await flushLoki(url);
  await waitUntilVisible(url, [...streams.values()], options.visibleWithinMs ?? 60_000);
  return {
    entries: count,
    streams: streams.size,
    pushes,
    pushMs: pushedAt - startedAt,
    flushed,
    visibleMs: performance.now() - pushedAt,
  };
}

/**
 * `POST /flush`: Loki writes what its ingesters hold (it answers at once and flushes in the background).
 * Resolves false when this Loki does not offer it.
 */
export async function flushLoki(url: string): Promise<boolean> {
  const response = await fetch(`${url}/flush`, { method: 'POST', signal: AbortSignal.timeout(30_000) });
  await response.arrayBuffer();
  return response.ok;
}

/** Waits until a query finds the first and the last entry of every stream. */
async function waitUntilVisible(url: string, streams: StreamEnds[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let pending = streams.flatMap((stream) => [
    { labels: stream.labels, ns: stream.first },
    { labels: stream.labels, ns: stream.last },
  ]);
  for (;;) {
    const found = await Promise.all(pending.map((probe) => entryVisible(url, probe.labels, probe.ns)));
    pending = pending.filter((_, index) => !found[index]);
    if (pending.length === 0) return;
    if (Date.now() >= until) {
      throw new Error(
        `${pending.length} loaded entries are still not found by queries after ${timeoutMs} ms`,
      );
    }
    await sleep(250);
  }
}

async function entryVisible(url: string, labels: Record<string, string>, ns: bigint): Promise<boolean> {
  const selector = INDEX_LABELS.filter((name) => labels[name] !== undefined)
    .map((name) => `${name}=${JSON.stringify(labels[name])}`)
    .join(', ');
  const params = new URLSearchParams({
    query: `{${selector}}`,
    start: String(ns),
    end: String(ns + 1n),
    limit: '1',
  });
  const response = await fetch(`${url}/loki/api/v1/query_range?${params}`, {
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) {
    throw new Error(
      `Loki answered a query for loaded entries with HTTP ${response.status}: ${await response.text()}`,
    );
  }
  const body = (await response.json()) as { data?: { result?: Array<{ values?: unknown[] }> } };
  return (body.data?.result ?? []).some((stream) => (stream.values?.length ?? 0) > 0);
}

function streamKey(labels: Record<string, string>): string {
  return JSON.stringify(INDEX_LABELS.map((name) => labels[name] ?? ''));
}
