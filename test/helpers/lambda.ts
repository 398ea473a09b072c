import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

export interface EventOptions {
  method?: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as it is (for malformed bodies). */
  body?: unknown;
  /** The claims API Gateway's JWT authorizer puts in the request context (routes with the authorizer only). */
  authorizerClaims?: Record<string, string | number | boolean | string[]>;
}

/** An API Gateway HTTP API (payload 2.0) event, as the real gateway sends it. */
export function httpEvent(options: EventOptions): APIGatewayProxyEventV2 {
  const method = options.method ?? 'GET';
  const query = options.query ?? {};
  const rawQueryString = new URLSearchParams(query).toString();
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  return {
    version: '2.0',
    routeKey: `${method} ${options.path}`,
    rawPath: options.path,
    rawQueryString,
    headers: {
      host: 'localhost',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: options.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'test-request',
      routeKey: `${method} ${options.path}`,
      stage: '$default',
      time: '28/Nov/2026:00:00:00 +0000',
      timeEpoch: Date.now(),
      ...(options.authorizerClaims === undefined
        ? {}
        : { authorizer: { jwt: { claims: options.authorizerClaims, scopes: null } } }),
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: false,
  };
}

let invocation = 0;

/** A Lambda context with a fresh request id per call; `remainingMs` is what Lambda would leave (29 s, API Gateway's limit). */
export function lambdaContext(functionName = 'test', remainingMs = 29_000): Context {
  invocation += 1;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `request-${invocation}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface InvokeResult {
  statusCode: number;
  headers: Record<string, string>;
  /** The body parsed as JSON. */
  json: unknown;
  body: string;
}

/**
 * Calls a middy-wrapped handler the way Lambda does and parses its JSON answer. Middlewares add to the
 * context (secrets, for example), so the handler's context type is wider than Lambda's own.
 */
export async function invoke<HandlerContext extends Context>(
  handler: (event: APIGatewayProxyEventV2, context: HandlerContext) => Promise<unknown>,
  options: EventOptions,
  remainingMs?: number,
): Promise<InvokeResult> {
  const context = lambdaContext('test', remainingMs) as HandlerContext;
  const result = (await handler(httpEvent(options), context)) as {
    statusCode: number;
    headers?: Record<string, string>;
    body?: string;
  };
  const body = result.body ?? '';
  return {
    statusCode: result.statusCode,
    headers: result.headers ?? {},
    body,
    json: body === '' ? undefined : JSON.parse(body),
  };
}

/** A 400 problem document whose `errors` name `field` (the one error shape of the API). */
export function expectBadRequestNaming(response: InvokeResult, field: string): void {
  expect(response.statusCode).toBe(400);
  expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
  expect(response.json).toMatchObject({
    status: 400,
    errors: expect.arrayContaining([expect.objectContaining({ field })]),
  });
}
