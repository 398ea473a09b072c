import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { handler as DeploymentsHandler } from '../../functions/events-deployments';
import type { handler as IncidentsHandler } from '../../functions/events-incidents';
import type { handler as StatusHandler } from '../../functions/status';
import type { handler as StatusJsonHandler } from '../../functions/status-json';
import { buildOpenApiDocument } from '../../lib/openapi/document';
import { useLokiStandIn } from '../helpers/environment';
import { type InvokeResult, invoke } from '../helpers/lambda';

type Json = Record<string, unknown>;

const document = buildOpenApiDocument({ version: 'test' }) as Json;
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema(
  (document.components as { schemas: Json }).schemas.Problem as Json,
  '#/components/schemas/Problem',
);

/** Checks a real answer's status, then its body against what the document says for that status. */
function expectDocumented(route: string, method: string, response: InvokeResult, status: number): void {
  expect(response.statusCode).toBe(status);
  const operation = (document.paths as Record<string, Record<string, Json>>)[route]?.[method];
  const responses = (operation?.responses ?? {}) as Record<string, Json>;
  const content = responses[String(status)]?.content as Record<string, { schema: Json }> | undefined;
  const contentType = response.headers['Content-Type']?.split(';')[0] ?? '';
  const schema = content?.[contentType]?.schema;
  expect({ route, status, contentType, documented: schema !== undefined }).toEqual({
    route,
    status,
    contentType,
    documented: true,
  });
  const resolved =
    schema?.$ref === '#/components/schemas/Problem'
      ? ((document.components as { schemas: Json }).schemas.Problem as Json)
      : (schema as Json);
  const validate = ajv.compile(resolved);
  validate(response.json);
  expect(validate.errors ?? []).toEqual([]);
}

describe('the write routes answer what the OpenAPI document says', () => {
  let restore: () => Promise<void>;
  let deployments: typeof DeploymentsHandler;
  let incidents: typeof IncidentsHandler;
  let status: typeof StatusHandler;
  let statusJson: typeof StatusJsonHandler;

  beforeAll(async () => {
    ({ restore } = await useLokiStandIn({}, { GITHUB_ORG: 'acme', LOKI_MAX_RETRIES: '0' }));
    ({ handler: deployments } = await import('../../functions/events-deployments'));
    ({ handler: incidents } = await import('../../functions/events-incidents'));
    ({ handler: status } = await import('../../functions/status'));
    ({ handler: statusJson } = await import('../../functions/status-json'));
  });
  afterAll(async () => restore());

  it('POST /events/deployments: 201 and 400', async () => {
    const post = (body: unknown) =>
      invoke(deployments, { method: 'POST', path: '/events/deployments', body });
    const mergedAt = new Date(Date.now() - 60_000).toISOString();
    const body = {
      repository: 'doc',
      sha: 'a'.repeat(40),
      environment: 'production',
      status: 'success',
      pull_request: { title: 't', user: 'octocat', merged_at: mergedAt },
    };

    expectDocumented('/events/deployments', 'post', await post(body), 201);
    expectDocumented('/events/deployments', 'post', await post({}), 400);
  });

  it('POST /events/incidents: 201, 200, then 409 with the incident', async () => {
    const post = (body: unknown) => invoke(incidents, { method: 'POST', path: '/events/incidents', body });

    expectDocumented('/events/incidents', 'post', await post({ repository: 'doc', id: '1' }), 201);
    expectDocumented(
      '/events/incidents',
      'post',
      await post({ repository: 'doc', id: '1', title: 'x' }),
      200,
    );
    expectDocumented('/events/incidents', 'post', await post({ repository: 'doc', id: '1' }), 409);
  });

  it('POST /api/status: 200, and 400 in the agents error shape', async () => {
    const post = (body: unknown) => invoke(status, { method: 'POST', path: '/api/status', body });
    const report = {
      repo: 'r',
      server: 's',
      sync_status: 'SYNCED',
      drift_count: 0,
      files: [],
      last_check: 'now',
    };

    expectDocumented('/api/status', 'post', await post(report), 200);
    expectDocumented('/api/status', 'post', await post({}), 400);
  });

  it('GET /status.json: 200 and 400', async () => {
    const get = (query: Record<string, string>) => invoke(statusJson, { path: '/status.json', query });

    expectDocumented('/status.json', 'get', await get({}), 200);
    expectDocumented('/status.json', 'get', await get({ unknown: '1' }), 400);
  });
});
