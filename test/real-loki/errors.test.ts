import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { findRealLoki, loadIntoLoki, type RealLoki, startRealLoki } from '../../dev/real-loki';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as IncidentsHandler } from '../../functions/events-incidents';
import { setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { REMAINING_MS } from './backends';
import { DAY, ORG_END, testOrganisation } from './organisation';
import { describeWithRealLoki, lokiTestPort, realLokiLimits } from './real-loki';

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
  let incidents: typeof IncidentsHandler;
  let restore: () => void = () => undefined;

  beforeAll(async () => {
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: incidents } = await import('../../functions/events-incidents'));
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

  // A Loki that sets no max_query_length (0) refuses no range: nothing to provoke there.
  const lokiLimit = realLokiLimits().maxQueryLengthMs;
  (lokiLimit > 0 ? it : it.skip)(
    "answers 502 with Loki's reason when Loki refuses a query (a range past its max_query_length)",
    async () => {
      // The client splits ranges at LOKI_MAX_QUERY_LENGTH; set 10 days past the Loki's own limit, Loki refuses the query.
      useLoki(run().url, { LOKI_MAX_QUERY_LENGTH: `${Math.ceil(lokiLimit / 3_600_000) + 240}h` });

      const response = await post({
        start: new Date(ORG_END - lokiLimit - 5 * DAY).toISOString(),
        end: new Date(ORG_END).toISOString(),
      });

      expect(response.statusCode).toBe(502);
      expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
      expect(response.json).toMatchObject({
        status: 502,
        detail: expect.stringMatching(/^Loki .*HTTP 400.*the query time range exceeds the limit/),
      });
    },
  );

  it('answers 504 naming Loki when Loki is slower than LOKI_TIMEOUT_MS on a request without a deadline', async () => {
    // Reads wait until the function's deadline; LOKI_TIMEOUT_MS bounds the others, such as the look-back
    // of POST /events/incidents: 90 days of hourly sub-queries inside Loki, far more than 200 ms.
    useLoki(run().url, { LOKI_TIMEOUT_MS: '200', LOKI_MAX_RETRIES: '0' });

    const response = await invoke(incidents, {
      method: 'POST',
      path: '/events/incidents',
      body: { repository: 'payments-api', id: 'PD-504', title: 'slow' },
    });

    expect(response.statusCode).toBe(504);
    expect(response.json).toMatchObject({
      status: 504,
      detail: expect.stringMatching(/^Loki did not answer .*within 200 ms/),
    });
  });

  it("answers 504 of its own before Lambda's deadline when Loki is still working", async () => {
    useLoki(run().url);
    const startedAt = Date.now();

    // 3.5 s left: the function keeps 2 s back, so Loki gets 1.5 s for a year.
    const response = await post(YEAR_WINDOW, 3_500);

    expect(response.statusCode).toBe(504);
    expect(response.json).toMatchObject({
      status: 504,
      detail: expect.stringMatching(/^Loki did not answer before the request deadline/),
    });
    expect(Date.now() - startedAt).toBeLessThan(3_500);
  });

  it('answers 502 naming Loki when the connection is dropped in the middle of an answer', async () => {
    const proxy = await droppingProxy(new URL(run().url));
    useLoki(proxy.url, { LOKI_MAX_RETRIES: '1' });

    const response = await post({
      start: new Date(ORG_END - 5 * DAY).toISOString(),
      end: new Date(ORG_END).toISOString(),
    });
    await proxy.close();

    expect(response.statusCode).toBe(502);
    expect(response.json).toMatchObject({
      status: 502,
      detail: expect.stringMatching(/^Loki could not be reached at 127\.0\.0\.1:\d+ after 2 attempts: /),
    });
  });

  // Stopping a Loki takes one this suite started itself: not LOKI_TEST_URL's, which others may be using.
  const ownLoki = findRealLoki({ LOKI_BIN: process.env.LOKI_BIN }).kind;
  const describeWithOwnLoki = ownLoki === 'binary' || ownLoki === 'script' ? describe : describe.skip;
  describeWithOwnLoki('a Loki stopped while a request is in flight (needs LOKI_BIN)', () => {
    let loki: RealLoki;

    beforeAll(async () => {
      const port = lokiTestPort();
      loki = await startRealLoki(port === undefined ? {} : { port });
      await loadIntoLoki(loki.url, testOrganisation(run().serviceNamespace).entries);
    });
    afterAll(async () => loki.stop());

    it('answers 502 naming Loki for the request in flight and for the next one, and the Loki started for it is gone', async () => {
      useLoki(loki.url, { LOKI_MAX_RETRIES: '1' });

      const inFlight = post(YEAR_WINDOW, REMAINING_MS);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await loki.stop();
      const during = await inFlight;
      const after = await post(YEAR_WINDOW, REMAINING_MS);

      // Stopping (SIGTERM), Loki neither answers nor closes the queries in flight, and does not exit
      // while they run; stop() kills it after 10 s, which resets the connections.
      expect(during.statusCode).toBe(502);
      expect(during.json).toMatchObject({
        status: 502,
        detail: expect.stringMatching(/^Loki could not be reached/),
      });
      expect(after.statusCode).toBe(502);
      expect(after.json).toMatchObject({
        status: 502,
        detail: expect.stringMatching(/^Loki could not be reached at [^ ]+ after 2 attempts: /),
      });
      expect(() => process.kill(loki.pid as number, 0)).toThrow();
    });
  });
});
