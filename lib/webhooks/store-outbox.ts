import pLimit from 'p-limit';
import * as z from 'zod';
import type { Config } from '../config';
import { UpstreamError } from '../errors';
import { logger } from '../logger';
import { logqlString } from '../loki/logql';
import { INDEX_LABELS, type LokiWriter } from '../loki/push';
import type { LokiEntry } from '../loki/types';
import { boundedMemo } from '../memo';
import type { ObjectStore } from '../store/object-store';
import { openObjectStore } from '../store/open';
import type { DeliveryOutbox, PendingDelivery } from './outbox';

/**
 * Verified webhook deliveries that Loki did not accept (down, slow, refusing) wait here, one object per
 * delivery, until a later forward pushes them. GitHub does not retry a failed delivery by itself, so
 * what the receiver answered 2xx for must survive until Loki has it.
 *
 * Layout under the store's root (WEBHOOK_OUTBOX_URL): `pending/<received>_<id>.json`, oldest first in
 * key order, so /health needs one listing and no reads; `dead-letter/<same name>` for deliveries Loki
 * refused for good (an entry too old, a line too long), kept with what Loki said (`refusal`) for an operator.
 */

export interface ForwardResult {
  /** Pushed and accepted by Loki, then removed. */
  forwarded: number;
  /** Loki failed or could not be reached: kept for the next forward. */
  failed: number;
  /** Refused by Loki for good: moved to the dead letters. */
  deadLettered: number;
  /** Not tried in this run (Loki failed earlier in it, or the deadline came): still pending. */
  skipped: number;
}

export interface ForwardOptions {
  /** Pushes in flight at once (default 4). */
  concurrency?: number;
  /** Epoch ms after which no new push starts (a scheduled function's own timeout). */
  deadline?: number;
  now?: () => number;
}

export interface Backlog {
  pending: number;
  deadLettered: number;
  /** Age of the oldest pending delivery in seconds; null when none waits. */
  oldestPendingAgeSeconds: number | null;
}

export const PENDING_PREFIX = 'pending/';
export const DEAD_LETTER_PREFIX = 'dead-letter/';

const FORMAT = 1;
const DEFAULT_CONCURRENCY = 4;

const entrySchema = z.object({
  labels: z.record(z.string(), z.string()),
  timestampNs: z.string().regex(/^\d+$/),
  line: z.string(),
});

const storedSchema = z.object({
  format: z.literal(FORMAT),
  delivery: z.object({
    id: z.string().min(1),
    event: z.string(),
    action: z.string().optional(),
    repository: z.string().optional(),
    receivedAt: z.iso.datetime({ offset: true }),
    entries: z.array(entrySchema),
  }),
});

export class OutboxError extends Error {
  override readonly name = 'OutboxError';
}

/**
 * `20261206T204500123Z`: the received time in a fixed width, so key order is time order (an ISO string's
 * colons are not welcome in every file system).
 */
function compactTime(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new OutboxError(`receivedAt is not a time: ${JSON.stringify(iso)}`);
  return new Date(ms).toISOString().replace(/[-:.]/g, '');
}

function timeOfName(name: string): number | undefined {
  const match = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(\d{3})Z_/.exec(name);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, ms] = match;
  return Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`);
}

/** The id as it appears in a key: GitHub's GUIDs as they are, anything else percent-encoded. */
function keyId(id: string): string {
  if (id === '') throw new OutboxError('a delivery needs an id');
  return encodeURIComponent(id).replace(/[!'()*.~%]/g, (char) =>
    char === '%' ? '+' : `+${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function nameOf(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}

/**
 * Loki refused this delivery itself, and would again: a 4xx about the request (400 entry too old or too far
 * behind, line too long; 413; 422). Credentials (401, 403), a wrong URL (404), 408 and 429 are about Loki or
 * the setup, not this delivery: those wait, or one misconfiguration would empty the queue into dead letters.
 */
function refusedForGood(error: unknown): error is UpstreamError {
  if (!(error instanceof UpstreamError) || error.upstreamStatus === undefined) return false;
  const status = error.upstreamStatus;
  return status >= 400 && status < 500 && ![401, 403, 404, 408, 429].includes(status);
}

export class StoreDeliveryOutbox implements DeliveryOutbox {
  constructor(readonly store: ObjectStore) {}

  async keep(delivery: PendingDelivery): Promise<void> {
    const id = keyId(delivery.id);
    const stored = storedSchema.parse({ format: FORMAT, delivery });
    const suffix = `_${id}.json`;
    // A redelivery of a pending one (GitHub keeps the id, the received time differs) is the same delivery.
    const existing = await this.store.list(PENDING_PREFIX);
    if (existing.some((key) => key.endsWith(suffix))) return;
    const key = `${PENDING_PREFIX}${compactTime(delivery.receivedAt)}${suffix}`;
    await this.store.put(key, Buffer.from(JSON.stringify(stored)));
  }

  async pending(): Promise<number> {
    return (await this.store.list(PENDING_PREFIX)).length;
  }

  /** What /health shows, from one listing of the store. */
  async backlog(now = Date.now()): Promise<Backlog> {
    const keys = await this.store.list('');
    const pending = keys.filter((key) => key.startsWith(PENDING_PREFIX));
    const oldest = pending.length === 0 ? undefined : timeOfName(nameOf(pending[0] as string));
    return {
      pending: pending.length,
      deadLettered: keys.filter((key) => key.startsWith(DEAD_LETTER_PREFIX)).length,
      oldestPendingAgeSeconds: oldest === undefined ? null : Math.max(0, Math.floor((now - oldest) / 1000)),
    };
  }

  /**
   * Pushes pending deliveries to Loki, oldest first, `concurrency` at a time, and removes each only once
   * Loki accepted it. A delivery whose entries Loki holds already (a push that went through before a crash
   * kept it from being removed, or a redelivery of one written meanwhile) is removed without a push: Loki
   * drops an identical entry by itself only in log queries and only until it flushes the first one, so
   * relying on that alone could count a delivery twice in metric queries (see test/real-loki/outbox.test.ts).
   * The first failure that is Loki's (down, slow, 5xx, credentials) ends the run: the rest waits for the next.
   */
  async forward(
    sink: Pick<LokiWriter, 'push' | 'newest'>,
    options: ForwardOptions = {},
  ): Promise<ForwardResult> {
    const now = options.now ?? Date.now;
    const result: ForwardResult = { forwarded: 0, failed: 0, deadLettered: 0, skipped: 0 };
    const keys = await this.store.list(PENDING_PREFIX);
    const limit = pLimit(options.concurrency ?? DEFAULT_CONCURRENCY);
    let lokiFailing = false;

    const forwardOne = async (key: string): Promise<void> => {
      if (lokiFailing || (options.deadline !== undefined && now() >= options.deadline)) {
        result.skipped += 1;
        return;
      }
      const bytes = await this.store.get(key);
      // Another forward (a second schedule, the CLI) finished it meanwhile.
      if (bytes === undefined) return;
      const parsed = storedSchema.safeParse(safeJson(bytes));
      if (!parsed.success) {
        await this.deadLetter(key, bytes, { reason: 'unreadable', message: 'not a stored delivery' });
        result.deadLettered += 1;
        return;
      }
      // zod types absent optionals as `| undefined`; the parsed object has none of them set to undefined.
      const delivery = parsed.data.delivery as PendingDelivery;
      try {
        // A look-up Loki refuses (a query it cannot take) proves nothing either way: push, as without it.
        const held = await heldByLoki(sink, delivery.entries).catch((error: unknown) => {
          if (refusedForGood(error)) return false;
          throw error;
        });
        if (!held) await sink.push(delivery.entries);
      } catch (error) {
        if (refusedForGood(error)) {
          const refusal = { reason: 'refused', status: error.upstreamStatus, message: error.message };
          await this.deadLetter(key, bytes, refusal, delivery);
          result.deadLettered += 1;
          return;
        }
        lokiFailing = true;
        result.failed += 1;
        logger.warn('webhook delivery kept for the next forward: Loki did not accept it', {
          ...describe(delivery),
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      await this.store.delete(key);
      result.forwarded += 1;
    };

    // A store failure (the delete after an accepted push, say) leaves that delivery pending: it is pushed
    // again next time, a repeat Loki drops.
    const guarded = async (key: string): Promise<void> => {
      try {
        await forwardOne(key);
      } catch (error) {
        result.failed += 1;
        logger.error('webhook delivery kept for the next forward: the outbox store failed', {
          key,
          store: this.store.description,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    };
    await Promise.all(keys.map((key) => limit(() => guarded(key))));
    return result;
  }

  /**
   * Puts every dead letter back in the queue (what Loki said is dropped), for after the cause is fixed: a
   * limit raised in Loki, say. Returns how many went back; unreadable ones stay where they are.
   */
  async requeue(): Promise<number> {
    let requeued = 0;
    for (const key of await this.store.list(DEAD_LETTER_PREFIX)) {
      const bytes = await this.store.get(key);
      const parsed = bytes === undefined ? undefined : storedSchema.safeParse(safeJson(bytes));
      if (!parsed?.success) continue;
      const stored = { format: FORMAT, delivery: parsed.data.delivery };
      await this.store.put(`${PENDING_PREFIX}${nameOf(key)}`, Buffer.from(JSON.stringify(stored)));
      await this.store.delete(key);
      requeued += 1;
    }
    return requeued;
  }

  private async deadLetter(
    key: string,
    bytes: Buffer,
    refusal: { reason: string; status?: number | undefined; message: string },
    delivery?: PendingDelivery,
  ): Promise<void> {
    // A readable delivery keeps what Loki said beside it; unreadable bytes are kept as they are.
    const kept =
      delivery === undefined
        ? bytes
        : Buffer.from(
            JSON.stringify({
              format: FORMAT,
              delivery,
              refusal: { ...refusal, deadLetteredAt: new Date().toISOString() },
            }),
          );
    await this.store.put(`${DEAD_LETTER_PREFIX}${nameOf(key)}`, kept);
    await this.store.delete(key);
    // Never the payload or the entries: which delivery, and what Loki said.
    logger.error('webhook delivery moved to the dead letters: Loki refused it for good', {
      ...(delivery ? describe(delivery) : { key }),
      ...refusal,
    });
  }
}

/** Whether Loki holds every entry already: same stream (index labels), nanosecond and line. */
async function heldByLoki(
  writer: Pick<LokiWriter, 'newest'>,
  entries: readonly LokiEntry[],
): Promise<boolean> {
  if (entries.length === 0) return false;
  for (const entry of entries) {
    const selector = INDEX_LABELS.map((name) => `${name}=${logqlString(entry.labels[name] ?? '')}`).join(
      ', ',
    );
    const at = BigInt(entry.timestampNs);
    const found = await writer.newest(`{${selector}}`, { startNs: at, endNs: at + 1n }, 100);
    if (!found.some((held) => held.line === entry.line)) return false;
  }
  return true;
}

function describe(delivery: PendingDelivery): Record<string, string | undefined> {
  return {
    delivery: delivery.id,
    event: delivery.event,
    action: delivery.action,
    repository: delivery.repository,
    receivedAt: delivery.receivedAt,
  };
}

function safeJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

const outboxes = boundedMemo<StoreDeliveryOutbox>(4);

/** The outbox of this configuration, built once per container. */
export function getDeliveryOutbox(config: Pick<Config, 'webhookOutboxUrl'>): StoreDeliveryOutbox {
  return outboxes(
    config.webhookOutboxUrl,
    () =>
      new StoreDeliveryOutbox(openObjectStore(config.webhookOutboxUrl, { variable: 'WEBHOOK_OUTBOX_URL' })),
  );
}
