import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { errorHandler } from '../../lib/http/errors';
import { type HttpResponse, jsonResponse } from '../../lib/http/response';
import { responseSizeLimit } from '../../lib/http/response-size';
import { httpEvent, lambdaContext } from '../helpers/lambda';

const MB = 1_000_000;

function answering(body: unknown, maxBytes = 2 * MB) {
  return middy<APIGatewayProxyEventV2, HttpResponse | undefined, Error, Context>()
    .use(errorHandler())
    .use(responseSizeLimit(maxBytes))
    .handler(async () => jsonResponse(200, body));
}

const records = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    repository: `repository-${index % 40}`,
    sha: index.toString(16).padStart(40, '0'),
    deploy_url: `https://github.com/acme/repository-${index % 40}/actions/runs/${10_000_000 + index}`,
  }));

const call = (handler: ReturnType<typeof answering>, headers: Record<string, string> = {}) =>
  handler(httpEvent({ method: 'POST', path: '/data', headers }), lambdaContext()) as Promise<HttpResponse>;

describe('responses too large for Lambda', () => {
  it('leaves answers under 1 MB as they are', async () => {
    const response = await call(answering(records(10)), { 'accept-encoding': 'gzip, deflate, br' });

    expect(response.statusCode).toBe(200);
    expect(response.isBase64Encoded).toBeUndefined();
    expect(JSON.parse(response.body)).toEqual(records(10));
  });

  it('gzips a large answer for a client that accepts gzip, and the client gets the same JSON back', async () => {
    const body = records(30_000);

    const response = await call(answering(body), { 'accept-encoding': 'gzip, deflate, br' });

    expect(response.statusCode).toBe(200);
    expect(response.isBase64Encoded).toBe(true);
    expect(response.headers).toMatchObject({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    expect(response.body.length).toBeLessThan(2 * MB);
    expect(JSON.parse(gunzipSync(Buffer.from(response.body, 'base64')).toString('utf8'))).toEqual(body);
  });

  it('answers 422 naming the size, instead of a gateway 500, when the answer cannot fit', async () => {
    const response = await call(answering(records(30_000)));

    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body).detail).toMatch(
      /MB, more than AWS Lambda can return .*Accept-Encoding: gzip/,
    );
  });

  it('answers 422 when even the gzipped answer is too large', async () => {
    const incompressible = randomBytes(1_800_000).toString('base64');

    const response = await call(answering({ blob: incompressible }), { 'accept-encoding': 'gzip' });

    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body).detail).toMatch(/even gzipped/);
  });
});
