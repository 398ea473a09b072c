import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { logger } from '../logger';
import type { DayEvents } from '../loki/day-cache';
import type { ObjectStore } from '../store/object-store';
import { DAY_MS, isoDay, nextMonthStart } from '../time';

/**
 * A persistent store of closed days, the durable sibling of `DayCache`: one object per selection and UTC day,
 * holding that day's events (not derived numbers), so records rebuilt from them stay exact, including records
 * that span days. One small object per day keeps writes idempotent and lets a backfill resume day by day;
 * the key `v<FORMAT>/<selection hash>/<yyyy-mm>/<yyyy-mm-dd>.json.gz` puts the format in every key, so a
 * new format never reads an old object, and a month's days list under one prefix. Objects are validated on
 * read; an invalid or other-version object reads as absent, so its day is fetched again and rewritten.
 * Where the bytes live (a directory, S3) is the ObjectStore's business: this is only the codec and the keys.
 *
 * A closed month whose days are all stored is also kept whole, compacted into one object beside their
 * folder (`<yyyy-mm>.month.json.gz`, written by the fill: lib/rollups/compact.ts). Days stay the unit of
 * writing; a month object is only a copy of its days read in one GET, which a cold year needs 13 of
 * instead of 365 (S3 charges and waits per request, and the SDK spends ~1 ms of CPU on each). It is
 * written only from the stored days, and again whenever one of them is rebuilt.
 */

/**
 * 2: incidents carry `stateAt` and `withdrawn` (issue events of every action, the latest state wins).
 * 3: each event may carry the labels a filter selects on (`filterLabels`), so that a team's, a
 * repository's or a service's request narrows the namespace's days instead of reading its own.
 */
export const ROLLUP_FORMAT = 3;

/**
 * The events exactly as lib/loki/parse.ts makes them. Strict: an object with a field this release does not
 * make (or lacking one it does) is invalid and recomputed, so a parser change that forgot to raise the
 * format still never serves events of another shape.
 *
 * Checked by hand, not by a zod schema: the check runs on every event of every day a request reads (a
 * year of 300 repositories is ~300,000 events, of 5,000 some 5 million). Decoding a day (gunzip,
 * JSON.parse, check) measured 78 ms with zod's check and 44 ms with these for 14,500 events (5,000
 * repositories), 1.6 and 1.5 ms for 870 (300 repositories): zod copies every object it checks, and the
 * copies' garbage grows with the day. test/rollups/store.test.ts holds the
 * same shapes as a zod schema and checks that the two accept the same generated objects.
 */
type Check = (value: unknown) => boolean;

const isText: Check = (value) => typeof value === 'string';
const isNullableText: Check = (value) => value === null || typeof value === 'string';
const isEpochMs: Check = (value) => Number.isSafeInteger(value);
const isNullableEpochMs: Check = (value) => value === null || Number.isSafeInteger(value);
const isBoolean: Check = (value) => typeof value === 'boolean';

/** Field name to check; `optional` fields may be absent. */
type Shape = Record<string, { check: Check; optional?: boolean }>;

const repositoryShape: Shape = {
  repository: { check: isText },
  owner: { check: isNullableText },
  team: { check: isNullableText },
};
const deploymentShape: Shape = {
  ...repositoryShape,
  environment: { check: isText },
  sha: { check: isText },
  deploymentId: { check: isText },
  state: { check: isText },
  createdAt: { check: isEpochMs },
  url: { check: isText },
};
const incidentShape: Shape = {
  ...repositoryShape,
  id: { check: isText },
  title: { check: isNullableText },
  createdAt: { check: isEpochMs },
  closedAt: { check: isNullableEpochMs },
  url: { check: isText },
  stateAt: { check: isEpochMs, optional: true },
  withdrawn: { check: isBoolean, optional: true },
};
const mergeShape: Shape = {
  ...repositoryShape,
  sha: { check: isText },
  title: { check: isNullableText },
  user: { check: isNullableText },
  mergedAt: { check: isEpochMs },
  url: { check: isNullableText },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every field of `shape` present (unless optional) and valid, and no other field. */
function hasShape(value: unknown, shape: Shape, required: number): boolean {
  if (!isPlainObject(value)) return false;
  let present = 0;
  for (const key in value) {
    if (!Object.hasOwn(shape, key)) return false;
    const field = shape[key];
    if (field === undefined || !field.check(value[key])) return false;
    if (field.optional !== true) present += 1;
  }
  return present === required;
}

const requiredFields = (shape: Shape) => Object.values(shape).filter((field) => !field.optional).length;

const TIMESTAMP = /^\d+$/;
const LABEL = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `filterLabels` of lib/loki/logql.ts: label names to values, never empty when present. */
function isFilterLabels(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  let count = 0;
  for (const key in value) {
    if (!LABEL.test(key) || typeof value[key] !== 'string') return false;
    count += 1;
  }
  return count > 0;
}

/** `[timestampNs, event]` or `[timestampNs, event, labels]` with the event of `shape`, for every entry. */
function entriesOf(value: unknown, shape: Shape): boolean {
  if (!Array.isArray(value)) return false;
  const required = requiredFields(shape);
  for (const entry of value) {
    if (!Array.isArray(entry) || (entry.length !== 2 && entry.length !== 3)) return false;
    const [timestamp, event] = entry;
    if (typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp)) return false;
    if (!hasShape(event, shape, required)) return false;
    if (entry.length === 3 && !isFilterLabels(entry[2])) return false;
  }
  return true;
}

const OBJECT_KEYS = ['dayStart', 'events', 'format', 'selection'];
const EVENT_KEYS = ['deployments', 'incidents', 'merges'];

const hasExactly = (value: Record<string, unknown>, keys: readonly string[]) =>
  Object.keys(value).sort().join() === keys.join();

/** The events of one day when they are valid events of this format. */
function validEvents(events: unknown): DayEvents | undefined {
  if (!isPlainObject(events) || !hasExactly(events, EVENT_KEYS)) return undefined;
  const valid =
    entriesOf(events.deployments, deploymentShape) &&
    entriesOf(events.incidents, incidentShape) &&
    entriesOf(events.merges, mergeShape);
  return valid ? (events as unknown as DayEvents) : undefined;
}

/** The events of a parsed object when it is a valid object of this format for this selection and day. */
function validDay(value: unknown, selection: string, dayStart: number): DayEvents | undefined {
  if (!isPlainObject(value) || !hasExactly(value, OBJECT_KEYS)) return undefined;
  if (value.format !== ROLLUP_FORMAT || value.selection !== selection || value.dayStart !== dayStart)
    return undefined;
  return validEvents(value.events);
}

const MONTH_KEYS = ['days', 'format', 'monthStart', 'selection'];

/**
 * The days of a parsed month object when it is a valid object of this format for this selection and
 * month, holding every day of the month once, in order, each valid.
 */
function validMonth(
  value: unknown,
  selection: string,
  monthStart: number,
): Map<number, DayEvents> | undefined {
  if (!isPlainObject(value) || !hasExactly(value, MONTH_KEYS)) return undefined;
  if (value.format !== ROLLUP_FORMAT || value.selection !== selection || value.monthStart !== monthStart)
    return undefined;
  const expected = daysOfMonth(monthStart);
  const { days } = value;
  if (!Array.isArray(days) || days.length !== expected.length) return undefined;
  const month = new Map<number, DayEvents>();
  for (const [index, dayStart] of expected.entries()) {
    const entry: unknown = days[index];
    if (!Array.isArray(entry) || entry.length !== 2 || entry[0] !== dayStart) return undefined;
    const events = validEvents(entry[1]);
    if (events === undefined) return undefined;
    month.set(dayStart, events);
  }
  return month;
}

/** The starts of every day of the UTC month starting at `monthStart`. */
export function daysOfMonth(monthStart: number): number[] {
  const next = nextMonthStart(monthStart);
  const days: number[] = [];
  for (let day = monthStart; day < next; day += DAY_MS) days.push(day);
  return days;
}

/** The key prefix of one selection's days (of this format). */
export function selectionPrefix(selection: string): string {
  const hash = createHash('sha256').update(selection).digest('hex').slice(0, 16);
  return `v${ROLLUP_FORMAT}/${hash}/`;
}

export function dayKey(selection: string, dayStart: number): string {
  const day = isoDay(dayStart);
  return `${selectionPrefix(selection)}${day.slice(0, 7)}/${day}.json.gz`;
}

/** A month's object sits beside the folder of its days: `v<FORMAT>/<selection hash>/<yyyy-mm>.month.json.gz`. */
export function monthKey(selection: string, monthStart: number): string {
  return `${selectionPrefix(selection)}${new Date(monthStart).toISOString().slice(0, 7)}.month.json.gz`;
}

export function encodeMonth(
  selection: string,
  monthStart: number,
  days: ReadonlyMap<number, DayEvents>,
): Buffer {
  const entries = daysOfMonth(monthStart).map((dayStart) => {
    const events = days.get(dayStart);
    if (events === undefined)
      throw new Error(`month ${monthKey(selection, monthStart)} lacks day ${dayStart}`);
    return [dayStart, events];
  });
  return gzipSync(JSON.stringify({ format: ROLLUP_FORMAT, selection, monthStart, days: entries }));
}

/** Every day of the month, or undefined when the bytes are not a valid month object of this format. */
export function decodeMonth(
  bytes: Buffer,
  selection: string,
  monthStart: number,
): Map<number, DayEvents> | undefined {
  try {
    return validMonth(JSON.parse(gunzipSync(bytes).toString('utf8')), selection, monthStart);
  } catch {
    return undefined;
  }
}

export function encodeDay(selection: string, dayStart: number, events: DayEvents): Buffer {
  return gzipSync(JSON.stringify({ format: ROLLUP_FORMAT, selection, dayStart, events }));
}

/** The day's events, or undefined when the bytes are not a valid object of this format for this day. */
export function decodeDay(bytes: Buffer, selection: string, dayStart: number): DayEvents | undefined {
  try {
    return validDay(JSON.parse(gunzipSync(bytes).toString('utf8')), selection, dayStart);
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

  /** Every day of the stored month, or undefined when absent or not a valid month object (then logged). */
  async getMonth(selection: string, monthStart: number): Promise<Map<number, DayEvents> | undefined> {
    const key = monthKey(selection, monthStart);
    const bytes = await this.objects.get(key);
    if (bytes === undefined) return undefined;
    const days = decodeMonth(bytes, selection, monthStart);
    if (days === undefined)
      logger.warn('Rollup object ignored: not a valid month of this format', { key, format: ROLLUP_FORMAT });
    return days;
  }

  /** Replaces the month's object whole, from the days it holds (every day of the month). */
  async setMonth(selection: string, monthStart: number, days: ReadonlyMap<number, DayEvents>): Promise<void> {
    await this.objects.put(monthKey(selection, monthStart), encodeMonth(selection, monthStart, days));
  }

  /**
   * What one listing of a selection's prefix shows in this format: the days (`yyyy-mm-dd`) stored and the
   * months (`yyyy-mm`) compacted, each ascending.
   */
  async contents(selection: string): Promise<{ days: string[]; months: string[] }> {
    const keys = await this.objects.list(selectionPrefix(selection));
    return {
      days: keys.flatMap((key) => /\/(\d{4}-\d{2}-\d{2})\.json\.gz$/.exec(key)?.[1] ?? []),
      months: keys.flatMap((key) => /\/(\d{4}-\d{2})\.month\.json\.gz$/.exec(key)?.[1] ?? []),
    };
  }

  /** The months (`yyyy-mm`) compacted for a selection in this format, ascending. */
  async months(selection: string): Promise<string[]> {
    return (await this.contents(selection)).months;
  }

  /** The days (`yyyy-mm-dd`) stored for a selection in this format, ascending. */
  async days(selection: string): Promise<string[]> {
    return (await this.contents(selection)).days;
  }
}
