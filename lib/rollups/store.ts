import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { logger } from '../logger';
import type { DayEvents } from '../loki/day-cache';
import type { ObjectStore } from '../store/object-store';

/**
 * A persistent store of closed days, the durable sibling of `DayCache`: one object per selection and UTC day,
 * holding that day's events (not derived numbers), so records rebuilt from them stay exact, including records
 * that span days. One small object per day keeps writes idempotent and lets a backfill resume day by day;
 * the key `v<FORMAT>/<selection hash>/<yyyy-mm>/<yyyy-mm-dd>.json.gz` puts the format in every key, so a
 * new format never reads an old object, and a month's days list under one prefix. Objects are validated on
 * read; an invalid or other-version object reads as absent, so its day is fetched again and rewritten.
 * Where the bytes live (a directory, S3) is the ObjectStore's business: this is only the codec and the keys.
 */

/**
 * 2: incidents carry `stateAt` and `withdrawn` (issue events of every action, the latest state wins).
 * 3: each event may carry the labels a filter selects on (`filterLabels`), so that a team's, a
 * repository's or a service's request narrows the namespace's days instead of reading its own.
 */
export const ROLLUP_FORMAT = 3;

const epochMs = z.number().int();
const nullableText = z.string().nullable();
const repository = { repository: z.string(), owner: nullableText, team: nullableText };

/**
 * The events exactly as lib/loki/parse.ts makes them. Strict: an object with a field this release does not
 * make (or lacking one it does) is invalid and recomputed, so a parser change that forgot to raise the
 * format still never serves events of another shape.
 */
const deployment = z.strictObject({
  ...repository,
  environment: z.string(),
  sha: z.string(),
  deploymentId: z.string(),
  state: z.string(),
  createdAt: epochMs,
  url: z.string(),
});
const incident = z.strictObject({
  ...repository,
  id: z.string(),
  title: nullableText,
  createdAt: epochMs,
  closedAt: epochMs.nullable(),
  url: z.string(),
  stateAt: epochMs.optional(),
  withdrawn: z.boolean().optional(),
});
const merge = z.strictObject({
  ...repository,
  sha: z.string(),
  title: nullableText,
  user: nullableText,
  mergedAt: epochMs,
  url: nullableText,
});

/** `filterLabels` of lib/loki/logql.ts: label names to values (never empty when present). */
const labels = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
  .refine((record) => Object.keys(record).length > 0);

const timestamped = <T extends z.ZodType>(event: T) =>
  z.array(z.tuple([z.string().regex(/^\d+$/), event, labels.optional()]));

const objectSchema = z.strictObject({
  format: z.literal(ROLLUP_FORMAT),
  selection: z.string(),
  dayStart: z.number().int(),
  events: z.strictObject({
    deployments: timestamped(deployment),
    incidents: timestamped(incident),
    merges: timestamped(merge),
  }),
});

/** The key prefix of one selection's days (of this format). */
export function selectionPrefix(selection: string): string {
  const hash = createHash('sha256').update(selection).digest('hex').slice(0, 16);
  return `v${ROLLUP_FORMAT}/${hash}/`;
}

export function dayKey(selection: string, dayStart: number): string {
  const day = new Date(dayStart).toISOString().slice(0, 10);
  return `${selectionPrefix(selection)}${day.slice(0, 7)}/${day}.json.gz`;
}

export function encodeDay(selection: string, dayStart: number, events: DayEvents): Buffer {
  return gzipSync(JSON.stringify({ format: ROLLUP_FORMAT, selection, dayStart, events }));
}

/** The day's events, or undefined when the bytes are not a valid object of this format for this day. */
export function decodeDay(bytes: Buffer, selection: string, dayStart: number): DayEvents | undefined {
  try {
    const parsed = objectSchema.safeParse(JSON.parse(gunzipSync(bytes).toString('utf8')));
    if (!parsed.success || parsed.data.selection !== selection || parsed.data.dayStart !== dayStart)
      return undefined;
    return parsed.data.events satisfies DayEvents;
  } catch {
    return undefined;
  }
}

/** Closed days of event selections, encoded into objects of an ObjectStore. */
export class RollupStore {
  constructor(readonly objects: ObjectStore) {}

  get description(): string {
    return this.objects.description;
  }

  /** The stored day, or undefined when absent or not a valid object of this format (then logged). */
  async get(selection: string, dayStart: number): Promise<DayEvents | undefined> {
    const key = dayKey(selection, dayStart);
    const bytes = await this.objects.get(key);
    if (bytes === undefined) return undefined;
    const events = decodeDay(bytes, selection, dayStart);
    if (events === undefined)
      logger.warn('Rollup object ignored: not a valid day of this format', { key, format: ROLLUP_FORMAT });
    return events;
  }

  /** Replaces the day's object whole (the ObjectStore's put is atomic), so racing writers never tear it. */
  async set(selection: string, dayStart: number, events: DayEvents): Promise<void> {
    await this.objects.put(dayKey(selection, dayStart), encodeDay(selection, dayStart, events));
  }

  /** The days (`yyyy-mm-dd`) stored for a selection in this format, ascending. */
  async days(selection: string): Promise<string[]> {
    const prefix = selectionPrefix(selection);
    const keys = await this.objects.list(prefix);
    return keys.flatMap((key) => /\/(\d{4}-\d{2}-\d{2})\.json\.gz$/.exec(key)?.[1] ?? []);
  }
}
