import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { getMetrics, METRIC_NAMES } from './metrics';
import { tracingEnabled } from './settings';

/**
 * The first middleware of every function: times the request, publishes its metrics (dimension `route`,
 * the API Gateway route key such as `POST /data`) once the response, or the error mapped to one, is
 * known, and opens the X-Ray handler segment when tracing is on. The tracer is loaded only when tracing
 * is on, so local runs and the cold start of untraced functions do not pay for the X-Ray SDK.
 */

// biome-ignore lint/suspicious/noExplicitAny: the stack mixes middlewares of several event/result types
type Request = middy.Request<APIGatewayProxyEventV2, any, Error, Context>;
type TracerMiddleware = ReturnType<
  typeof import('@aws-lambda-powertools/tracer/middleware').captureLambdaHandler
>;

const startedAt = new WeakMap<Context, number>();
let tracerMiddleware: Promise<TracerMiddleware> | undefined;

function tracer(): Promise<TracerMiddleware> | undefined {
  if (!tracingEnabled()) return undefined;
  tracerMiddleware ??= (async () => {
    const [{ Tracer }, { captureLambdaHandler }] = await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ]);
    const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'dora-api';
    return captureLambdaHandler(new Tracer({ serviceName }), { captureResponse: false });
  })();
  return tracerMiddleware;
}

/**
 * The `route` dimension: the route's key (`GET /metrics`). Requests no route matched (API Gateway's `$default`)
 * share one value: a value per path would make a custom metric (a CloudWatch charge) of every path a scanner
 * tries.
 */
export function routeOf(event: Partial<APIGatewayProxyEventV2> | undefined): string {
  const routeKey = event?.routeKey;
  if (routeKey) return routeKey;
  const http = event?.requestContext?.http;
  return http ? `${http.method} ${http.path}` : 'unknown';
}

function finish(request: Request): void {
  const metrics = getMetrics();
  if (!metrics) return;
  const began = startedAt.get(request.context);
  const statusCode: number = request.response?.statusCode ?? 500;
  metrics.addDimension('route', routeOf(request.event));
  if (began !== undefined) {
    metrics.addMetric(METRIC_NAMES.latency, MetricUnit.Milliseconds, Math.round(performance.now() - began));
  }
  if (statusCode >= 500) metrics.addMetric(METRIC_NAMES.serverErrors, MetricUnit.Count, 1);
  else if (statusCode >= 400) metrics.addMetric(METRIC_NAMES.clientErrors, MetricUnit.Count, 1);
  // Metadata: fields of the EMF line that Logs Insights can query, not metrics (no cost per value).
  metrics.addMetadata('statusCode', String(statusCode));
  if (request.context.awsRequestId) metrics.addMetadata('requestId', request.context.awsRequestId);
  metrics.publishStoredMetrics();
}

export function observability(): middy.MiddlewareObj<APIGatewayProxyEventV2, unknown, Error, Context> {
  return {
    before: async (request) => {
      startedAt.set(request.context, performance.now());
      const traced = tracer();
      if (traced) await (await traced).before?.(request as never);
    },
    after: async (request) => {
      const traced = tracer();
      if (traced) await (await traced).after?.(request as never);
      finish(request);
    },
    onError: async (request) => {
      const traced = tracer();
      if (traced) await (await traced).onError?.(request as never);
      finish(request);
    },
  };
}
