import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The port every durable thing this API keeps goes through (closed-day rollups, webhook deliveries waiting
 * for Loki): whole objects under `/`-separated keys, nothing else. S3 on AWS, a directory on `npm start`;
 * both are adapters of this interface, so the code above them never knows which one it talks to.
 * A key never starts with `/` and never contains `..`.
 */
export interface ObjectStore {
  /** The object's bytes, or undefined when there is none under this key. */
  get(key: string): Promise<Buffer | undefined>;
  /** Replaces the object atomically: a reader sees the old bytes or the new ones, never a part. */
  put(key: string, bytes: Buffer): Promise<void>;
  /** Keys under the prefix (`a/b/` lists `a/b/c` and `a/b/c/d`), in ascending order. */
  list(prefix: string): Promise<string[]>;
  /** Removes the object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Where the store is, for logs and messages (never credentials). */
  readonly description: string;
}

export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/** The key itself, or a StoreError when it could leave the store's root. */
export function checkedKey(key: string): string {
  if (key === '' || key.startsWith('/') || key.split('/').includes('..'))
    throw new StoreError(`invalid object key ${JSON.stringify(key)}`);
  return key;
}

/** A directory on local disk, the same layout as the bucket: the key is the relative path. */
export class DirectoryObjectStore implements ObjectStore {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `file://${dir}`;
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(join(this.dir, checkedKey(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Writes a unique temporary file and renames it over the key, so concurrent writers never tear an object. */
  async put(key: string, bytes: Buffer): Promise<void> {
    const path = join(this.dir, checkedKey(key));
    await mkdir(dirname(path), { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.name.endsWith('.tmp')) keys.push(relative(this.dir, path).split(sep).join('/'));
      }
    };
    await walk(this.dir);
    return keys.filter((key) => key.startsWith(prefix)).sort();
  }

  async delete(key: string): Promise<void> {
    await rm(join(this.dir, checkedKey(key)), { force: true });
  }
}

/** The store a `file:///absolute/dir` URL names (`openObjectStore` in open.ts takes every kind of URL). */
export function openDirectoryStore(url: string): DirectoryObjectStore {
  if (!url.startsWith('file://')) throw new StoreError(`not a file:// URL: ${url}`);
  return new DirectoryObjectStore(fileURLToPath(url));
}
