import type { Config } from '../config';
import { logger } from '../logger';
import type { WebhookOutboxHealth } from './schemas';
import { getDeliveryOutbox } from './store-outbox';

/** /health answers fast whatever the store does: a listing slower than this is reported, not waited for. */
const HEALTH_STORE_TIMEOUT_MS = 2_000;

/** The outbox's backlog from one listing of its store; a failing store is reported, not thrown. */
export async function webhookOutboxHealth(config: Config, now: number): Promise<WebhookOutboxHealth> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the outbox store did not answer within ${HEALTH_STORE_TIMEOUT_MS} ms`)),
      HEALTH_STORE_TIMEOUT_MS,
    );
  });
  try {
    const backlog = await Promise.race([getDeliveryOutbox(config).backlog(now), timeout]);
    return {
      pending: backlog.pending,
      dead_letters: backlog.deadLettered,
      oldest_pending_age_seconds: backlog.oldestPendingAgeSeconds,
    };
  } catch (error) {
    logger.warn('health: the webhook outbox could not be read', {
      error: error instanceof Error ? error.message : String(error),
    });
    return {
      pending: null,
      dead_letters: null,
      oldest_pending_age_seconds: null,
      error: 'the webhook outbox could not be read',
    };
  } finally {
    clearTimeout(timer);
  }
}
