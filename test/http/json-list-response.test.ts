import { gunzipSync } from 'node:zlib';
import { HttpError } from '../../lib/errors';
import type { HttpResponse } from '../../lib/http/response';
import { jsonListResponse } from '../../lib/http/response-size';
import { rejectionOf } from '../helpers/errors';
import { httpEvent } from '../helpers/lambda';

interface Deployment {
  id: number;
  repository: string;
  title: string;
}

const deployments = (count: number): Deployment[] =>
  Array.from({ length: count }, (_, index) => ({
    id: index,
    repository: `repo-${index % 7}`,
    title: `Fix "quotes" ünï ${index.toString(36)}`,
  }));
const toRecord = (deployment: Deployment) => ({
  deployment_id: String(deployment.id),
  repository: deployment.repository,
  title: deployment.title,
});
const browser = httpEvent({
  method: 'POST',
  path: '/data',
  headers: { 'accept-encoding': 'gzip, deflate, br' },
});
const script = httpEvent({ method: 'POST', path: '/data' });

function bodyOf(response: HttpResponse): string {
  return response.isBase64Encoded
    ? gunzipSync(Buffer.from(response.body, 'base64')).toString('utf8')
    : response.body;
}

describe('answering a long list', () => {
  it.each([0, 1, 1999, 2000, 2001, 4500])(
    'writes the same JSON as JSON.stringify for %i items',
    async (count) => {
      const items = deployments(count);

      const response = await jsonListResponse(browser, 'records', items, toRecord, { 'X-Cache': 'miss' });

      expect(response.isBase64Encoded).toBeUndefined();
      expect(response.body).toBe(JSON.stringify({ records: items.map(toRecord) }));
      expect(response.headers).toMatchObject({
        'Content-Type': 'application/json; charset=utf-8',
        'X-Cache': 'miss',
      });
    },
  );

  it('gzips an answer over 1 MB for a client that accepts gzip, with the same JSON inside', async () => {
    const items = deployments(30_000);

    const response = await jsonListResponse(browser, 'records', items, toRecord);

    expect(response.isBase64Encoded).toBe(true);
    expect(response.headers).toMatchObject({ 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
    expect(bodyOf(response)).toBe(JSON.stringify({ records: items.map(toRecord) }));
  });

  it('sends plain JSON over 1 MB to a client that does not accept gzip, while it fits', async () => {
    const items = deployments(30_000);

    const response = await jsonListResponse(script, 'records', items, toRecord);

    expect(response.isBase64Encoded).toBeUndefined();
    expect(Buffer.byteLength(response.body)).toBeGreaterThan(1_048_576);
    expect(response.body).toBe(JSON.stringify({ records: items.map(toRecord) }));
  });

  it('stops with a 422 once the compressed answer cannot fit, before building the rest', async () => {
    const items = deployments(200_000);
    let mapped = 0;
    const counting = (item: Deployment) => {
      mapped += 1;
      return toRecord(item);
    };

    const error = await rejectionOf(
      jsonListResponse(browser, 'records', items, counting, {}, 400_000),
      HttpError,
    );

    expect(error.statusCode).toBe(422);
    expect(error.message).toMatch(
      /^The answer would be more than \d+\.\d MB, more than AWS Lambda can return \(6 MB even gzipped\)/,
    );
    expect(mapped).toBeLessThan(items.length);
  });

  it('refuses a client without gzip as soon as the text passes the limit, telling it to send Accept-Encoding', async () => {
    const items = deployments(50_000);

    const error = await rejectionOf(
      jsonListResponse(script, 'records', items, toRecord, {}, 500_000),
      HttpError,
    );

    expect(error.statusCode).toBe(422);
    expect(error.message).toContain('send Accept-Encoding: gzip');
  });
});
