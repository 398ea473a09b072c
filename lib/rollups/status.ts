import { gunzipSync } from 'node:zlib';
import type { ObjectStore } from '../store/object-store';
import { decodeDay, ROLLUP_FORMAT } from './store';

/**
 * What the store holds, from one listing: per format version and selection, the days present by month.
 * Selections are stored under a hash of their LogQL text; the text is read back from one object of each.
 */

const DAY_OBJECT = /^v(\d+)\/([0-9a-f]+)\/(\d{4}-\d{2})\/(\d{4}-\d{2}-\d{2})\.json\.gz$/;
const MONTH_OBJECT = /^v(\d+)\/([0-9a-f]+)\/(\d{4}-\d{2})\.month\.bin$/;

export interface SelectionStatus {
  format: number;
  hash: string;
  /** The selection's LogQL text, when an object of it could be read (only the current format's). */
  selection: string | undefined;
  days: number;
  first: string;
  last: string;
  /** `YYYY-MM` -> days present. */
  months: Map<string, number>;
  /** `YYYY-MM` of the months also compacted into one object. */
  compacted: Set<string>;
}

export interface StoreStatus {
  currentFormat: number;
  selections: SelectionStatus[];
  /** Keys that are neither day nor month objects (state, other users of the store). */
  otherObjects: number;
}

export async function storeStatus(store: ObjectStore): Promise<StoreStatus> {
  const keys = await store.list('');
  const groups = new Map<string, SelectionStatus & { sampleKey: string }>();
  let otherObjects = 0;
  const monthKeys: RegExpExecArray[] = [];
  for (const key of keys) {
    const match = DAY_OBJECT.exec(key);
    if (!match) {
      const month = MONTH_OBJECT.exec(key);
      if (month) monthKeys.push(month);
      else otherObjects += 1;
      continue;
    }
    const [, format = '', hash = '', month = '', day = ''] = match;
    const id = `${format}/${hash}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = {
        format: Number(format),
        hash,
        selection: undefined,
        days: 0,
        first: day,
        last: day,
        months: new Map(),
        compacted: new Set(),
        sampleKey: key,
      };
      groups.set(id, group);
    }
    group.days += 1;
    if (day < group.first) group.first = day;
    if (day > group.last) group.last = day;
    group.months.set(month, (group.months.get(month) ?? 0) + 1);
  }
  // A month is compacted from stored days: one without any day of its selection is another object.
  for (const [, format = '', hash = '', month = ''] of monthKeys) {
    const group = groups.get(`${format}/${hash}`);
    if (group === undefined) otherObjects += 1;
    else group.compacted.add(month);
  }
  const selections: SelectionStatus[] = [];
  for (const { sampleKey, ...group } of groups.values()) {
    if (group.format === ROLLUP_FORMAT) group.selection = await selectionOf(store, sampleKey);
    selections.push(group);
  }
  selections.sort((a, b) => b.format - a.format || b.days - a.days || a.hash.localeCompare(b.hash));
  return { currentFormat: ROLLUP_FORMAT, selections, otherObjects };
}

/** The selection an object was written for (its own `selection` field), validated like every read. */
async function selectionOf(store: ObjectStore, key: string): Promise<string | undefined> {
  const bytes = await store.get(key);
  if (bytes === undefined) return undefined;
  try {
    const { selection, dayStart } = JSON.parse(gunzipSync(bytes).toString('utf8'));
    return typeof selection === 'string' && decodeDay(bytes, selection, dayStart) !== undefined
      ? selection
      : undefined;
  } catch {
    return undefined;
  }
}

/** The status as lines for a terminal: one block per selection, one line per month. */
export function formatStatus(status: StoreStatus, names: ReadonlyMap<string, string> = new Map()): string[] {
  const lines: string[] = [];
  if (status.selections.length === 0) {
    lines.push('No closed days in the store.');
  }
  for (const group of status.selections) {
    const current = group.format === status.currentFormat ? 'current format' : 'older format, not read';
    const known = group.selection === undefined ? undefined : names.get(group.selection);
    const name =
      known ?? `selection ${group.hash}${group.selection ? ` (${abbreviated(group.selection)})` : ''}`;
    lines.push(
      `${name} (v${group.format}, ${current}): ${group.days} day(s), ${group.first} to ${group.last}`,
    );
    for (const [month, days] of [...group.months].sort(([a], [b]) => a.localeCompare(b))) {
      const compacted = group.compacted.has(month) ? ', compacted' : '';
      lines.push(`  ${month}  ${String(days).padStart(2)} of ${daysInMonth(month)} days${compacted}`);
    }
  }
  if (status.otherObjects > 0) lines.push(`${status.otherObjects} other object(s) (not closed days)`);
  return lines;
}

function daysInMonth(month: string): number {
  const [year, monthNumber] = month.split('-').map(Number);
  return new Date(Date.UTC(year ?? 1970, monthNumber ?? 1, 0)).getUTCDate();
}

/** The stream selector of a selection's query, enough to tell selections apart on a terminal. */
function abbreviated(selection: string): string {
  try {
    const { query } = JSON.parse(selection) as { query?: unknown };
    if (typeof query === 'string') return query.length > 100 ? `${query.slice(0, 100)}…` : query;
  } catch {
    // Not the reader's JSON name: shown as it is.
  }
  return selection.length > 100 ? `${selection.slice(0, 100)}…` : selection;
}
