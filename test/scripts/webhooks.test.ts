import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { type LokiServer, startLokiServer } from '../../dev/loki-server';
import { DirectoryObjectStore } from '../../lib/store/object-store';
import { StoreDeliveryOutbox } from '../../lib/webhooks/store-outbox';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

/** `npm run webhooks -- <command>` as an operator runs it, with the settings in its environment. */
async function webhooks(command: string, env: Record<string, string>) {
  return promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/webhooks.ts', command], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT', ...env },
  }).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
  );
}

describe('npm run webhooks', () => {
  let dir: string;
  let loki: LokiServer;
  let outbox: StoreDeliveryOutbox;
  const entry = (line: string) => ({
    labels: { service_name: 'orders', service_namespace: 'cli-test' },
    timestampNs: `${Date.now()}000000`,
    line,
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'webhooks-cli-'));
    loki = await startLokiServer();
    outbox = new StoreDeliveryOutbox(new DirectoryObjectStore(dir));
  });
  afterEach(async () => {
    await loki.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('replays the backlog to Loki and prints the counts; status and requeue show and restore dead letters', async () => {
    const receivedAt = new Date().toISOString();
    await outbox.keep({ id: 'one', event: 'ping', receivedAt, entries: [entry('{"n":1}')] });
    await outbox.keep({ id: 'two', event: 'ping', receivedAt, entries: [entry('{"n":2}')] });
    const env = { WEBHOOK_OUTBOX_URL: pathToFileURL(dir).href, LOKI_URL: loki.url, LOKI_CONCURRENCY: '1' };
    // The look-up before the push, then the push itself.
    loki.failNext(400, 2, 'entry too far behind');

    const replay = await webhooks('replay', env);
    const status = await webhooks('status', env);
    const requeue = await webhooks('requeue', env);

    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(
      'forwarded 1, failed 0, dead-lettered 1, not tried 0; 0 pending; 1 dead letters',
    );
    expect(status.stdout).toContain('0 pending; 1 dead letters');
    expect(requeue.stdout).toContain('1 dead letters back in the queue; 1 pending');
    expect(await outbox.pending()).toBe(1);
  });

  it('exits 1 and keeps the backlog when Loki cannot be reached', async () => {
    await outbox.keep({
      id: 'one',
      event: 'ping',
      receivedAt: new Date().toISOString(),
      entries: [entry('{}')],
    });

    const replay = await webhooks('replay', {
      WEBHOOK_OUTBOX_URL: pathToFileURL(dir).href,
      LOKI_URL: 'http://127.0.0.1:9',
      LOKI_MAX_RETRIES: '0',
    });

    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('failed 1');
    expect(await outbox.pending()).toBe(1);
  });
});
