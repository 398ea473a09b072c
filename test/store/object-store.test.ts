import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { DirectoryObjectStore, type ObjectStore } from '../../lib/store/object-store';
import { type S3Server, startS3Server } from '../helpers/s3';

/**
 * The contract of the ObjectStore port, held by every adapter the same way: the directory on disk and S3
 * (a real s3rver over HTTP, through the real @aws-sdk/client-s3).
 */

interface Adapter {
  name: string;
  open(): Promise<{ store: ObjectStore; close(): Promise<void> }>;
}

let s3: S3Server;
let buckets = 0;

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3.close();
});

const adapters: Adapter[] = [
  {
    name: 'directory',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'object-store-'));
      return {
        store: new DirectoryObjectStore(dir),
        close: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 's3',
    async open() {
      buckets += 1;
      return { store: await s3.store(`contract-${buckets}`, 'some/prefix'), close: async () => {} };
    },
  },
];

describe.each(adapters)('the $name object store', (adapter) => {
  let store: ObjectStore;
  let close: () => Promise<void>;
  beforeEach(async () => {
    ({ store, close } = await adapter.open());
  });
  afterEach(async () => {
    await close();
  });

  it('reads a key never written as absent', async () => {
    expect(await store.get('v1/none/2026-01-01.json.gz')).toBeUndefined();
  });

  it('returns the bytes written under a key', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    await store.put('v1/a/2026-01/2026-01-15.json.gz', bytes);
    expect(await store.get('v1/a/2026-01/2026-01-15.json.gz')).toEqual(bytes);
  });

  it('replaces an object written again', async () => {
    await store.put('day', Buffer.from('old'));
    await store.put('day', Buffer.from('new'));
    expect((await store.get('day'))?.toString()).toBe('new');
  });

  it('lists the keys under a prefix only, in order', async () => {
    for (const key of ['a/2/x', 'a/1/y', 'b/1/z', 'a/1/x']) await store.put(key, Buffer.from(key));
    expect(await store.list('a/')).toEqual(['a/1/x', 'a/1/y', 'a/2/x']);
    expect(await store.list('a/1/')).toEqual(['a/1/x', 'a/1/y']);
    expect(await store.list('c/')).toEqual([]);
  });

  it('lists more keys than one S3 listing page holds', async () => {
    const keys = Array.from({ length: 1005 }, (_, index) => `many/${String(index).padStart(4, '0')}`);
    const limit = pLimit(16);
    await Promise.all(keys.map((key) => limit(() => store.put(key, Buffer.from('x')))));
    expect(await store.list('many/')).toEqual(keys);
  }, 60_000);

  it('removes an object, and removing a missing one is no error', async () => {
    await store.put('gone', Buffer.from('x'));
    await store.delete('gone');
    await store.delete('never-there');
    expect(await store.get('gone')).toBeUndefined();
    expect(await store.list('')).toEqual([]);
  });

  it('refuses keys that would leave the store', async () => {
    await expect(store.get('../outside')).rejects.toThrow('invalid object key');
    await expect(store.put('/absolute', Buffer.from('x'))).rejects.toThrow('invalid object key');
  });
});
