import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLokiWriter, INDEX_LABELS, type LokiWriter } from '../lib/loki/push';
import type { LokiEntry } from '../lib/loki/types';
import { DAY_MS } from '../lib/time';

/**
 * A real Grafana Loki for the real-Loki test suite (`npm run test:loki`) and the benchmark: the one at
 * LOKI_TEST_URL, else the Loki 3.x binary at LOKI_BIN started here (with the configuration below) on a
 * free port and stopped by its PID, else the start script CI keeps beside the checkout
 * (`../shared/tools/loki/start-loki.sh`), else none (the caller skips, saying why). Past data is loaded
 * through the project's own push client (lib/loki/push.ts), each stream in time order, then `POST /flush`.
 */

const PROJECT_ROOT = path.resolve(__dirname, '..');
/** CI's Loki 3.7.6 and its start script, beside the checkout; absent on a user's machine (LOKI_BIN there). */
export const LOKI_TOOLS_DIR = path.resolve(PROJECT_ROOT, '../shared/tools/loki');
export const START_LOKI_SCRIPT = path.join(LOKI_TOOLS_DIR, 'start-loki.sh');
/** start-loki.sh puts Loki's gRPC port this far above its HTTP port; both must be free. */
const GRPC_PORT_OFFSET = 6000;

export type RealLokiSource =
  | { kind: 'url'; url: string }
  | { kind: 'binary'; bin: string }
  | { kind: 'script'; script: string }
  | { kind: 'none'; reason: string };

/** Where a real Loki comes from: LOKI_TEST_URL first, then LOKI_BIN, then CI's start script. */
export function findRealLoki(env: NodeJS.ProcessEnv = process.env): RealLokiSource {
  const url = env.LOKI_TEST_URL?.trim();
  if (url) return { kind: 'url', url: url.replace(/\/+$/, '') };
  const bin = env.LOKI_BIN?.trim();
  if (bin) return { kind: 'binary', bin: path.resolve(bin) };
  if (existsSync(START_LOKI_SCRIPT)) return { kind: 'script', script: START_LOKI_SCRIPT };
  return {
    kind: 'none',
    reason:
      'no real Loki: set LOKI_BIN to a Loki 3.x binary (the loki-linux-amd64 of a Grafana Loki release; ' +
      'see docs/development.md) or LOKI_TEST_URL to a running Loki 3.x with structured metadata on and old ' +
      'samples accepted',
  };
}

/**
 * The configuration a Loki started from LOKI_BIN runs with: one process on loopback, filesystem storage,
 * structured metadata on, old samples accepted (the suites load past days), 5,000 lines per query at most;
 * everything else Loki's defaults (max_query_length 30d1h, split_queries_by_interval 1h, 4 querier
 * workers), which is what a small self-hosted Loki does.
 */
export function lokiTestConfig(options: {
  httpPort: number;
  grpcPort: number;
  dataDir: string;
  resultsCache?: boolean;
}): string {
  const { httpPort, grpcPort, dataDir } = options;
  return `auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: ${httpPort}
  grpc_listen_address: 127.0.0.1
  grpc_listen_port: ${grpcPort}
  log_level: warn
common:
  instance_addr: 127.0.0.1
  path_prefix: ${dataDir}
  storage:
    filesystem:
      chunks_directory: ${dataDir}/chunks
      rules_directory: ${dataDir}/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
schema_config:
  configs:
    - from: 2020-01-01
      store: tsdb
      object_store: filesystem
      schema: v13
      index:
        prefix: index_
        period: 24h
limits_config:
  allow_structured_metadata: true
  reject_old_samples: false
  max_entries_limit_per_query: 5000
  ingestion_rate_mb: 64
  ingestion_burst_size_mb: 128
  per_stream_rate_limit: 64MB
  per_stream_rate_limit_burst: 128MB
querier:
  query_ingesters_within: 0
# Past days are pushed in seconds: cut chunks on entry time, as real-time ingestion would (a chunk spans
# an hour or two), instead of one chunk holding months of a stream that every query decompresses.
ingester:
  sync_period: 1h
  sync_min_utilization: 0
query_range:
  results_cache:
    cache:
      embedded_cache:
        enabled: ${options.resultsCache === true}
analytics:
  reporting_enabled: false
`;
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
  return startRealLoki(options, env);
}

/**
 * Starts a Loki on a free port (LOKI_BIN's binary, else CI's start script) and resolves once `/ready`
 * answers (10-20 s).
 */
export async function startRealLoki(
  options: StartOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RealLoki> {
  const source = findRealLoki({ ...env, LOKI_TEST_URL: '' });
  if (source.kind === 'binary') return startLokiBinary(source.bin, options);
  if (source.kind !== 'script') throw new Error(findRealLokiReason());
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
      return runningLoki(url, pid, dir, ownDir && !options.keepDir);
    } catch (error) {
      lastError = error;
      const pidFile = path.join(dir, 'pid');
      if (existsSync(pidFile)) await stopProcess(Number(readFileSync(pidFile, 'utf8').trim()));
    }
  }
  throw lastError;
}

/** LOKI_BIN's Loki with lokiTestConfig, its output in DIR/loki.log; stopped by its PID. */
async function startLokiBinary(bin: string, options: StartOptions): Promise<RealLoki> {
  if (!existsSync(bin)) throw new Error(`LOKI_BIN is ${bin}, which does not exist`);
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'dora-real-loki-'));
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  let lastError: unknown;
  // A port found free can be taken before Loki binds it: try another one then.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePortPair(options.port);
    const config = path.join(dir, 'config.yaml');
    writeFileSync(
      config,
      lokiTestConfig({
        httpPort: port,
        grpcPort: port + GRPC_PORT_OFFSET,
        dataDir: path.join(dir, 'data'),
        ...(options.resultsCache === undefined ? {} : { resultsCache: options.resultsCache }),
      }),
    );
    const log = openSync(path.join(dir, 'loki.log'), 'a');
    const child = spawn(bin, [`-config.file=${config}`], { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    child.unref();
    const pid = child.pid;
    const url = `http://127.0.0.1:${port}`;
    try {
      if (pid === undefined) throw new Error(`could not start ${bin}`);
      await waitUntilReady(url, 120_000, () => isRunning(pid));
      return runningLoki(url, pid, dir, ownDir && !options.keepDir);
    } catch (error) {
      lastError = new Error(
        `${(error as Error).message}; Loki's log: ${readFileSync(path.join(dir, 'loki.log'), 'utf8').slice(-1000)}`,
      );
      if (pid !== undefined) await stopProcess(pid);
    }
  }
  throw lastError;
}

/** A started Loki; stopping it also removes its folder when the folder was made for it. */
function runningLoki(url: string, pid: number, dir: string, removeDir: boolean): RealLoki {
  return {
    url,
    pid,
    dir,
    stop: async () => {
      await stopProcess(pid);
      if (removeDir) rmSync(dir, { recursive: true, force: true });
    },
  };
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

/**
 * Polls `/ready` until Loki says `ready`; fails after `timeoutMs` naming what it last saw, or at once
 * when `alive` says the process is gone.
 */
export async function waitUntilReady(url: string, timeoutMs: number, alive?: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (alive !== undefined && !alive()) throw new Error(`Loki for ${url} exited before it was ready`);
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

/** The limits of a Loki that the suites' expectations depend on. */
export interface LokiLimits {
  /** `limits_config.max_query_length` in ms; 0 when Loki sets none. */
  maxQueryLengthMs: number;
  /** `limits_config.max_entries_limit_per_query`. */
  maxEntriesLimitPerQuery: number;
  /** Where the figures come from: Loki's `GET /config`, or Loki's defaults when it does not offer it. */
  source: 'config' | 'defaults';
}

/** Loki's own defaults: max_query_length 30d1h, max_entries_limit_per_query 5000. */
export const LOKI_DEFAULT_LIMITS: LokiLimits = {
  maxQueryLengthMs: (30 * 24 + 1) * 3_600_000,
  maxEntriesLimitPerQuery: 5000,
  source: 'defaults',
};

const PROM_DURATION_UNITS_MS: Record<string, number> = {
  y: 365 * DAY_MS,
  w: 7 * DAY_MS,
  d: DAY_MS,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

/** A duration as Loki prints it in `/config` (`30d1h`, `721h`, `0s`, `1w2d`), in ms. */
export function parseLokiDuration(text: string): number {
  const trimmed = text.trim().replace(/^["']|["']$/g, '');
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== trimmed) {
    throw new Error(`"${text}" is not a Loki duration`);
  }
  return parts.reduce(
    (total, [, amount, unit]) => total + Number(amount) * (PROM_DURATION_UNITS_MS[unit ?? 'ms'] ?? 0),
    0,
  );
}

/**
 * The limits of the Loki at `url`, read from its `GET /config` (the YAML of the configuration it runs
 * with, defaults filled in): a Loki of someone else's may set other limits than Loki's defaults, and
 * the suites expect what that Loki does. A Loki that does not offer `/config` (behind a gateway) is
 * taken to run with Loki's defaults.
 */
export async function readLokiLimits(url: string): Promise<LokiLimits> {
  let text: string;
  try {
    const response = await fetch(`${url}/config`, { signal: AbortSignal.timeout(10_000) });
    text = await response.text();
    if (!response.ok) return LOKI_DEFAULT_LIMITS;
  } catch {
    return LOKI_DEFAULT_LIMITS;
  }
  const limits = /^limits_config:\n((?:[ \t]+.*\n?|\n)*)/m.exec(text)?.[1];
  const setting = (name: string) =>
    limits ? new RegExp(`^[ \\t]+${name}:[ \\t]*(\\S+)`, 'm').exec(limits)?.[1] : undefined;
  const length = setting('max_query_length');
  const entries = setting('max_entries_limit_per_query');
  if (length === undefined && entries === undefined) return LOKI_DEFAULT_LIMITS;
  return {
    maxQueryLengthMs: length === undefined ? LOKI_DEFAULT_LIMITS.maxQueryLengthMs : parseLokiDuration(length),
    maxEntriesLimitPerQuery:
      entries === undefined ? LOKI_DEFAULT_LIMITS.maxEntriesLimitPerQuery : Number(entries),
    source: 'config',
  };
}
