import type { Config } from '../config';
import { logger } from '../logger';
import { getLokiWriter } from '../loki/push';
import { recordWebhookOutbox } from '../observability/metrics';
import type { Secrets } from '../secrets';
import { type Backlog, type ForwardResult, getDeliveryOutbox } from './store-outbox';

export interface ReplayResult extends ForwardResult {
  backlog: Backlog;
}

/**
 * One pass over the webhook outbox: forwards what waits to Loki (LOKI_CONCURRENCY pushes at once), then
 * reports the backlog left in the log and the metrics. The scheduled function, `npm start`'s timer and
 * `npm run webhooks -- replay` all run this.
 */
export async function replayWebhookBacklog(
  config: Config,
  secrets: Pick<Secrets, 'lokiToken'>,
  options: { deadline?: number } = {},
): Promise<ReplayResult> {
  const outbox = getDeliveryOutbox(config);
  // Without LOKI_URL there is nowhere to forward to: the backlog is still counted and shown.
  const forward =
    config.loki.url === undefined
      ? { forwarded: 0, failed: 0, deadLettered: 0, skipped: await outbox.pending() }
      : await outbox.forward(getLokiWriter(config, secrets), {
          concurrency: config.loki.concurrency,
          ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
        });
  const backlog = await outbox.backlog();
  recordWebhookOutbox(forward, backlog);
  const tried = forward.forwarded + forward.failed + forward.deadLettered;
  if (tried > 0 || backlog.pending > 0) {
    logger.info('webhook outbox forwarded', { ...forward, backlog, store: outbox.store.description });
  }
  return { ...forward, backlog };
}
