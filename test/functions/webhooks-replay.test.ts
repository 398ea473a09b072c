import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ScheduledEvent } from 'aws-lambda';
import { handler } from '../../functions/webhooks-replay';
import { getConfig } from '../../lib/config';
import { resetMetricsForTests } from '../../lib/observability/metrics';
import { getDeliveryOutbox } from '../../lib/webhooks/store-outbox';
import { useLokiStandIn } from '../helpers/environment';
import { lambdaContext } from '../helpers/lambda';

const scheduled = { 'detail-type': 'Scheduled Event', source: 'aws.events' } as ScheduledEvent;

/** The EMF lines Powertools writes to stdout while `run` runs. */
async function captureEmf<T>(
  run: () => Promise<T>,
): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    const result = await run();
    const lines = written
      .flatMap((text) => text.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { result, lines };
  } finally {
    spy.mockRestore();
  }
}

describe('the scheduled webhook replay', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'replay-'));
  });
  afterEach(async () => {
    resetMetricsForTests();
    await rm(dir, { recursive: true, force: true });
  });

  it('forwards the backlog to Loki and publishes what it did and what is left as metrics', async () => {
    const { loki, restore } = await useLokiStandIn(
      {},
      {
        WEBHOOK_OUTBOX_URL: pathToFileURL(dir).href,
        POWERTOOLS_METRICS_DISABLED: 'false',
        LOKI_CONCURRENCY: '1',
      },
    );
    try {
      const outbox = getDeliveryOutbox(getConfig());
      const receivedAt = new Date().toISOString();
      const entry = {
        labels: { service_name: 'orders', service_namespace: 'github' },
        timestampNs: `${Date.now()}000000`,
        line: '{}',
      };
      await outbox.keep({ id: 'a', event: 'ping', receivedAt, entries: [entry] });
      await outbox.keep({ id: 'b', event: 'ping', receivedAt, entries: [{ ...entry, line: '{"b":1}' }] });
      // The look-up before the push, then the push itself.
      loki.failNext(400, 2, 'entry too far behind');

      const { result, lines } = await captureEmf(() =>
        handler(scheduled, lambdaContext('webhooksReplay', 55_000)),
      );

      expect(result).toEqual({
        forwarded: 1,
        failed: 0,
        deadLettered: 1,
        skipped: 0,
        backlog: { pending: 0, deadLettered: 1, oldestPendingAgeSeconds: null },
      });
      expect(lines).toEqual([
        expect.objectContaining({
          route: 'webhooks-replay',
          WebhooksForwarded: 1,
          WebhooksForwardFailed: 0,
          WebhooksDeadLettered: 1,
          WebhookBacklog: 0,
          WebhookDeadLetters: 1,
          WebhookBacklogAge: 0,
        }),
      ]);
    } finally {
      await restore();
    }
  });

  it('leaves the backlog in place and counts it when Loki is down', async () => {
    const { loki, restore } = await useLokiStandIn(
      {},
      { WEBHOOK_OUTBOX_URL: pathToFileURL(dir).href, LOKI_MAX_RETRIES: '0' },
    );
    try {
      const receivedAt = new Date(Date.now() - 120_000).toISOString();
      const entry = {
        labels: { service_name: 'orders', service_namespace: 'github' },
        timestampNs: '1',
        line: '{}',
      };
      await getDeliveryOutbox(getConfig()).keep({
        id: 'waiting',
        event: 'ping',
        receivedAt,
        entries: [entry],
      });
      loki.failNext(502, 1);

      const result = await handler(scheduled, lambdaContext('webhooksReplay', 55_000));

      expect(result).toMatchObject({ forwarded: 0, failed: 1, backlog: { pending: 1, deadLettered: 0 } });
      expect(result.backlog.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(120);
    } finally {
      await restore();
    }
  });
});
