import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { logger } from '../logger';
import { type DayEntry, type DayEvents, emptyDay } from '../loki/day-cache';
import type { FilteredEvent, FilterLabels } from '../loki/logql';
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
 * folder (`<yyyy-mm>.month.bin`, written by the fill: lib/rollups/compact.ts). Days stay the unit of
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

/**
 * A month's object sits beside the folder of its days: `v<FORMAT>/<selection hash>/<yyyy-mm>.month.bin`.
 * Its layout is versioned apart from the days' format: a new layout is compacted again from the stored
 * days by the next fill, never read from Loki again. Layout 1 (`<yyyy-mm>.month.json.gz`) is no longer read.
 */
export function monthKey(selection: string, monthStart: number): string {
  return `${selectionPrefix(selection)}${new Date(monthStart).toISOString().slice(0, 7)}.month.bin`;
}

/** The key of the month in layout 1, removed when the month is compacted again. */
export function legacyMonthKey(selection: string, monthStart: number): string {
  return `${selectionPrefix(selection)}${new Date(monthStart).toISOString().slice(0, 7)}.month.json.gz`;
}

/**
 * Month objects, layout 2: the month's events in sections, one per value of what a filter reads of an
 * event (`FilteredEvent` and its labels in lib/loki/logql.ts: the repository, the team label, the labels
 * differing from the repository), so that a filtered request decodes only the sections its filter keeps.
 * A filter answers the same for every event of a section, so deciding once per section is exact. Layout 1
 * held a month as one JSON document: at 5,000 repositories a team's request decoded all ~435,000 events
 * of each month to keep an eighth of them, and a repository's quarter some 1.3 million to keep a few hundred.
 *
 * Bytes: a 4-byte big-endian length, the gzipped header (JSON: format, layout, selection, month, where
 * each block and each section is), then the blocks, each gzipped on its own. A block holds consecutive
 * sections' JSON up to BLOCK_BYTES: a gzip per section would cost the organisation's reads one inflate per
 * section (thousands a month), one per month would make a filtered read inflate all of it. Sections are
 * ordered by repository, so one repository's sections share blocks. Each row keeps its position in its
 * day, so days come back in their original order whichever sections are read. Nothing is used unchecked:
 * the header, every section read and every event of it, which must belong to its section.
 */
export const MONTH_LAYOUT = 2;
const BLOCK_BYTES = 64 * 1024;
/** No day holds this many events of one kind: a larger place is not trusted (it would make a sparse array). */
const MAX_DAY_POSITION = 10_000_000;
const KINDS = ['deployments', 'incidents', 'merges'] as const;
type Kind = (typeof KINDS)[number];
const SHAPES: Record<Kind, Shape> = {
  deployments: deploymentShape,
  incidents: incidentShape,
  merges: mergeShape,
};

/** What a filter reads of an event, the key of a section. */
export interface SectionKey {
  repository: string;
  team: string | null;
  labels: FilterLabels | undefined;
}

/** Decides whether a section's events are wanted (a filter's predicate: the same for all of them). */
export type SectionFilter = (event: FilteredEvent, labels: FilterLabels | undefined) => boolean;

/** One event of a section: its day, its position among its day's events of its kind, its timestamp, it. */
type SectionRow = [dayStart: number, position: number, timestampNs: string, event: unknown];
type SectionBody = Record<Kind, SectionRow[]>;
/** A section in the header: its key, then its block and its byte range in the inflated block. */
type SectionPlace = [
  repository: string,
  team: string | null,
  labels: FilterLabels | null,
  block: number,
  start: number,
  end: number,
];

function sectionId(repository: string, team: string | null, labels: FilterLabels | undefined): string {
  const sortedLabels =
    labels === undefined ? null : Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify([repository, team, sortedLabels]);
}

export function encodeMonth(
  selection: string,
  monthStart: number,
  days: ReadonlyMap<number, DayEvents>,
): Buffer {
  const sections = new Map<string, { key: SectionKey; body: SectionBody }>();
  for (const dayStart of daysOfMonth(monthStart)) {
    const events = days.get(dayStart);
    if (events === undefined)
      throw new Error(`month ${monthKey(selection, monthStart)} lacks day ${dayStart}`);
    for (const kind of KINDS) {
      const entries: ReadonlyArray<DayEntry<FilteredEvent>> = events[kind];
      entries.forEach(([timestampNs, event, labels], position) => {
        const id = sectionId(event.repository, event.team, labels);
        let section = sections.get(id);
        if (section === undefined) {
          section = {
            key: { repository: event.repository, team: event.team, labels },
            body: { deployments: [], incidents: [], merges: [] },
          };
          sections.set(id, section);
        }
        section.body[kind].push([dayStart, position, timestampNs, event]);
      });
    }
  }
  const blocks: Buffer[] = [];
  const places: SectionPlace[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = () => {
    if (pending.length === 0) return;
    blocks.push(gzipSync(Buffer.concat(pending)));
    pending = [];
    pendingBytes = 0;
  };
  for (const id of [...sections.keys()].sort()) {
    const { key, body } = sections.get(id) as { key: SectionKey; body: SectionBody };
    const bytes = Buffer.from(JSON.stringify(body), 'utf8');
    places.push([
      key.repository,
      key.team,
      key.labels ?? null,
      blocks.length,
      pendingBytes,
      pendingBytes + bytes.length,
    ]);
    pending.push(bytes);
    pendingBytes += bytes.length;
    if (pendingBytes >= BLOCK_BYTES) flush();
  }
  flush();
  let offset = 0;
  const blockPlaces = blocks.map((block) => {
    const place = [offset, block.length];
    offset += block.length;
    return place;
  });
  const header = gzipSync(
    JSON.stringify({
      format: ROLLUP_FORMAT,
      layout: MONTH_LAYOUT,
      selection,
      monthStart,
      blocks: blockPlaces,
      sections: places,
    }),
  );
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, ...blocks]);
}

const HEADER_KEYS = ['blocks', 'format', 'layout', 'monthStart', 'sections', 'selection'];
const isOffset = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

interface MonthHeader {
  blocks: Array<[offset: number, length: number]>;
  sections: SectionPlace[];
}

function validHeader(
  value: unknown,
  selection: string,
  monthStart: number,
  bodyBytes: number,
): MonthHeader | undefined {
  if (!isPlainObject(value) || !hasExactly(value, HEADER_KEYS)) return undefined;
  if (
    value.format !== ROLLUP_FORMAT ||
    value.layout !== MONTH_LAYOUT ||
    value.selection !== selection ||
    value.monthStart !== monthStart
  )
    return undefined;
  const { blocks, sections } = value;
  if (!Array.isArray(blocks) || !Array.isArray(sections)) return undefined;
  for (const block of blocks) {
    if (!Array.isArray(block) || block.length !== 2 || !isOffset(block[0]) || !isOffset(block[1]))
      return undefined;
    if (block[0] + block[1] > bodyBytes) return undefined;
  }
  for (const place of sections) {
    if (!Array.isArray(place) || place.length !== 6) return undefined;
    const [repository, team, labels, block, start, end] = place;
    if (!isText(repository) || !isNullableText(team) || (labels !== null && !isFilterLabels(labels)))
      return undefined;
    if (!isOffset(block) || block >= blocks.length || !isOffset(start) || !isOffset(end) || end < start)
      return undefined;
  }
  return { blocks: blocks as MonthHeader['blocks'], sections: sections as SectionPlace[] };
}

/**
 * The rows of one section's JSON as day entries, each checked and belonging to the section, or undefined.
 * `add` receives each entry with its day and position.
 */
function readSection(
  text: string,
  key: SectionKey,
  monthDays: ReadonlySet<number>,
  add: (kind: Kind, dayStart: number, position: number, entry: DayEntry<unknown>) => void,
): boolean {
  const body: unknown = JSON.parse(text);
  if (!isPlainObject(body) || !hasExactly(body, EVENT_KEYS)) return false;
  for (const kind of KINDS) {
    const rows = body[kind];
    if (!Array.isArray(rows)) return false;
    const shape = SHAPES[kind];
    const required = requiredFields(shape);
    for (const row of rows) {
      if (!Array.isArray(row) || row.length !== 4) return false;
      const [dayStart, position, timestampNs, event] = row;
      if (!monthDays.has(dayStart) || !isOffset(position)) return false;
      if (typeof timestampNs !== 'string' || !TIMESTAMP.test(timestampNs)) return false;
      if (!hasShape(event, shape, required)) return false;
      const { repository, team } = event as unknown as FilteredEvent;
      if (repository !== key.repository || team !== key.team) return false;
      // The row becomes the entry: no second array per event.
      const entry = row as unknown[];
      entry[0] = timestampNs;
      entry[1] = event;
      if (key.labels === undefined) entry.length = 2;
      else {
        entry[2] = key.labels;
        entry.length = 3;
      }
      add(kind, dayStart, position, entry as DayEntry<unknown>);
    }
  }
  return true;
}

/**
 * Every day of the month, holding the events of the sections `wanted` keeps (all when absent), or
 * undefined when the bytes are not a valid month object of this format and layout.
 */
export function decodeMonth(
  bytes: Buffer,
  selection: string,
  monthStart: number,
  wanted?: SectionFilter,
): Map<number, DayEvents> | undefined {
  try {
    if (bytes.length < 4) return undefined;
    const headerBytes = bytes.readUInt32BE(0);
    const bodyStart = 4 + headerBytes;
    if (bodyStart > bytes.length) return undefined;
    const header = validHeader(
      JSON.parse(gunzipSync(bytes.subarray(4, bodyStart)).toString('utf8')),
      selection,
      monthStart,
      bytes.length - bodyStart,
    );
    if (header === undefined) return undefined;
    const monthDays = daysOfMonth(monthStart);
    const daySet = new Set(monthDays);
    // Each entry goes straight to its place in its day (no pairs to sort: a month is ~20,000 events at 300
    // repositories, ~435,000 at 5,000, and every allocation per event shows in a cold year's read).
    const slots = new Map<number, Record<Kind, Array<DayEntry<unknown> | undefined>>>();
    for (const dayStart of monthDays) slots.set(dayStart, { deployments: [], incidents: [], merges: [] });
    let duplicate = false;
    const add = (kind: Kind, dayStart: number, position: number, entry: DayEntry<unknown>) => {
      const slot = slots.get(dayStart)?.[kind];
      if (slot === undefined || position >= MAX_DAY_POSITION || slot[position] !== undefined)
        duplicate = true;
      else slot[position] = entry;
    };
    const inflated = new Map<number, Buffer>();
    for (const [repository, team, labelsOrNull, block, start, end] of header.sections) {
      const key: SectionKey = { repository, team, labels: labelsOrNull ?? undefined };
      if (wanted !== undefined && !wanted(key, key.labels)) continue;
      let blockBytes = inflated.get(block);
      if (blockBytes === undefined) {
        const [offset, length] = header.blocks[block] as [number, number];
        blockBytes = gunzipSync(bytes.subarray(bodyStart + offset, bodyStart + offset + length));
        inflated.set(block, blockBytes);
      }
      if (end > blockBytes.length) return undefined;
      if (!readSection(blockBytes.subarray(start, end).toString('utf8'), key, daySet, add)) return undefined;
    }
    if (duplicate) return undefined;
    const month = new Map<number, DayEvents>();
    for (const [dayStart, kinds] of slots) {
      const day = emptyDay() as unknown as Record<Kind, Array<DayEntry<unknown>>>;
      for (const kind of KINDS) {
        const slot = kinds[kind];
        // Every place 0 to n - 1 is taken when every section was read; a filter's places have gaps.
        const entries = slot.filter((entry): entry is DayEntry<unknown> => entry !== undefined);
        if (wanted === undefined && entries.length !== slot.length) return undefined;
        day[kind] = entries;
      }
      month.set(dayStart, day as unknown as DayEvents);
    }
    return month;
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

  /**
   * Every day of the stored month, or undefined when absent or not a valid month object (then logged);
   * with `wanted`, each day holds only the events of the sections it keeps (see MONTH_LAYOUT).
   */
  async getMonth(
    selection: string,
    monthStart: number,
    wanted?: SectionFilter,
  ): Promise<Map<number, DayEvents> | undefined> {
    const key = monthKey(selection, monthStart);
    const bytes = await this.objects.get(key);
    if (bytes === undefined) return undefined;
    const days = decodeMonth(bytes, selection, monthStart, wanted);
    if (days === undefined)
      logger.warn('Rollup object ignored: not a valid month of this format', {
        key,
        format: ROLLUP_FORMAT,
        layout: MONTH_LAYOUT,
      });
    return days;
  }

  /**
   * Replaces the month's object whole, from the days it holds (every day of the month), and removes the
   * month's object of the previous layout, which nothing reads.
   */
  async setMonth(selection: string, monthStart: number, days: ReadonlyMap<number, DayEvents>): Promise<void> {
    await this.objects.put(monthKey(selection, monthStart), encodeMonth(selection, monthStart, days));
    await this.objects.delete(legacyMonthKey(selection, monthStart));
  }

  /**
   * What one listing of a selection's prefix shows in this format: the days (`yyyy-mm-dd`) stored and the
   * months (`yyyy-mm`) compacted, each ascending.
   */
  async contents(selection: string): Promise<{ days: string[]; months: string[] }> {
    const keys = await this.objects.list(selectionPrefix(selection));
    return {
      days: keys.flatMap((key) => /\/(\d{4}-\d{2}-\d{2})\.json\.gz$/.exec(key)?.[1] ?? []),
      months: keys.flatMap((key) => /\/(\d{4}-\d{2})\.month\.bin$/.exec(key)?.[1] ?? []),
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
