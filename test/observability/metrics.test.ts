import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { NotFoundError } from '../../lib/errors';
import { errorHandler } from '../../lib/http/errors';
import { jsonResponse } from '../../lib/http/response';
import { recordCacheLookup, recordLokiFetch, resetMetricsForTests } from '../../lib/observability/metrics';
import { observability } from '../../lib/observability/middleware';
import { metricsEnabled, tracingEnabled } from '../../lib/observability/settings';
import { generateSample } from '../../lib/sample/generator';
import { setEnv, useLokiStandIn } from '../helpers/environment';
import { httpEvent, invoke, lambdaContext } from '../helpers/lambda';

const DAY = 86_400_000;

interface EmfLine {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
  };
  [field: string]: unknown;
}

/** The EMF lines Powertools writes to stdout while `run` runs. */
async function captureEmf(run: () => Promise<unknown>): Promise<EmfLine[]> {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return written
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

function handlerFailingWith(error: Error | undefined) {
  return middy<APIGatewayProxyEventV2, unknown, Error, Context>()
    .use(observability())
    .use(errorHandler())
    .handler(async () => {
      recordCacheLookup('data', false);
      recordLokiFetch({ requests: 3, pages: 4, lines: 9000, skippedLines: 2, lokiMs: 120.4 });
      if (error) throw error;
      return jsonResponse(200, { records: [] });
    });
}

describe('observability', () => {
  afterEach(() => resetMetricsForTests());

  it('is off outside Lambda unless POWERTOOLS_METRICS_DISABLED=false asks for it', () => {
    expect(metricsEnabled({})).toBe(false);
    expect(metricsEnabled({ POWERTOOLS_METRICS_DISABLED: 'false' })).toBe(true);
    expect(metricsEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'dora-api-dev-data' })).toBe(true);
    expect(metricsEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'data', IS_OFFLINE: 'true' })).toBe(false);
    expect(metricsEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'data', POWERTOOLS_METRICS_DISABLED: 'true' })).toBe(
      false,
    );
    expect(tracingEnabled({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(false);
    expect(tracingEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'data' })).toBe(true);
    expect(tracingEnabled({ AWS_LAMBDA_FUNCTION_NAME: 'data', POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(
      false,
    );
  });

  it('writes nothing to stdout while metrics are off', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_DISABLED: '' });
    try {
      const lines = await captureEmf(() =>
        handlerFailingWith(undefined)(httpEvent({ method: 'POST', path: '/data' }), lambdaContext()),
      );
      expect(lines).toEqual([]);
    } finally {
      restore();
    }
  });

  it('publishes one EMF line per request: namespace DoraApi, route dimension, Loki figures, cache and latency', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_DISABLED: 'false' });
    try {
      const lines = await captureEmf(() =>
        handlerFailingWith(undefined)(httpEvent({ method: 'POST', path: '/data' }), lambdaContext()),
      );

      expect(lines).toHaveLength(1);
      const [line] = lines as [EmfLine];
      const [directive] = line._aws.CloudWatchMetrics;
      expect(directive?.Namespace).toBe('DoraApi');
      expect(directive?.Dimensions).toEqual([expect.arrayContaining(['route'])]);
      expect(directive?.Metrics.map((metric) => metric.Name)).toEqual(
        expect.arrayContaining([
          'Latency',
          'LokiPages',
          'LokiLines',
          'SkippedLines',
          'LokiRequests',
          'CacheMiss',
        ]),
      );
      expect(line).toMatchObject({
        route: 'POST /data',
        LokiPages: 4,
        LokiLines: 9000,
        SkippedLines: 2,
        LokiRequests: 3,
        LokiWaitTime: 120,
        CacheMiss: 1,
        cache: 'data',
        statusCode: '200',
      });
      expect(typeof line.Latency).toBe('number');
    } finally {
      restore();
    }
  });

  it('counts a failed request by its mapped status once the error handler has answered', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_DISABLED: 'false' });
    try {
      const lines = await captureEmf(() =>
        handlerFailingWith(new Error('boom'))(httpEvent({ path: '/metrics' }), lambdaContext()),
      );
      const clientLines = await captureEmf(() =>
        handlerFailingWith(new NotFoundError('no such team'))(httpEvent({ path: '/teams' }), lambdaContext()),
      );

      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ route: 'GET /metrics', statusCode: '500', ServerErrors: 1 });
      expect(clientLines[0]).toMatchObject({ route: 'GET /teams', statusCode: '404', ClientErrors: 1 });
    } finally {
      restore();
    }
  });
});

describe('the route dimension', () => {
  it('is one value for every request no route matched, whatever its path', async () => {
    const restore = setEnv({ POWERTOOLS_METRICS_DISABLED: 'false' });
    const unmatched = (path: string) => {
      const event = httpEvent({ path });
      return {
        ...event,
        routeKey: '$default',
        requestContext: { ...event.requestContext, routeKey: '$default' },
      };
    };
    try {
      const lines = await captureEmf(async () => {
        for (const path of ['/wp-login.php', '/.env', '/admin/config.php'])
          await handlerFailingWith(new NotFoundError('no route'))(unmatched(path), lambdaContext());
      });

      expect(lines.map((line) => (line as unknown as { route: string }).route)).toEqual([
        '$default',
        '$default',
        '$default',
      ]);
    } finally {
      restore();
    }
  });
});

describe('observability of POST /data over the Loki stand-in', () => {
  const END = Date.UTC(2026, 10, 27);
  const sample = generateSample({ seed: 11, end: END, days: 20, repositories: 3, teams: 2 });

  afterEach(() => resetMetricsForTests());

  it('reports the Loki pages and lines it read, the cache miss and the latency of the route', async () => {
    const { restore } = await useLokiStandIn(
      { entries: sample.entries },
      { POWERTOOLS_METRICS_DISABLED: 'false', GITHUB_ORG: '', GITHUB_TOKEN: '', LOKI_PAGE_LIMIT: '50' },
    );
    try {
      const { handler } = await import('../../functions/data');
      const body = { start: new Date(END - 10 * DAY).toISOString(), end: new Date(END).toISOString() };

      const lines = await captureEmf(() => invoke(handler, { method: 'POST', path: '/data', body }));

      expect(lines).toHaveLength(1);
      const [line] = lines as [EmfLine];
      expect(line).toMatchObject({ route: 'POST /data', statusCode: '200', CacheMiss: 1, cache: 'data' });
      expect(line.LokiPages).toBeGreaterThan(3);
      expect(line.LokiLines).toBeGreaterThan(50);
      expect(line.SkippedLines).toBe(0);
      expect(typeof line.Latency).toBe('number');
    } finally {
      await restore();
    }
  });
});
