import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of an upstream (the real Loki, the S3-compatible server) that counts what passes:
 * requests per kind and the bytes answered. The benchmark points the API's clients at it to learn what a
 * request cost upstream, without touching the clients.
 */
export interface CountingProxy {
  url: string;
  /** Requests per kind, and the bytes of the answers, since the last reset. */
  snapshot(): ProxyCounts;
  reset(): void;
  close(): Promise<void>;
}

export interface ProxyCounts {
  requests: Record<string, number>;
  answeredBytes: number;
}

export async function startCountingProxy(
  target: string,
  kindOf: (request: IncomingMessage) => string,
): Promise<CountingProxy> {
  const upstream = new URL(target);
  let counts: ProxyCounts = { requests: {}, answeredBytes: 0 };
  const server = createServer((incoming, outgoing) => {
    const kind = kindOf(incoming);
    counts.requests[kind] = (counts.requests[kind] ?? 0) + 1;
    const forwarded = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => {
          counts.answeredBytes += chunk.length;
        });
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502, { 'content-type': 'text/plain' });
      outgoing.end(`proxy: ${error.message}`);
    });
    incoming.pipe(forwarded);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    snapshot: () => ({ requests: { ...counts.requests }, answeredBytes: counts.answeredBytes }),
    reset() {
      counts = { requests: {}, answeredBytes: 0 };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * S3's request kinds as they are priced: a GET on a bucket (path-style `/bucket` with no key) is a
 * ListObjects, priced like a PUT; a GET or HEAD of a key is a GET.
 */
export function s3RequestKind(request: IncomingMessage): string {
  const url = new URL(request.url ?? '/', 'http://s3');
  const hasKey = url.pathname.replace(/^\/+/, '').includes('/');
  const method = request.method ?? 'GET';
  if (method === 'GET' && (!hasKey || url.searchParams.has('list-type'))) return 'LIST';
  if (method === 'HEAD') return 'GET';
  return method;
}

/** Loki's requests by route: `query_range`, `labels`, `push`, `config`, ... */
export function lokiRequestKind(request: IncomingMessage): string {
  const url = new URL(request.url ?? '/', 'http://loki');
  return url.pathname.split('/').filter(Boolean).at(-1) ?? 'root';
}
