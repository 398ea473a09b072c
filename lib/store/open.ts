import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config';
import { DirectoryObjectStore, type ObjectStore } from './object-store';
import { S3ObjectStore } from './s3-object-store';

export interface OpenOptions {
  /** The setting the URL came from, named in the error when the URL is not one of a store. */
  variable?: string;
  /** For an `s3://` URL: an S3-compatible server instead of AWS, spoken to path-style unless told otherwise. */
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  region?: string | undefined;
}

/**
 * The object store a setting names: `file:///absolute/dir` a directory on local disk, `s3://bucket/prefix`
 * a prefix of an S3 bucket. Callers pass the setting as it is; which adapter serves it is decided here only.
 */
export function openObjectStore(url: string, options: OpenOptions = {}): ObjectStore {
  const variable = options.variable ?? 'the store URL';
  const wrong = (why: string) =>
    new ConfigError(
      `Invalid configuration: ${variable}: ${why} (file:///absolute/dir or s3://bucket/prefix)`,
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw wrong('not a URL');
  }
  if (parsed.protocol === 'file:') {
    if (parsed.host !== '' && parsed.host !== 'localhost')
      throw wrong('a file:// URL names a local directory');
    const dir = fileURLToPath(parsed).replace(/\/+$/, '');
    if (dir === '') throw wrong('a file:// URL needs a directory other than /');
    return new DirectoryObjectStore(dir);
  }
  if (parsed.protocol === 's3:') {
    if (parsed.hostname === '') throw wrong('an s3:// URL names a bucket');
    const endpoint = options.endpoint;
    // The SDK takes an S3-compatible server's address from AWS_ENDPOINT_URL_S3 itself; such servers
    // (s3rver, MinIO) mostly know buckets in the path only, not as host names.
    const otherServer = endpoint !== undefined || Boolean(process.env.AWS_ENDPOINT_URL_S3);
    return new S3ObjectStore({
      bucket: parsed.hostname,
      prefix: decodeURIComponent(parsed.pathname),
      endpoint,
      forcePathStyle: options.forcePathStyle ?? (otherServer ? true : undefined),
      region: options.region,
    });
  }
  throw wrong(`${parsed.protocol}// is not a kind of store`);
}
