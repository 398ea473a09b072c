import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { openDirectoryStore } from '../../lib/store/object-store';
import { StoreDeliveryOutbox } from '../../lib/webhooks/store-outbox';
import { freePort, type LocalServer, startLocalServer } from '../helpers/local-server';
import { wholeSecondsNow } from '../helpers/records';
import { deliveryHeaders, deploymentStatus, TEST_WEBHOOK_SECRET } from './deliveries';

/**
 * A verified delivery is never lost: with Loki unreachable, `npm start`'s receiver answers 202 and keeps the
 * delivery in the outbox folder, where the replay finds it and /health counts it.
 */
jest.setTimeout(120_000);

let server: LocalServer;
let outboxDir: string;

beforeAll(async () => {
  outboxDir = await mkdtemp(path.join(tmpdir(), 'webhook-outbox-'));
  server = await startLocalServer({
    GITHUB_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    // Nothing listens there: every Loki request of the receiver fails to connect.
    LOKI_URL: `http://127.0.0.1:${await freePort()}`,
    WEBHOOK_OUTBOX_URL: pathToFileURL(outboxDir).href,
  });
});
afterAll(async () => {
  await server?.kill();
  await rm(outboxDir, { recursive: true, force: true });
});

describe('POST /webhooks/github while Loki is unreachable', () => {
  it('answers 202 and keeps the delivery in the outbox, counted by /health', async () => {
    const body = JSON.stringify(
      deploymentStatus(
        { owner: 'acme', repository: 'webhook-outbox' },
        {
          sha: '7'.repeat(40),
          state: 'success',
          environment: 'production',
          createdAt: wholeSecondsNow() - 60_000,
        },
      ),
    );

    const response = await fetch(`${server.baseUrl}/webhooks/github`, {
      method: 'POST',
      headers: deliveryHeaders('deployment_status', 'kept-while-loki-is-down', body),
      body,
    });
    const outbox = new StoreDeliveryOutbox(openDirectoryStore(pathToFileURL(outboxDir).href));
    const backlog = await outbox.backlog();
    const health = (await (await fetch(`${server.baseUrl}/health`)).json()) as Record<string, unknown>;

    expect(response.status).toBe(202);
    expect(backlog.pending).toBe(1);
    expect(JSON.stringify(health)).toMatch(/"pending":1/);
  });
});
