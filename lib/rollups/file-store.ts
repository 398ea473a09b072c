import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import type { DayEvents } from '../loki/day-cache';

/**
 * A persistent store of closed days, the durable sibling of `DayCache`: one object per selection and UTC day,
 * holding that day's events (not derived numbers), so records rebuilt from them stay exact, including records
 * that span days. One small object per day keeps writes idempotent and lets a backfill resume day by day;
 * the path `v<FORMAT>/<selection hash>/<yyyy-mm>/<yyyy-mm-dd>.json.gz` puts the format in every path, so a
 * new format never reads an old object. Objects are validated on read; an invalid or other-version object
 * reads as absent, so its day is fetched again and rewritten.
 */

export const ROLLUP_FORMAT = 1;

const timestamped = z.array(z.tuple([z.string().regex(/^\d+$/), z.record(z.string(), z.unknown())]));

const objectSchema = z.object({
  format: z.literal(ROLLUP_FORMAT),
  selection: z.string(),
  dayStart: z.number().int(),
  events: z.object({ deployments: timestamped, incidents: timestamped, merges: timestamped }),
});

export function dayKey(selection: string, dayStart: number): string {
  const day = new Date(dayStart).toISOString().slice(0, 10);
  const hash = createHash('sha256').update(selection).digest('hex').slice(0, 16);
  return `v${ROLLUP_FORMAT}/${hash}/${day.slice(0, 7)}/${day}.json.gz`;
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
    return parsed.data.events as unknown as DayEvents;
  } catch {
    return undefined;
  }
}

export class FileDayStore {
  constructor(private readonly dir: string) {}

  async get(selection: string, dayStart: number): Promise<DayEvents | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, dayKey(selection, dayStart)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return decodeDay(bytes, selection, dayStart);
  }

  /** Writes to a unique temporary file then renames it, so readers and concurrent writers never see half an object. */
  async set(selection: string, dayStart: number, events: DayEvents): Promise<void> {
    const path = join(this.dir, dayKey(selection, dayStart));
    await mkdir(join(path, '..'), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, encodeDay(selection, dayStart, events));
    await rename(temporary, path);
  }
}
