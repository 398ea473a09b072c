import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { handler } from '../../functions/health';
import { getConfig } from '../../lib/config';
import { DEAD_LETTER_PREFIX, getDeliveryOutbox } from '../../lib/webhooks/store-outbox';
import { setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

describe('GET /health', () => {
  it('answers 200 with status, version and time without calling any upstream', async () => {
    const response = await invoke(handler, { path: '/health' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['Content-Type']).toMatch(/^application\/json/);
    expect(response.json).toEqual({
      status: 'ok',
      version: expect.any(String),
      stage: expect.any(String),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/),
      gitops: { tracked_pairs: expect.any(Number), source: 'container' },
      webhooks: { pending: 0, dead_letters: 0, oldest_pending_age_seconds: null },
    });
  });

  it('shows the webhook backlog: deliveries waiting for Loki, dead letters and how long the oldest has waited', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'health-outbox-'));
    const restore = setEnv({ WEBHOOK_OUTBOX_URL: pathToFileURL(dir).href });
    try {
      const entry = { labels: { service_name: 'orders' }, timestampNs: '1', line: '{}' };
      const outbox = getDeliveryOutbox(getConfig());
      await outbox.keep({
        id: 'a',
        event: 'ping',
        receivedAt: new Date(Date.now() - 300_000).toISOString(),
        entries: [entry],
      });
      await outbox.keep({ id: 'b', event: 'ping', receivedAt: new Date().toISOString(), entries: [entry] });
      await outbox.store.put(`${DEAD_LETTER_PREFIX}20261201T000000000Z_c.json`, Buffer.from('{}'));

      const response = await invoke(handler, { path: '/health' });

      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({ webhooks: { pending: 2, dead_letters: 1 } });
      const age = (response.json as { webhooks: { oldest_pending_age_seconds: number } }).webhooks
        .oldest_pending_age_seconds;
      expect(age).toBeGreaterThanOrEqual(300);
      expect(age).toBeLessThan(330);
    } finally {
      restore();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stays 200 and says so when the webhook outbox cannot be read', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'health-outbox-'));
    const notADirectory = path.join(dir, 'file');
    await writeFile(notADirectory, 'not a directory');
    const restore = setEnv({ WEBHOOK_OUTBOX_URL: pathToFileURL(notADirectory).href });
    try {
      const response = await invoke(handler, { path: '/health' });

      expect(response.statusCode).toBe(200);
      expect(response.json).toMatchObject({
        status: 'ok',
        webhooks: { pending: null, dead_letters: null, error: 'the webhook outbox could not be read' },
      });
    } finally {
      restore();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('carries CORS headers for browser clients', async () => {
    const response = await invoke(handler, {
      path: '/health',
      headers: { origin: 'https://dash.example.com' },
    });

    expect(response.headers['Access-Control-Allow-Origin']).toBe('*');
  });
});
