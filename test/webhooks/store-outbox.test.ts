import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { getConfig } from '../../lib/config';
import { logger } from '../../lib/logger';
import { createLokiWriter } from '../../lib/loki/push';
import type { LokiEntry } from '../../lib/loki/types';
import { DirectoryObjectStore, type ObjectStore } from '../../lib/store/object-store';
import type { PendingDelivery } from '../../lib/webhooks/outbox';
import {
  DEAD_LETTER_PREFIX,
  getDeliveryOutbox,
  PENDING_PREFIX,
  StoreDeliveryOutbox,
} from '../../lib/webhooks/store-outbox';
import { setEnv } from '../helpers/environment';
import { startS3Server } from '../helpers/s3';

const T0 = Date.UTC(2026, 11, 6, 12);
const LOKI_TIMEOUT_MS = 500;

function entry(repository: string, at: number, line: string): LokiEntry {
  return {
    labels: {
      service_name: repository,
      service_namespace: 'outbox-test',
      vcs_repository_name: repository,
      event_name: 'deployment_status',
    },
    timestampNs: `${at}000000`,
    line,
  };
}

function delivery(id: string, receivedAt: number, overrides: Partial<PendingDelivery> = {}): PendingDelivery {
  return {
    id,
    event: 'deployment_status',
    action: 'created',
    repository: 'acme/orders',
    receivedAt: new Date(receivedAt).toISOString(),
    entries: [entry('orders', receivedAt, JSON.stringify({ delivery: id, secretish: `payload-of-${id}` }))],
    ...overrides,
  };
}

interface StoreUnderTest {
  /** A new, empty store and what removes it. */
  fresh(): Promise<{ store: ObjectStore; empty: ObjectStore; remove: () => Promise<void> }>;
  close(): Promise<void>;
}

async function directoryStores(): Promise<StoreUnderTest> {
  return {
    async fresh() {
      const dir = await mkdtemp(path.join(tmpdir(), 'outbox-'));
      return {
        store: new DirectoryObjectStore(dir),
        empty: new DirectoryObjectStore(path.join(dir, 'none')),
        remove: () => rm(dir, { recursive: true, force: true }),
      };
    },
    close: async () => undefined,
  };
}

/** s3rver with the real @aws-sdk/client-s3: a prefix of one bucket per test. */
async function s3Stores(): Promise<StoreUnderTest> {
  const server = await startS3Server();
  let next = 0;
  return {
    async fresh() {
      next += 1;
      return {
        store: await server.store('outbox-test', `webhook-outbox-${next}`),
        empty: await server.store('outbox-test', `never-written-${next}`),
        remove: async () => undefined,
      };
    },
    close: () => server.close(),
  };
}

describe.each([
  ['a directory', directoryStores],
  ['S3 (s3rver)', s3Stores],
])('the webhook outbox over %s', (_kind, stores) => {
  let under: StoreUnderTest;
  let store: ObjectStore;
  let empty: ObjectStore;
  let remove: () => Promise<void>;
  let outbox: StoreDeliveryOutbox;
  let loki: LokiServer;
  const writer = () => createLokiWriter({ url: loki.url, timeoutMs: LOKI_TIMEOUT_MS, maxRetries: 0 });

  beforeAll(async () => {
    under = await stores();
  });
  afterAll(async () => under?.close());
  beforeEach(async () => {
    ({ store, empty, remove } = await under.fresh());
    outbox = new StoreDeliveryOutbox(store);
    loki = await startLokiServer();
  });
  afterEach(async () => {
    await loki.close();
    await remove();
  });

  /** What the imitation holds for the test namespace, as lines. */
  async function linesInLoki(): Promise<string[]> {
    const params = new URLSearchParams({
      query: '{service_namespace="outbox-test"}',
      start: `${T0 - 86_400_000}000000`,
      end: `${T0 + 86_400_000}000000`,
      limit: '1000',
      direction: 'forward',
    });
    const response = await fetch(`${loki.url}/loki/api/v1/query_range?${params}`);
    const body = (await response.json()) as { data: { result: Array<{ values: string[][] }> } };
    return body.data.result.flatMap((stream) => stream.values.map((value) => value[1] as string));
  }

  it('keeps a delivery once: the same delivery, or a redelivery with its id, adds nothing', async () => {
    const first = delivery('d-1', T0);

    await outbox.keep(first);
    await outbox.keep(first);
    await outbox.keep({ ...first, receivedAt: new Date(T0 + 60_000).toISOString() });

    expect(await outbox.pending()).toBe(1);
    expect(await store.list(PENDING_PREFIX)).toEqual([`${PENDING_PREFIX}20261206T120000000Z_d-1.json`]);
  });

  it('orders deliveries by their received time in UTC, whatever offset it was written with', async () => {
    await outbox.keep({ ...delivery('later', T0), receivedAt: '2026-12-06T13:00:01+01:00' });
    await outbox.keep(delivery('earlier', T0));

    expect(await store.list(PENDING_PREFIX)).toEqual([
      `${PENDING_PREFIX}20261206T120000000Z_earlier.json`,
      `${PENDING_PREFIX}20261206T120001000Z_later.json`,
    ]);
  });

  it('shows the backlog from one listing: pending, dead letters and the oldest pending age', async () => {
    await outbox.keep(delivery('late', T0 + 30_000));
    await outbox.keep(delivery('early', T0));
    await store.put(`${DEAD_LETTER_PREFIX}20261201T000000000Z_old.json`, Buffer.from('{}'));

    const backlog = await outbox.backlog(T0 + 90_000);
    const nothing = await new StoreDeliveryOutbox(empty).backlog();

    expect(backlog).toEqual({ pending: 2, deadLettered: 1, oldestPendingAgeSeconds: 90 });
    expect(nothing).toEqual({ pending: 0, deadLettered: 0, oldestPendingAgeSeconds: null });
  });

  it('forwards oldest first, removing each delivery once Loki accepted it', async () => {
    await outbox.keep(delivery('third', T0 + 2_000));
    await outbox.keep(delivery('first', T0));
    await outbox.keep(delivery('second', T0 + 1_000));

    const result = await outbox.forward(writer(), { concurrency: 1 });

    expect(result).toEqual({ forwarded: 3, failed: 0, deadLettered: 0, skipped: 0 });
    expect(await outbox.pending()).toBe(0);
    expect((await linesInLoki()).map((line) => JSON.parse(line).delivery)).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('keeps everything while Loki refuses with 503, and forwards it once Loki is back', async () => {
    await outbox.keep(delivery('a', T0));
    await outbox.keep(delivery('b', T0 + 1_000));
    await outbox.keep(delivery('c', T0 + 2_000));
    loki.failNext(503, 1);

    const whileDown = await outbox.forward(writer(), { concurrency: 1 });
    const pendingWhileDown = await outbox.pending();
    const afterwards = await outbox.forward(writer(), { concurrency: 1 });

    expect(whileDown).toEqual({ forwarded: 0, failed: 1, deadLettered: 0, skipped: 2 });
    expect(pendingWhileDown).toBe(3);
    expect(afterwards).toEqual({ forwarded: 3, failed: 0, deadLettered: 0, skipped: 0 });
    expect(await linesInLoki()).toHaveLength(3);
  });

  it('keeps a delivery Loki is too slow to accept, and one it cannot be reached for', async () => {
    await outbox.keep(delivery('slow', T0));
    loki.delayNext(LOKI_TIMEOUT_MS * 3);
    const slow = await outbox.forward(writer());
    const unreachable = await outbox.forward(
      createLokiWriter({ url: 'http://127.0.0.1:9', timeoutMs: LOKI_TIMEOUT_MS, maxRetries: 0 }),
    );

    expect(slow).toEqual({ forwarded: 0, failed: 1, deadLettered: 0, skipped: 0 });
    expect(unreachable).toEqual({ forwarded: 0, failed: 1, deadLettered: 0, skipped: 0 });
    expect(await outbox.pending()).toBe(1);
  });

  it('keeps deliveries while Loki refuses the credentials: a setup problem empties nothing into dead letters', async () => {
    await outbox.keep(delivery('a', T0));
    loki.failNext(401, 1, 'Unauthorized');

    const result = await outbox.forward(writer());

    expect(result).toEqual({ forwarded: 0, failed: 1, deadLettered: 0, skipped: 0 });
    expect(await outbox.backlog(T0)).toMatchObject({ pending: 1, deadLettered: 0 });
  });

  it('moves a delivery Loki refuses for good to the dead letters with the reason, logs it without the payload, and forwards the rest', async () => {
    await outbox.keep(delivery('too-old', T0));
    await outbox.keep(delivery('fine', T0 + 1_000));
    const refusal =
      'entry for stream \'{service_name="orders"}\' has timestamp too old: 2026-11-01T00:00:00Z, oldest acceptable timestamp is: 2026-11-29T12:00:00Z';
    // The look-up before the push, then the push itself.
    loki.failNext(400, 2, refusal);
    const lines: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      }),
    );
    logger.setLogLevel('INFO');

    let result: Awaited<ReturnType<StoreDeliveryOutbox['forward']>>;
    try {
      result = await outbox.forward(writer(), { concurrency: 1 });
    } finally {
      logger.setLogLevel('SILENT');
      for (const spy of spies) spy.mockRestore();
    }

    expect(result).toEqual({ forwarded: 1, failed: 0, deadLettered: 1, skipped: 0 });
    expect(await outbox.backlog(T0)).toMatchObject({ pending: 0, deadLettered: 1 });
    const [deadKey] = await store.list(DEAD_LETTER_PREFIX);
    const dead = JSON.parse(String(await store.get(deadKey as string)));
    expect(dead).toMatchObject({
      delivery: { id: 'too-old', event: 'deployment_status' },
      refusal: { reason: 'refused', status: 400, message: expect.stringContaining('timestamp too old') },
    });
    const logged = lines.join('');
    expect(logged).toContain('too-old');
    expect(logged).toContain('dead letters');
    expect(logged).not.toContain('payload-of-too-old');
    expect(await linesInLoki()).toHaveLength(1);
  });

  it('moves an object that is not a stored delivery to the dead letters instead of failing every forward', async () => {
    await store.put(`${PENDING_PREFIX}20261206T120000000Z_broken.json`, Buffer.from('{"format":1,'));
    await outbox.keep(delivery('fine', T0 + 1_000));

    const result = await outbox.forward(writer());

    expect(result).toEqual({ forwarded: 1, failed: 0, deadLettered: 1, skipped: 0 });
    expect(String(await store.get(`${DEAD_LETTER_PREFIX}20261206T120000000Z_broken.json`))).toBe(
      '{"format":1,',
    );
  });

  it('removes without a second push a delivery Loki accepted before its removal failed: it stays one entry', async () => {
    await outbox.keep(delivery('once', T0));
    const failingDelete: ObjectStore = {
      description: store.description,
      get: (key) => store.get(key),
      put: (key, bytes) => store.put(key, bytes),
      list: (prefix) => store.list(prefix),
      delete: async () => {
        throw new Error('the store is unavailable');
      },
    };

    const crashed = await new StoreDeliveryOutbox(failingDelete).forward(writer());
    const retried = await outbox.forward(writer());

    expect(crashed).toEqual({ forwarded: 0, failed: 1, deadLettered: 0, skipped: 0 });
    expect(retried).toEqual({ forwarded: 1, failed: 0, deadLettered: 0, skipped: 0 });
    expect(loki.requests.filter((request) => request.path === '/loki/api/v1/push')).toHaveLength(1);
    expect(await linesInLoki()).toHaveLength(1);
  });

  it('starts no push after the deadline', async () => {
    await outbox.keep(delivery('a', T0));

    const result = await outbox.forward(writer(), { deadline: Date.now() - 1 });

    expect(result).toEqual({ forwarded: 0, failed: 0, deadLettered: 0, skipped: 1 });
    expect(await outbox.pending()).toBe(1);
  });

  it('refuses to keep a delivery without an id or with a received time that is not a time', async () => {
    await expect(outbox.keep(delivery('', T0))).rejects.toThrow(/id/);
    await expect(outbox.keep({ ...delivery('x', T0), receivedAt: 'yesterday' })).rejects.toThrow();
    expect(await outbox.pending()).toBe(0);
  });

  it('forwards a run of deliveries concurrently without losing or repeating any', async () => {
    for (let i = 0; i < 40; i += 1) await outbox.keep(delivery(`bulk-${i}`, T0 + i * 10));
    loki.delayNext(50, 40);

    const result = await outbox.forward(writer(), { concurrency: 8 });

    expect(result).toEqual({ forwarded: 40, failed: 0, deadLettered: 0, skipped: 0 });
    expect(new Set(await linesInLoki()).size).toBe(40);
  });
});

describe('WEBHOOK_OUTBOX_URL', () => {
  it('names the outbox the API keeps deliveries in: s3://bucket/prefix through the SDK settings of the environment', async () => {
    const server = await startS3Server();
    await server.createBucket('store-bucket');
    const restore = setEnv({ ...server.environment, WEBHOOK_OUTBOX_URL: 's3://store-bucket/webhook-outbox' });
    try {
      const outbox = getDeliveryOutbox(getConfig());
      await outbox.keep(delivery('through-s3', T0));

      const pending = await outbox.pending();
      const listed = await (await server.store('store-bucket')).list('');

      expect(outbox.store.description).toBe('s3://store-bucket/webhook-outbox');
      expect(pending).toBe(1);
      expect(listed).toEqual([`webhook-outbox/${PENDING_PREFIX}20261206T120000000Z_through-s3.json`]);
    } finally {
      restore();
      await server.close();
    }
  });

  it('refuses a URL that is not a store', () => {
    const restore = setEnv({ WEBHOOK_OUTBOX_URL: 'https://example.com/outbox' });
    try {
      expect(() => getConfig()).toThrow(/WEBHOOK_OUTBOX_URL/);
    } finally {
      restore();
    }
  });
});
