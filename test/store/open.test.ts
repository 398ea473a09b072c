import { ConfigError } from '../../lib/config';
import { DirectoryObjectStore } from '../../lib/store/object-store';
import { openObjectStore } from '../../lib/store/open';
import { S3ObjectStore } from '../../lib/store/s3-object-store';

describe('opening the store a URL names', () => {
  it('opens a directory for a file:// URL', () => {
    const store = openObjectStore('file:///var/lib/dora/rollups');
    expect(store).toBeInstanceOf(DirectoryObjectStore);
    expect(store.description).toBe('file:///var/lib/dora/rollups');
  });

  it('opens a bucket prefix for an s3:// URL', () => {
    const store = openObjectStore('s3://my-bucket/rollups/', { endpoint: 'http://127.0.0.1:1' });
    expect(store).toBeInstanceOf(S3ObjectStore);
    expect(store.description).toBe('s3://my-bucket/rollups');
  });

  it.each(['http://example.com/rollups', 'rollups', 'file://other-host/dir', 's3:///no-bucket'])(
    'refuses %s with an error naming the setting',
    (url) => {
      const act = () => openObjectStore(url, { variable: 'ROLLUPS_URL' });
      expect(act).toThrow(ConfigError);
      expect(act).toThrow(/ROLLUPS_URL/);
    },
  );
});
