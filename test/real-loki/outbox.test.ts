import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { uniqueServiceNamespace } from '../../dev/real-loki';
import type { handler as DataHandler } from '../../functions/data';
import { formatTime } from '../../lib/dora/time';
import { deploymentEntry, mergeEntry, type WriteContext } from '../../lib/events/entries';
import { createLokiWriter } from '../../lib/loki/push';
import type { LokiEntry } from '../../lib/loki/types';
import { DirectoryObjectStore, type ObjectStore } from '../../lib/store/object-store';
import { StoreDeliveryOutbox } from '../../lib/webhooks/store-outbox';
import { setEnv } from '../helpers/environment';
import { recordsOf, wholeSecondsNow } from '../helpers/records';
import { LOKI_TIMEOUT_MS } from './backends';
import { describeWithRealLoki } from './real-loki';

const MINUTE = 60_000;

/**
 * Deliveries kept while Loki did not take them reach the real Loki 3.7.6 through a forward, and the read
 * path counts each once, even one pushed twice.
 *
 * Measured here ("Loki keeps an identical push once in log queries"): Loki 3.7.6 answers a log query with
 * one entry when the same stream, timestamp, line and structured metadata were pushed twice (while the first
 * is still in the ingester; after a flush, metric queries count both, as the receiver's suite measured).
 * So the outbox does not rely on it: "counts a delivery once after a crash between the push and the
 * removal" shows a forward removing, without a second push, a delivery Loki already holds.
 */
describeWithRealLoki('the webhook outbox forwards to the real Loki', (run) => {
  let restore: () => void;
  let data: typeof DataHandler;
  let dir: string;
  let serviceNamespace: string;

  beforeAll(async () => {
    serviceNamespace = uniqueServiceNamespace('dora-test-outbox');
    restore = setEnv({
      LOKI_URL: run().url,
      SERVICE_NAME: serviceNamespace,
      GITHUB_ORG: 'acme',
      GITHUB_TOKEN: '',
      AUTH_JWT_SECRET: '',
      LOKI_TIMEOUT_MS: String(LOKI_TIMEOUT_MS),
    });
    ({ handler: data } = await import('../../functions/data'));
  });
  afterAll(() => restore());
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'outbox-real-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const writer = () => createLokiWriter({ url: run().url, timeoutMs: LOKI_TIMEOUT_MS, maxRetries: 1 });

  function deliveryOf(repository: string, deployedAt: number, id: string) {
    const context: WriteContext = {
      serviceNamespace,
      owner: 'acme',
      now: Date.now(),
      maxBackdateMs: 50 * MINUTE,
    };
    const sha = 'b'.repeat(40);
    return {
      id,
      event: 'deployment_status',
      action: 'created',
      repository: `acme/${repository}`,
      receivedAt: new Date(deployedAt).toISOString(),
      entries: [
        mergeEntry(
          {
            repository,
            team: 'Payments',
            sha,
            title: 'Kept while Loki was away',
            user: 'octocat',
            mergedAt: deployedAt - 10 * MINUTE,
          },
          context,
        ),
        deploymentEntry(
          {
            repository,
            team: 'Payments',
            sha,
            environment: 'production',
            status: 'success',
            createdAt: deployedAt,
            url: undefined,
          },
          context,
        ),
      ],
    };
  }

  /** Every raw line Loki holds for the repository's stream, however the read path would count them. */
  async function rawLines(repository: string, around: number): Promise<string[]> {
    const params = new URLSearchParams({
      query: `{service_namespace="${serviceNamespace}", service_name="${repository}"}`,
      start: `${around - 2 * 3_600_000}000000`,
      end: `${Date.now() + MINUTE}000000`,
      limit: '1000',
    });
    const response = await fetch(`${run().url}/loki/api/v1/query_range?${params}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { result: Array<{ values: string[][] }> } };
    return body.data.result.flatMap((stream) => stream.values.map((value) => value[1] as string));
  }

  it('forwards a kept delivery, and /data reads its deployment', async () => {
    const deployedAt = wholeSecondsNow() - 20 * MINUTE;
    const outbox = new StoreDeliveryOutbox(new DirectoryObjectStore(dir));
    await outbox.keep(deliveryOf('outbox-forwarded', deployedAt, 'delivery-forwarded'));

    const result = await outbox.forward(writer());
    const records = await recordsOf(data, 'outbox-forwarded', deployedAt - MINUTE, deployedAt + MINUTE);

    expect(result).toEqual({ forwarded: 1, failed: 0, deadLettered: 0, skipped: 0 });
    expect(await outbox.pending()).toBe(0);
    expect(records).toMatchObject([
      {
        repository: 'outbox-forwarded',
        created_at: formatTime(deployedAt),
        title: 'Kept while Loki was away',
      },
    ]);
  });

  it('counts a delivery once after a crash between the push and the removal: the retry finds it in Loki', async () => {
    const deployedAt = wholeSecondsNow() - 15 * MINUTE;
    const store = new DirectoryObjectStore(dir);
    const crashingAfterPush: ObjectStore = {
      description: store.description,
      get: (key) => store.get(key),
      put: (key, bytes) => store.put(key, bytes),
      list: (prefix) => store.list(prefix),
      delete: async () => {
        throw new Error('stopped before the removal');
      },
    };
    await new StoreDeliveryOutbox(store).keep(deliveryOf('outbox-twice', deployedAt, 'delivery-twice'));

    const crashed = await new StoreDeliveryOutbox(crashingAfterPush).forward(writer());
    const retried = await new StoreDeliveryOutbox(store).forward(writer());
    const lines = await rawLines('outbox-twice', deployedAt);
    const records = await recordsOf(data, 'outbox-twice', deployedAt - MINUTE, deployedAt + MINUTE);

    expect(crashed).toMatchObject({ forwarded: 0, failed: 1 });
    expect(retried).toMatchObject({ forwarded: 1, failed: 0 });
    // One merge and one deployment: the second push added no entry.
    expect(lines).toHaveLength(2);
    expect(records).toHaveLength(1);
  });

  it('Loki keeps an identical push once in log queries', async () => {
    const deployedAt = wholeSecondsNow() - 10 * MINUTE;
    const { entries } = deliveryOf('outbox-identical', deployedAt, 'delivery-identical');

    await writer().push(entries);
    await writer().push(entries);

    expect(await rawLines('outbox-identical', deployedAt)).toHaveLength(2);
  });

  it('moves a delivery Loki refuses for good (entry too far behind the newest of its stream) to the dead letters', async () => {
    const now = wholeSecondsNow();
    const outbox = new StoreDeliveryOutbox(new DirectoryObjectStore(dir));
    const kept = deliveryOf('outbox-behind', now, 'delivery-behind');
    // The stream moved on while the delivery waited: an entry of now, then the delivery three hours back.
    await writer().push([
      { ...(kept.entries[1] as LokiEntry), timestampNs: `${now}000000`, line: '{"newer":true}' },
    ]);
    const threeHoursAgoNs = `${now - 3 * 3_600_000}000000`;
    await outbox.keep({
      ...kept,
      entries: kept.entries.map((entry) => ({ ...entry, timestampNs: threeHoursAgoNs })),
    });

    const result = await outbox.forward(writer());
    const backlog = await outbox.backlog();

    expect(result).toEqual({ forwarded: 0, failed: 0, deadLettered: 1, skipped: 0 });
    expect(backlog).toMatchObject({ pending: 0, deadLettered: 1 });
  });
});
