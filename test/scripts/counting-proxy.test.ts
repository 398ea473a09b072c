import { S3ObjectStore } from '../../lib/store/s3-object-store';
import { type CountingProxy, s3RequestKind, startCountingProxy } from '../../scripts/bench/counting-proxy';
import { S3RVER_CREDENTIALS, S3RVER_REGION, type S3Server, startS3Server } from '../helpers/s3';

// The store benchmark prices S3 requests from what this proxy counts: the real SDK, through the proxy, to
// a real S3-compatible server, must be counted as S3 bills it.
describe('the benchmark counting S3 requests through a proxy', () => {
  let s3: S3Server;
  let proxy: CountingProxy;
  let store: S3ObjectStore;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket('counted');
    proxy = await startCountingProxy(s3.endpoint, s3RequestKind);
    store = new S3ObjectStore({
      bucket: 'counted',
      prefix: 'rollups',
      endpoint: proxy.url,
      forcePathStyle: true,
      region: S3RVER_REGION,
      credentials: S3RVER_CREDENTIALS,
    });
  }, 30_000);
  afterAll(async () => {
    await proxy.close();
    await s3.close();
  });

  it('counts puts, gets of keys and listings of the bucket apart, and the bytes answered', async () => {
    proxy.reset();

    await store.put('day/2026-01-01', Buffer.from('x'.repeat(1000)));
    await store.put('day/2026-01-02', Buffer.from('y'));
    const first = await store.get('day/2026-01-01');
    const missing = await store.get('day/2026-01-03');
    const keys = await store.list('day/');

    expect({ read: first?.length, missing, keys }).toEqual({
      read: 1000,
      missing: undefined,
      keys: ['day/2026-01-01', 'day/2026-01-02'],
    });
    const counts = proxy.snapshot();
    expect(counts.requests).toEqual({ PUT: 2, GET: 2, LIST: 1 });
    expect(counts.answeredBytes).toBeGreaterThanOrEqual(1000);
  });
});
