import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../lib/store/s3-object-store';

/**
 * A real S3-compatible HTTP server (s3rver) on a free loopback port with its data in a temporary directory,
 * spoken to by the real @aws-sdk/client-s3: the S3 adapter's tests go through HTTP, signing and XML as on AWS.
 *
 * It runs as its own process with OpenSSL's legacy provider: s3rver makes ListObjectsV2 continuation tokens
 * with DES, which OpenSSL 3 leaves out by default, so any listing longer than a page failed with a 500.
 */
export interface S3Server {
  endpoint: string;
  /** A client of this server with the credentials s3rver accepts. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** An adapter on a bucket of this server (created when new) under `prefix`. */
  store(bucket: string, prefix?: string): Promise<S3ObjectStore>;
  /** Settings that point the API's own S3 client at this server (the SDK reads them from the environment). */
  environment: Record<string, string>;
  close(): Promise<void>;
}

/** The static credentials s3rver checks signatures against. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const S3RVER_REGION = 'us-east-1';

const STARTUP_MS = 20_000;

export async function startS3Server(): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      require.resolve('s3rver/bin/s3rver.js'),
      ...['--directory', directory, '--address', '127.0.0.1', '--port', '0', '--silent'],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${output}`)), STARTUP_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on [^:]+:(\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}):\n${output}`));
    });
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    forcePathStyle: true,
    region: S3RVER_REGION,
    credentials: S3RVER_CREDENTIALS,
  });
  const buckets = new Set<string>();
  const createBucket = async (name: string) => {
    if (buckets.has(name)) return;
    await client.send(new CreateBucketCommand({ Bucket: name }));
    buckets.add(name);
  };
  return {
    endpoint,
    client,
    createBucket,
    async store(bucket, prefix) {
      await createBucket(bucket);
      return new S3ObjectStore({ bucket, prefix, client });
    },
    environment: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: S3RVER_REGION,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    async close() {
      client.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
