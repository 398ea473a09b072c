import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  findRealLoki,
  LOKI_DEFAULT_LIMITS,
  lokiTestConfig,
  parseLokiDuration,
  readLokiLimits,
} from '../../dev/real-loki';

/** A stand-in answering GET /config with `body` (or 404 when undefined), as a Loki's /config does. */
async function configServer(body: string | undefined): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    if (request.url === '/config' && body !== undefined) response.end(body);
    else response.writeHead(404).end('404 page not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('where the real-Loki suite finds a Loki', () => {
  it('takes LOKI_TEST_URL first, without its trailing slash', () => {
    expect(findRealLoki({ LOKI_TEST_URL: 'http://loki:3100/', LOKI_BIN: '/opt/loki' })).toEqual({
      kind: 'url',
      url: 'http://loki:3100',
    });
  });

  it('starts the binary at LOKI_BIN otherwise', () => {
    expect(findRealLoki({ LOKI_BIN: 'loki-linux-amd64' })).toEqual({
      kind: 'binary',
      bin: path.resolve('loki-linux-amd64'),
    });
  });

  it('writes a configuration for a started Loki on loopback, with old samples accepted', () => {
    const config = lokiTestConfig({ httpPort: 3210, grpcPort: 9210, dataDir: '/tmp/x' });

    expect(config).toContain('http_listen_address: 127.0.0.1\n  http_listen_port: 3210');
    expect(config).toContain('grpc_listen_port: 9210');
    expect(config).toContain('reject_old_samples: false');
    expect(config).toContain('allow_structured_metadata: true');
    expect(config).not.toContain('max_query_length');
  });
});

describe("reading a Loki's limits", () => {
  it.each([
    ['30d1h', 721 * 3_600_000],
    ['721h', 721 * 3_600_000],
    ['0s', 0],
    ['1w2d', 9 * 86_400_000],
    ['1m30s', 90_000],
    ['500ms', 500],
  ])('reads the duration %s', (text, ms) => {
    expect(parseLokiDuration(text)).toBe(ms);
  });

  it('refuses what is not a duration', () => {
    expect(() => parseLokiDuration('30 days')).toThrow('not a Loki duration');
  });

  it("takes max_query_length and max_entries_limit_per_query from the Loki's GET /config", async () => {
    const { url, server } = await configServer(
      [
        'server:',
        '  http_listen_port: 3100',
        'limits_config:',
        '  ingestion_rate_mb: 4',
        '  max_query_length: 0s',
        '  max_entries_limit_per_query: 10000',
        'querier:',
        '  max_query_length: 5h',
        '',
      ].join('\n'),
    );
    try {
      expect(await readLokiLimits(url)).toEqual({
        maxQueryLengthMs: 0,
        maxEntriesLimitPerQuery: 10_000,
        source: 'config',
      });
    } finally {
      server.close();
    }
  });

  it("assumes Loki's defaults when the Loki does not offer GET /config", async () => {
    const { url, server } = await configServer(undefined);
    try {
      expect(await readLokiLimits(url)).toEqual(LOKI_DEFAULT_LIMITS);
    } finally {
      server.close();
    }
  });
});
