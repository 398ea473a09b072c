import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DayEvents } from '../../lib/loki/day-cache';
import { dayKey, FileDayStore } from '../../lib/rollups/file-store';

const selection = '{service_namespace="acme"}';
const dayStart = Date.UTC(2026, 0, 15);
const events = {
  deployments: [['1768435200000000000', { repository: 'acme/api', sha: 'abc' }]],
  incidents: [],
  merges: [],
} as unknown as DayEvents;

describe('file day store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rollups-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the events of a stored day', async () => {
    const store = new FileDayStore(dir);
    await store.set(selection, dayStart, events);
    expect(await store.get(selection, dayStart)).toEqual(events);
  });

  it('reads a day never stored as absent', async () => {
    expect(await new FileDayStore(dir).get(selection, dayStart)).toBeUndefined();
  });

  it('puts the format version and the day in the path', () => {
    expect(dayKey(selection, dayStart)).toMatch(/^v1\/[0-9a-f]{16}\/2026-01\/2026-01-15\.json\.gz$/);
  });

  it('reads a corrupt object as absent', async () => {
    const store = new FileDayStore(dir);
    await store.set(selection, dayStart, events);
    await writeFile(join(dir, dayKey(selection, dayStart)), 'not gzip');
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('reads an object of another format as absent', async () => {
    const store = new FileDayStore(dir);
    await store.set(selection, dayStart, events);
    const other = { format: 2, selection, dayStart, events };
    await writeFile(join(dir, dayKey(selection, dayStart)), gzipSync(JSON.stringify(other)));
    expect(await store.get(selection, dayStart)).toBeUndefined();
  });

  it('keeps one whole object when writers race on the same day', async () => {
    const store = new FileDayStore(dir);
    await Promise.all(Array.from({ length: 8 }, () => store.set(selection, dayStart, events)));
    expect(await store.get(selection, dayStart)).toEqual(events);
  });
});
