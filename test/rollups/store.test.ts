import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { z } from 'zod';
import { type DayEvents, emptyDay, narrowDay } from '../../lib/loki/day-cache';
import { eventPredicate } from '../../lib/loki/logql';
import type { EventFilter } from '../../lib/loki/types';
import {
  dayKey,
  daysOfMonth,
  decodeDay,
  decodeMonth,
  encodeDay,
  encodeMonth,
  legacyMonthKey,
  MONTH_LAYOUT,
  monthKey,
  ROLLUP_FORMAT,
  RollupStore,
} from '../../lib/rollups/store';
import { DirectoryObjectStore, type ObjectStore } from '../../lib/store/object-store';
import { DAY_MS, monthStartOf } from '../../lib/time';
import { type S3Server, startS3Server } from '../helpers/s3';

const selection = '{service_namespace="acme"}';
const dayStart = Date.UTC(2026, 0, 15);
const events: DayEvents = {
  deployments: [
    [
      '1768435200000000000',
      {
        repository: 'api',
        owner: 'acme',
        team: 'payments',
        environment: 'production',
        sha: 'abc',
        deploymentId: '7',
        state: 'success',
        createdAt: 1768435200000,
        url: 'https://github.com/acme/api/actions/runs/1',
      },
    ],
  ],
  incidents: [
    [
      '1768435300000000000',
      {
        repository: 'api',
        owner: 'acme',
        team: null,
        id: '12',
        title: null,
        createdAt: 1768435300000,
        closedAt: null,
        url: 'https://github.com/acme/api/issues/12',
      },
    ],
  ],
  merges: [
    [
      '1768435100000000000',
      {
        repository: 'api',
        owner: 'acme',
        team: null,
        sha: 'abc',
        title: 'Faster',
        user: 'dev',
        mergedAt: 1768435100000,
        url: null,
      },
    ],
  ],
};

let s3: S3Server;
let buckets = 0;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3.close();
});

const adapters: Array<{ name: string; open(): Promise<[ObjectStore, () => Promise<void>]> }> = [
  {
    name: 'a directory',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'rollups-'));
      return [new DirectoryObjectStore(dir), () => rm(dir, { recursive: true, force: true })];
    },
  },
  {
    name: 'S3',
    async open() {
      buckets += 1;
      return [await s3.store(`rollups-${buckets}`, 'rollups'), async () => {}];
    },
  },
];

describe.each(adapters)('the rollup store on $name', (adapter) => {
  let objects: ObjectStore;
  let close: () => Promise<void>;
  let store: RollupStore;
  beforeEach(async () => {
    [objects, close] = await adapter.open();
    store = new RollupStore(objects);
  });
  afterEach(async () => {
    await close();
  });

  it('returns the events of a stored day', async () => {
    await store.set(selection, dayStart, events);
    expect(await store.get(selection, dayStart)).toEqual(events);
  });

  it('keeps the labels a filter selects on beside an event, and reads malformed ones as absent', async () => {
    const [timestamp, deployment] = events.deployments[0] ?? [];
    if (timestamp === undefined || deployment === undefined) throw new Error('no deployment');
    const labelled: DayEvents = {
      ...events,
      deployments: [[timestamp, deployment, { vcs_repository_name: '', service_name: 'api-eu' }]],
    };
    await store.set(selection, dayStart, labelled);
    expect(await store.get(selection, dayStart)).toEqual(labelled);

    for (const labels of [{}, { 'not a label': 'x' }, { service_name: 1 }, null]) {
      const object = {
        format: ROLLUP_FORMAT,
        selection,
        dayStart,
        events: { ...events, deployments: [[timestamp, deployment, labels]] },
      };
      await objects.put(dayKey(selection, dayStart), gzipSync(JSON.stringify(object)));
      expect(await store.get(selection, dayStart)).toBeUndefined();
    }
  });

  it('reads a day never stored as absent', async () => {
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('reads a corrupt object as absent', async () => {
    await store.set(selection, dayStart, events);
    await objects.put(dayKey(selection, dayStart), Buffer.from('not gzip'));
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('reads an object of another format as absent', async () => {
    const other = { format: ROLLUP_FORMAT + 1, selection, dayStart, events };
    await objects.put(dayKey(selection, dayStart), gzipSync(JSON.stringify(other)));
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('reads an object whose events have another shape as absent', async () => {
    const [timestamp, deployment] = events.deployments[0] ?? [];
    const reshaped = {
      format: ROLLUP_FORMAT,
      selection,
      dayStart,
      events: { ...events, deployments: [[timestamp, { ...deployment, region: 'eu' }]] },
    };
    await objects.put(dayKey(selection, dayStart), gzipSync(JSON.stringify(reshaped)));
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('reads an object of another selection or day as absent', async () => {
    const moved = { format: ROLLUP_FORMAT, selection: '{service_namespace="other"}', dayStart, events };
    await objects.put(dayKey(selection, dayStart), gzipSync(JSON.stringify(moved)));
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('keeps one whole object when writers race on the same day', async () => {
    await Promise.all(Array.from({ length: 8 }, () => store.set(selection, dayStart, events)));
    expect(await store.get(selection, dayStart)).toEqual(events);
  });

  it("lists a selection's stored days and no other selection's", async () => {
    await store.set(selection, Date.UTC(2026, 1, 1), events);
    await store.set(selection, dayStart, events);
    await store.set('{service_namespace="other"}', dayStart, events);
    expect(await store.days(selection)).toEqual(['2026-01-15', '2026-02-01']);
  });

  it('keeps a whole month in one object and reads every day of it back', async () => {
    // Arrange: January 2026, the 15th with events, the other days empty.
    const month = januaryWith(events);

    // Act
    await store.setMonth(selection, JANUARY, month);

    // Assert
    const read = await store.getMonth(selection, JANUARY);
    expect(read?.size).toBe(31);
    expect(read?.get(dayStart)).toEqual(events);
    expect(read?.get(Date.UTC(2026, 0, 31))).toEqual(emptyDay());
    expect(await store.months(selection)).toEqual(['2026-01']);
    // A month object is no day: the listing of days is the days' own.
    expect(await store.days(selection)).toEqual([]);
  });

  it('reads a month never compacted, corrupt, of another selection, layout or format as absent', async () => {
    // Arrange
    await store.setMonth(selection, JANUARY, januaryWith(events));
    const key = monthKey(selection, JANUARY);
    const stored = (await objects.get(key)) as Buffer;
    const { header, blocks } = monthParts(stored);
    const rewritten = async (change: (parts: { header: MonthHeader; blocks: string[] }) => void) => {
      const parts = structuredClone({ header, blocks });
      change(parts);
      await objects.put(key, monthBytes(parts.header, parts.blocks));
      return store.getMonth(selection, JANUARY);
    };

    // Act, assert
    expect(await store.getMonth(selection, JANUARY)).toEqual(januaryWith(events));
    expect(await store.getMonth(selection, Date.UTC(2026, 1, 1))).toBeUndefined();
    expect(await store.getMonth('{service_namespace="other"}', JANUARY)).toBeUndefined();
    expect(await rewritten(() => {})).toEqual(januaryWith(events));
    expect(
      await rewritten(({ header }) => Object.assign(header, { format: ROLLUP_FORMAT - 1 })),
    ).toBeUndefined();
    expect(
      await rewritten(({ header }) => Object.assign(header, { layout: MONTH_LAYOUT - 1 })),
    ).toBeUndefined();
    // An event in another repository's section, a day outside the month, a range past its block.
    expect(
      await rewritten(({ blocks }) => (blocks[0] = blocks[0]?.replace('"api"', '"web"') ?? '')),
    ).toBeUndefined();
    const firstSection = (header: MonthHeader) => header.sections[0] as unknown[];
    expect(
      await rewritten(
        ({ blocks }) =>
          (blocks[0] = blocks[0]?.replace(String(dayStart), String(Date.UTC(2026, 1, 1))) ?? ''),
      ),
    ).toBeUndefined();
    expect(await rewritten(({ header }) => (firstSection(header)[5] = 10_000_000))).toBeUndefined();
    // The same section twice: its events would count twice.
    expect(await rewritten(({ header }) => header.sections.push([...firstSection(header)]))).toBeUndefined();
    const badEvent = await rewritten(
      ({ blocks }) => (blocks[0] = blocks[0]?.replace('1768435200000,', '"yesterday",') ?? ''),
    );
    expect(badEvent).toBeUndefined();
    await objects.put(key, Buffer.from('not gzip'));
    expect(await store.getMonth(selection, JANUARY)).toBeUndefined();
    await objects.put(key, stored.subarray(0, stored.length - 10));
    expect(await store.getMonth(selection, JANUARY)).toBeUndefined();
  });

  it('removes the month object of the previous layout when it compacts the month again', async () => {
    // Arrange
    await objects.put(legacyMonthKey(selection, JANUARY), gzipSync('{}'));

    // Act
    await store.setMonth(selection, JANUARY, januaryWith(events));

    // Assert
    expect(await objects.get(legacyMonthKey(selection, JANUARY))).toBeUndefined();
    expect(await store.months(selection)).toEqual(['2026-01']);
  });
});

const JANUARY = Date.UTC(2026, 0, 1);

/** Every day of January 2026, empty but `dayStart`, which holds `day`. */
function januaryWith(day: DayEvents): Map<number, DayEvents> {
  const month = new Map<number, DayEvents>();
  for (let index = 0; index < 31; index += 1) month.set(JANUARY + index * DAY_MS, emptyDay());
  month.set(dayStart, day);
  return month;
}

it('refuses to compact a month that lacks a day', () => {
  const month = januaryWith(events);
  month.delete(Date.UTC(2026, 0, 31));
  expect(() => encodeMonth(selection, JANUARY, month)).toThrow(/lacks day/);
});

it('keeps a month beside the folder of its days', () => {
  expect(monthKey(selection, JANUARY)).toMatch(
    new RegExp(`^v${ROLLUP_FORMAT}/[0-9a-f]{16}/2026-01\\.month\\.bin$`),
  );
  expect(daysOfMonth(Date.UTC(2024, 1, 1))).toHaveLength(29);
  expect(monthStartOf(Date.UTC(2026, 11, 31, 23, 59))).toBe(Date.UTC(2026, 11, 1));
});

it('puts the format version, the month and the day in the key', () => {
  expect(dayKey(selection, dayStart)).toMatch(
    new RegExp(`^v${ROLLUP_FORMAT}/[0-9a-f]{16}/2026-01/2026-01-15\\.json\\.gz$`),
  );
});

describe('the check of a stored day', () => {
  // The shapes of lib/loki/parse.ts's events as a zod schema: what the store's own check must accept.
  const epochMs = z.number().int();
  const text = z.string().nullable();
  const repository = { repository: z.string(), owner: text, team: text };
  const labels = z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
    .refine((record) => Object.keys(record).length > 0);
  const entries = <T extends z.ZodType>(event: T) =>
    z.array(z.tuple([z.string().regex(/^\d+$/), event, labels.optional()]));
  const schema = z.strictObject({
    format: z.literal(ROLLUP_FORMAT),
    selection: z.literal(selection),
    dayStart: z.literal(dayStart),
    events: z.strictObject({
      deployments: entries(
        z.strictObject({
          ...repository,
          environment: z.string(),
          sha: z.string(),
          deploymentId: z.string(),
          state: z.string(),
          createdAt: epochMs,
          url: z.string(),
        }),
      ),
      incidents: entries(
        z.strictObject({
          ...repository,
          id: z.string(),
          title: text,
          createdAt: epochMs,
          closedAt: epochMs.nullable(),
          url: z.string(),
          stateAt: epochMs.optional(),
          withdrawn: z.boolean().optional(),
        }),
      ),
      merges: entries(
        z.strictObject({
          ...repository,
          sha: z.string(),
          title: text,
          user: text,
          mergedAt: epochMs,
          url: text,
        }),
      ),
    }),
  });

  /** A valid entry of `event`, or one with one thing changed: a field's value (undefined: removed), another field, the timestamp or the labels. */
  const entry = (event: object) =>
    fc
      .oneof(
        { weight: 5, arbitrary: fc.constant(undefined) },
        fc.record({
          at: fc.constantFrom(
            ...Object.keys(event),
            'region',
            '__proto__',
            'constructor',
            'timestamp',
            'labels',
          ),
          value: fc.constantFrom(
            null,
            'text',
            '12',
            '',
            1.5,
            7,
            -1,
            2 ** 53,
            true,
            [],
            {},
            undefined,
            { service_name: 'api' },
            { 'a b': 'x' },
            { vcs_repository_name: 3 },
          ),
        }),
      )
      .map((change) => {
        const shaped: Record<string, unknown> = { ...event };
        let timestamp: unknown = '1768435200000000000';
        let labels: unknown;
        if (change?.at === 'timestamp') timestamp = change.value;
        else if (change?.at === 'labels') labels = change.value;
        else if (change !== undefined && change.value === undefined) delete shaped[change.at];
        else if (change !== undefined)
          Object.defineProperty(shaped, change.at, { value: change.value, enumerable: true, writable: true });
        return labels === undefined ? [timestamp, shaped] : [timestamp, shaped, labels];
      });
  const [deployment] = events.deployments[0] ?? [];
  const day = fc.record({
    deployments: fc.array(entry(events.deployments[0]?.[1] ?? {}), { maxLength: 2 }),
    incidents: fc.array(
      fc.oneof(
        entry(events.incidents[0]?.[1] ?? {}),
        entry({ ...events.incidents[0]?.[1], stateAt: 1, withdrawn: true }),
      ),
      { maxLength: 2 },
    ),
    merges: fc.array(entry(events.merges[0]?.[1] ?? {}), { maxLength: 2 }),
  });

  it("accepts exactly the objects the events' schema accepts", () => {
    expect(deployment).toBeDefined();
    let valid = 0;
    fc.assert(
      fc.property(day, (generated) => {
        const bytes = encodeDay(selection, dayStart, generated as unknown as DayEvents);
        const reference = schema.safeParse(
          JSON.parse(JSON.stringify({ format: ROLLUP_FORMAT, selection, dayStart, events: generated })),
        );

        expect(decodeDay(bytes, selection, dayStart) !== undefined).toBe(reference.success);
        valid += reference.success ? 1 : 0;
      }),
      { numRuns: 2000 },
    );
    // Valid objects, and not only empty ones, are among those tried.
    expect(valid).toBeGreaterThan(200);
  });
});

interface MonthHeader {
  sections: unknown[][];
  blocks: number[][];
  [field: string]: unknown;
}

/** A month object's header and its blocks inflated, to change one thing and write it back. */
function monthParts(bytes: Buffer): { header: MonthHeader; blocks: string[] } {
  const length = bytes.readUInt32BE(0);
  const header = JSON.parse(gunzipSync(bytes.subarray(4, 4 + length)).toString('utf8')) as MonthHeader;
  const body = bytes.subarray(4 + length);
  const blocks = header.blocks.map(([offset = 0, size = 0]) =>
    gunzipSync(body.subarray(offset, offset + size)).toString('utf8'),
  );
  return { header, blocks };
}

/** The bytes of a month object of these parts (block places recomputed, section ranges kept). */
function monthBytes(header: MonthHeader, blocks: string[]): Buffer {
  const zipped = blocks.map((block) => gzipSync(block));
  let offset = 0;
  const places = zipped.map((block) => {
    const place = [offset, block.length];
    offset += block.length;
    return place;
  });
  const zippedHeader = gzipSync(JSON.stringify({ ...header, blocks: places }));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(zippedHeader.length);
  return Buffer.concat([length, zippedHeader, ...zipped]);
}

describe('a month object in sections', () => {
  const [deploymentEntry] = events.deployments;
  const [incidentEntry] = events.incidents;
  const [mergeEntry] = events.merges;
  if (deploymentEntry === undefined || incidentEntry === undefined || mergeEntry === undefined)
    throw new Error('sample events missing');
  // Events that differ in everything a filter reads, interleaved in each day, some at the same instant.
  const who = fc.record({
    repository: fc.constantFrom('api', 'web', 'db', 'ops'),
    team: fc.constantFrom(null, 'payments', 'search'),
    labels: fc.constantFrom(undefined, { service_name: 'api-eu' }, { vcs_repository_name: '' }),
    at: fc.integer({ min: 0, max: 5 }),
  });
  const entriesLike = <E extends object>(template: E) =>
    fc.array(who, { maxLength: 6 }).map((all) =>
      all.map(({ repository, team, labels, at }) => {
        const event = { ...template, repository, team };
        const timestamp = String(1768435200000000000n + BigInt(at));
        return labels === undefined ? [timestamp, event] : [timestamp, event, labels];
      }),
    );
  const day = fc.record({
    deployments: entriesLike(deploymentEntry[1]),
    incidents: entriesLike(incidentEntry[1]),
    merges: entriesLike(mergeEntry[1]),
  }) as unknown as fc.Arbitrary<DayEvents>;
  const month = fc
    .array(day, { minLength: 31, maxLength: 31 })
    .map((days) => new Map(days.map((events, index) => [JANUARY + index * DAY_MS, events])));
  const filters: EventFilter[] = [
    { repositories: ['api'] },
    { repositories: ['web', 'db'] },
    { team: 'payments' },
    { team: 'search', teamRepositories: ['ops'] },
    { services: ['api-eu'] },
    { services: ['api'], team: 'payments' },
  ];
  const options = { repositoryLabel: 'service_name', teamStreams: 'owned' } as const;

  it('reads back every day of the month, each event in its place', () => {
    fc.assert(
      fc.property(month, (days) => {
        expect(decodeMonth(encodeMonth(selection, JANUARY, days), selection, JANUARY)).toEqual(days);
      }),
      { numRuns: 200 },
    );
  });

  it.each(filters)('reads for %j exactly the events narrowing the whole days keeps', (filter) => {
    const keep = eventPredicate(filter, options);
    let kept = 0;
    fc.assert(
      fc.property(month, (days) => {
        const read = decodeMonth(encodeMonth(selection, JANUARY, days), selection, JANUARY, keep);
        const narrowed = new Map([...days].map(([start, events]) => [start, narrowDay(events, keep)]));
        expect(read).toEqual(narrowed);
        for (const events of narrowed.values()) kept += events.deployments.length;
      }),
      { numRuns: 100 },
    );
    // The filter kept some events and not all of them.
    expect(kept).toBeGreaterThan(0);
  });
});
