import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { storeSelection } from '../../lib/loki/closed-days';
import { buildEventsQuery } from '../../lib/loki/logql';
import { RollupStore } from '../../lib/rollups/store';
import { generateSample } from '../../lib/sample/generator';
import { DirectoryObjectStore } from '../../lib/store/object-store';

const DAY_MS = 86_400_000;

/** The Loki reader's settings in the store's tests: no retries, 30-day pieces, a day closed 2 hours after its end. */
export function readerSettings(serviceNamespace: string) {
  return {
    serviceNamespace,
    incidentLabels: ['incident'],
    pageLimit: 5000,
    maxQueryLengthMs: 30 * DAY_MS,
    concurrency: 4,
    timeoutMs: 10_000,
    maxRetries: 0,
    closedAfterMs: 2 * 3_600_000,
  };
}

export interface SampleLokiAndStore {
  settings: ReturnType<typeof readerSettings>;
  /** The store's name of a filter's selection, as the read path asks (all three kinds). */
  selectionKey(filter: object): string;
  /** The Loki imitation holding the generated organisation (its recorded requests emptied before each test). */
  readonly loki: LokiServer;
  /** The store of closed days of the current test: empty, in a temporary directory of its own. */
  readonly rollups: RollupStore;
}

/**
 * For a describe block: the Loki imitation holding a generated organisation (`repositories` repositories,
 * `days` days ending today, `seed`) in `namespace`, started once, and a new empty store of closed days for
 * every test, removed after it.
 */
export function useSampleLokiAndStore(options: {
  namespace: string;
  seed: number;
  days: number;
  repositories: number;
}): SampleLokiAndStore {
  const settings = readerSettings(options.namespace);
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  let loki: LokiServer | undefined;
  let dir: string | undefined;
  let rollups: RollupStore | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is there only while a test runs`);
    return value;
  };

  beforeAll(async () => {
    const sample = generateSample({
      seed: options.seed,
      end: today,
      days: options.days,
      repositories: options.repositories,
      serviceNamespace: options.namespace,
    });
    loki = await startLokiServer({ entries: sample.entries, host: '127.0.0.1' });
  });
  afterAll(async () => loki?.close());
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), `dora-${options.namespace}-`));
    rollups = new RollupStore(new DirectoryObjectStore(dir));
    started(loki, 'The Loki imitation').requests.length = 0;
  });
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  return {
    settings,
    selectionKey: (filter) =>
      storeSelection(buildEventsQuery(['deployments', 'incidents', 'merges'], filter, settings), settings),
    get loki() {
      return started(loki, 'The Loki imitation');
    },
    get rollups() {
      return started(rollups, 'The store');
    },
  };
}
