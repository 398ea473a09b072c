import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { loadIntoLoki, type RealLoki, startRealLoki } from '../../dev/real-loki';
import type { handler as DataHandler } from '../../functions/data';
import { setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { DAY, ORG_END, testOrganisation } from './organisation';
import { describeWithRealLoki, lokiTestPort } from './real-loki';

/**
 * Loki's own failures reach the client as the documented problem documents: 502 naming Loki (and its
 * status when it answered), 504 when it did not answer in time. Every failure here is the real Loki's:
 * a query it refuses, a Loki stopped while a request is in flight, a Loki slower than the deadline, and
 * a connection dropped in the middle of an answer (what Loki does to an answer past its 30 s write timeout).
 */

const YEAR_WINDOW = {
  start: new Date(ORG_END - 356 * DAY).toISOString(),
  end: new Date(ORG_END).toISOString(),
};

/** A TCP proxy to `target` that drops each connection as soon as the first bytes of Loki's answer arrive. */
async function droppingProxy(target: URL): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.once('data', () => {
      client.destroy();
      upstream.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describeWithRealLoki("Loki's own errors reach the client as 502 and 504", (run) => {
  let data: typeof DataHandler;
  let restore: () => void = () => undefined;

  beforeAll(async () => {
    ({ handler: data } = await import('../../functions/data'));
  });
  afterEach(() => restore());

  const post = (body: unknown, remainingMs?: number) =>
    invoke(data, { method: 'POST', path: '/data', query: { no_cache: 'true' }, body }, remainingMs);
  let uses = 0;
  const useLoki = (url: string, env: Record<string, string> = {}) => {
    // The API keeps one event store per Loki URL and credentials (settings never change in a Lambda
    // container); a URL of its own (the query string is dropped) gives each test a store with its settings.
    uses += 1;
    url = `${url}/?test=${uses}`;
    restore = setEnv({
      LOKI_URL: url,
      SERVICE_NAME: run().serviceNamespace,
      GITHUB_ORG: '',
      GITHUB_TOKEN: '',
      ...env,
    });
  };

  it("answers 502 with Loki's reason when Loki refuses a query (a range past its max_query_length)", async () => {
    // The client splits ranges at LOKI_MAX_QUERY_LENGTH; set past Loki's 30d1h, Loki refuses the query.
    useLoki(run().url, { LOKI_MAX_QUERY_LENGTH: '40d' });

    const response = await post({
      start: new Date(ORG_END - 35 * DAY).toISOString(),
      end: new Date(ORG_END).toISOString(),
    });

    expect(response.statusCode).toBe(502);
    expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
    expect(response.json).toMatchObject({
      status: 502,
      detail: expect.stringMatching(/^Loki .*HTTP 400.*the query time range exceeds the limit/),
    });
  });

  it('answers 504 naming Loki when Loki is slower than LOKI_TIMEOUT_MS', async () => {
    // A year is thousands of hourly sub-queries inside Loki: far more than 300 ms.
    useLoki(run().url, { LOKI_TIMEOUT_MS: '300', LOKI_MAX_RETRIES: '0' });

    const response = await post(YEAR_WINDOW);

    expect(response.statusCode).toBe(504);
    expect(response.json).toMatchObject({ status: 504, detail: 'Loki did not answer within 300 ms' });
  });

  it("answers 504 of its own before Lambda's deadline when Loki is still working", async () => {
    useLoki(run().url, { LOKI_TIMEOUT_MS: '60000' });
    const startedAt = Date.now();

    // 3.5 s left: the function keeps 2 s back, so Loki gets 1.5 s.
    const response = await post(YEAR_WINDOW, 3_500);

    expect(response.statusCode).toBe(504);
    expect(response.json).toMatchObject({
      status: 504,
      detail: 'Loki did not answer before the request deadline',
    });
    expect(Date.now() - startedAt).toBeLessThan(3_500);
  });

  it('answers 502 naming Loki when the connection is dropped in the middle of an answer', async () => {
    const proxy = await droppingProxy(new URL(run().url));
    useLoki(proxy.url, { LOKI_MAX_RETRIES: '1', LOKI_TIMEOUT_MS: '60000' });

    const response = await post({
      start: new Date(ORG_END - 5 * DAY).toISOString(),
      end: new Date(ORG_END).toISOString(),
    });
    await proxy.close();

    expect(response.statusCode).toBe(502);
    expect(response.json).toMatchObject({
      status: 502,
      detail: 'Loki could not be reached after 2 attempts',
    });
  });

  describe('a Loki stopped while a request is in flight', () => {
    let loki: RealLoki;

    beforeAll(async () => {
      const port = lokiTestPort();
      loki = await startRealLoki(port === undefined ? {} : { port });
      await loadIntoLoki(loki.url, testOrganisation(run().serviceNamespace).entries);
    });
    afterAll(async () => loki.stop());

    it('answers 504 for the request Loki left unanswered while stopping, then 502 naming Loki once it is gone', async () => {
      useLoki(loki.url, { LOKI_MAX_RETRIES: '1', LOKI_TIMEOUT_MS: '5000' });

      const inFlight = post(YEAR_WINDOW);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await loki.stop();
      const during = await inFlight;
      const after = await post(YEAR_WINDOW);

      // Stopping (SIGTERM), Loki neither answers nor closes the queries in flight: they time out.
      expect(during.statusCode).toBe(504);
      expect(during.json).toMatchObject({ status: 504, detail: 'Loki did not answer within 5000 ms' });
      expect(after.statusCode).toBe(502);
      expect(after.json).toMatchObject({ status: 502, detail: 'Loki could not be reached after 2 attempts' });
      expect(() => process.kill(loki.pid as number, 0)).toThrow();
    });
  });
});
