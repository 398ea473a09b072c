import { createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../../dev/ports';
import { GitHubError, LokiError, unreachable } from '../../lib/errors';
import { createGitHubTeamSource } from '../../lib/github/client';
import { errorToResponse } from '../../lib/http/errors';
import { createLokiEventStore, type LokiSettings } from '../../lib/loki/client';
import { callLoki, lokiConnection } from '../../lib/loki/http';
import { rejectionOf } from '../helpers/errors';

/**
 * Upstreams that cannot be reached, for real: a port nothing listens on, a host name that cannot resolve
 * (`.invalid` never does, RFC 2606), a server that accepts and never answers. The client's answer names the
 * host and the network error; never the URL's user info, path or query.
 */

const START = Date.parse('2024-09-01T00:00:00Z');
const EMPTY = { start: START, end: START };
const SECRET = 'hunter22';

async function closedPort(): Promise<number> {
  // A port that was free a moment ago; ports below 1024 or fetch's "bad ports" would fail differently.
  return freePort();
}

function readerSettings(url: string, overrides: Partial<LokiSettings> = {}): LokiSettings {
  return {
    url,
    serviceNamespace: 'github',
    incidentLabels: ['incident'],
    pageLimit: 100,
    maxQueryLengthMs: 86_400_000,
    concurrency: 1,
    timeoutMs: 2_000,
    maxRetries: 1,
    retryBaseDelayMs: 1,
    ...overrides,
  };
}

function readDeployments(settings: LokiSettings) {
  return createLokiEventStore(settings).fetchEvents({
    filter: {},
    ranges: { deployments: { start: START, end: START + 1_000 }, incidents: EMPTY, merges: EMPTY },
  });
}

/** What a client is shown for the error. */
function publicText(error: Error): string {
  return errorToResponse(error, 'req-1').body;
}

describe('a Loki that cannot be reached, on the read path', () => {
  it('answers 502 naming the host and ECONNREFUSED for a closed port, without the credentials or query', async () => {
    const port = await closedPort();
    const url = `http://admin:${SECRET}@127.0.0.1:${port}/loki/api/v1/query_range?orgId=${SECRET}`;

    const error = await rejectionOf(readDeployments(readerSettings(url)), LokiError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe(
      `Loki could not be reached at 127.0.0.1:${port} after 2 attempts: connection refused (ECONNREFUSED)`,
    );
    expect(publicText(error)).not.toContain(SECRET);
    expect(publicText(error)).not.toContain('admin');
  });

  it('answers 502 saying fetch refuses the port for one the Fetch standard blocks (http://127.0.0.1:9)', async () => {
    const error = await rejectionOf(
      readDeployments(readerSettings(`http://admin:${SECRET}@127.0.0.1:9/loki`, { maxRetries: 0 })),
      LokiError,
    );

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe(
      'Loki could not be reached at 127.0.0.1:9 after 1 attempt: fetch refuses this port, one the Fetch ' +
        'standard blocks (such as 9 or 6000); use another port',
    );
    expect(publicText(error)).not.toContain(SECRET);
  });

  it('answers 502 naming the host and ENOTFOUND for a host name that does not resolve', async () => {
    const error = await rejectionOf(
      readDeployments(readerSettings('https://loki.example.invalid:3100', { maxRetries: 0 })),
      LokiError,
    );

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toMatch(
      /^Loki could not be reached at loki\.example\.invalid:3100 after 1 attempt: host name (not found \(ENOTFOUND\)|lookup failed \(EAI_AGAIN\))$/,
    );
  });

  describe('a server that accepts connections and never answers', () => {
    let silent: Server;
    let port: number;
    const held: Socket[] = [];

    beforeAll(async () => {
      // Holds every connection open without a byte of answer.
      silent = createServer((socket) => held.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    it('answers 504 naming the host', async () => {
      const error = await rejectionOf(
        readDeployments(readerSettings(`http://127.0.0.1:${port}`, { timeoutMs: 200, maxRetries: 0 })),
        LokiError,
      );

      expect(error.statusCode).toBe(504);
      expect(error.publicMessage).toBe(`Loki did not answer within 200 ms at 127.0.0.1:${port}`);
    });

    it('answers 504 naming the host on the write path too', async () => {
      const connection = lokiConnection({ url: `http://127.0.0.1:${port}`, timeoutMs: 200, maxRetries: 0 });

      const error = await rejectionOf(
        callLoki(connection, { action: 'push', method: 'post', path: '/loki/api/v1/push', json: {} }),
        LokiError,
      );

      expect(error.statusCode).toBe(504);
      expect(error.publicMessage).toBe(`Loki did not answer the push within 200 ms at 127.0.0.1:${port}`);
    });
  });
});

describe('a Loki that cannot be reached, on the write path', () => {
  const push = (url: string) =>
    callLoki(lokiConnection({ url, timeoutMs: 2_000, maxRetries: 0 }), {
      action: 'push',
      method: 'post',
      path: '/loki/api/v1/push',
      json: { streams: [] },
    });

  it('answers 502 naming the host and ECONNREFUSED, without the credentials', async () => {
    const port = await closedPort();

    const error = await rejectionOf(push(`http://writer:${SECRET}@127.0.0.1:${port}`), LokiError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe(
      `Loki could not be reached at 127.0.0.1:${port} for the push: connection refused (ECONNREFUSED)`,
    );
    expect(publicText(error)).not.toContain(SECRET);
  });

  it('answers 502 naming the host that does not resolve', async () => {
    const error = await rejectionOf(push('https://loki.example.invalid'), LokiError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toMatch(
      /^Loki could not be reached at loki\.example\.invalid for the push: host name/,
    );
  });
});

describe('a GitHub that cannot be reached', () => {
  const listTeams = (apiUrl: string) =>
    createGitHubTeamSource({ org: 'acme', apiUrl, token: SECRET, concurrency: 1, maxRetries: 0 }).listTeams();

  it('answers 502 naming the host and ECONNREFUSED for a closed port, without the token', async () => {
    const port = await closedPort();

    const error = await rejectionOf(listTeams(`http://127.0.0.1:${port}`), GitHubError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe(
      `GitHub could not be reached at 127.0.0.1:${port}: connection refused (ECONNREFUSED)`,
    );
    expect(publicText(error)).not.toContain(SECRET);
  });

  it('answers 502 naming the host that does not resolve', async () => {
    const error = await rejectionOf(listTeams('https://github.example.invalid/api/v3'), GitHubError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toMatch(
      /^GitHub could not be reached at github\.example\.invalid: host name/,
    );
  });
});

describe('a connection that times out before it is made', () => {
  it('is a 504 naming the host, from the code fetch puts in its cause', () => {
    // The shape undici gives a connect timeout: TypeError('fetch failed') caused by a coded error.
    const timeout = Object.assign(new Error('Connect Timeout Error'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
    const error = new TypeError('fetch failed', { cause: timeout });

    expect(unreachable('Loki', `https://u:${SECRET}@loki.example.com/x?y=1`, error, ' for the push')).toEqual(
      {
        statusCode: 504,
        message:
          'Loki did not answer in time at loki.example.com for the push: connection timed out (UND_ERR_CONNECT_TIMEOUT)',
      },
    );
  });
});
