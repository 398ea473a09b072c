import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { checkedKey, type ObjectStore, StoreError } from './object-store';

export interface S3ObjectStoreOptions {
  bucket: string;
  /** Every key is kept under this prefix (no leading or trailing `/`); empty: the bucket's root. */
  prefix?: string | undefined;
  /**
   * An S3-compatible server instead of AWS (s3rver in the tests, MinIO, ...). Without it the SDK finds the
   * endpoint itself, including `AWS_ENDPOINT_URL_S3` from the environment.
   */
  endpoint?: string | undefined;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`: what most S3-compatible servers speak. */
  forcePathStyle?: boolean | undefined;
  region?: string | undefined;
  credentials?: S3ClientConfig['credentials'];
  /** A client built elsewhere (its endpoint and credentials are then its own). */
  client?: S3Client | undefined;
}

function isMissing(error: unknown): boolean {
  if (error instanceof NoSuchKey) return true;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
}

/**
 * The ObjectStore port on S3: one object per key under the prefix. S3 replaces an object atomically on
 * PUT (a reader sees the old or the new one, never a part), which is all the port promises.
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    this.description = `s3://${this.bucket}/${prefix}`;
    this.client =
      options.client ??
      new S3Client({
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.forcePathStyle === undefined ? {} : { forcePathStyle: options.forcePathStyle }),
        ...(options.region === undefined ? {} : { region: options.region }),
        ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const Key = this.prefix + checkedKey(key);
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (answer.Body === undefined) return Buffer.alloc(0);
      return Buffer.from(await answer.Body.transformToByteArray());
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw new StoreError(`${this.description}: could not read ${key}`, { cause: error });
    }
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const Key = this.prefix + checkedKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: bytes }));
    } catch (error) {
      throw new StoreError(`${this.description}: could not write ${key}`, { cause: error });
    }
  }

  /** Every page of the listing (S3 answers at most 1,000 keys a request). */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) keys.push(object.Key.slice(this.prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (error) {
      throw new StoreError(`${this.description}: could not list ${prefix}`, { cause: error });
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const Key = this.prefix + checkedKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isMissing(error)) return;
      throw new StoreError(`${this.description}: could not delete ${key}`, { cause: error });
    }
  }
}
