import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { useLokiStandIn } from '../helpers/environment';
import { lambdaContext } from '../helpers/lambda';

/** The sample events of `serverless invoke local --path events/<name>.json` must keep working. */
function sample(name: string): APIGatewayProxyEventV2 {
  return JSON.parse(readFileSync(path.resolve(__dirname, '../../events', `${name}.json`), 'utf8'));
}

type Handler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<{ statusCode: number; body: string }>;

async function handlerOf(module: string): Promise<Handler> {
  return ((await import(module)) as { handler: Handler }).handler;
}

function invoke(handler: Handler, event: APIGatewayProxyEventV2) {
  return handler(event, lambdaContext());
}

describe('sample events of the write routes', () => {
  let restore: () => Promise<void>;
  beforeAll(async () => {
    ({ restore } = await useLokiStandIn({}, { GITHUB_ORG: 'acme', LOKI_MAX_RETRIES: '0' }));
  });
  afterAll(async () => restore());

  it.each([
    ['events-deployments', '../../functions/events-deployments', 201],
    ['events-incidents', '../../functions/events-incidents', 201],
    ['status', '../../functions/status', 200],
    ['status-json', '../../functions/status-json', 200],
  ])('events/%s.json is answered by its function', async (name, module, status) => {
    const { handler } = (await import(module)) as {
      handler: (
        event: APIGatewayProxyEventV2,
        context: unknown,
      ) => Promise<{ statusCode: number; body: string }>;
    };

    const response = await handler(sample(name), lambdaContext());

    expect({ name, status: response.statusCode }).toEqual({ name, status });
  });

  it('GET /status.json then lists the status the sample reported', async () => {
    const response = await invoke(await handlerOf('../../functions/status-json'), sample('status-json'));

    expect(JSON.parse(response.body)).toEqual([
      expect.objectContaining({ repo: 'acme/platform-gitops', server: 'prod-eu-1', drift_count: 2 }),
    ]);
  });
});
