import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { clearCache } from '@middy/util';
import { mockClient } from 'aws-sdk-client-mock';
import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import { generateSample } from '../../lib/sample/generator';
import { useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

const PATH = '/dora-api/test';
const LOKI_TOKEN_IN_SSM = 'loki-token-only-ssm-knows-0123456789';
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 3, end: END, days: 10, repositories: 3, teams: 1 });

const ssm = mockClient(SSMClient);

describe('secrets from SSM Parameter Store', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    ssm.on(GetParametersByPathCommand).resolves({
      Parameters: [
        { Name: `${PATH}/LOKI_TOKEN`, Type: 'SecureString', Value: LOKI_TOKEN_IN_SSM },
        { Name: `${PATH}/GITHUB_TOKEN`, Type: 'SecureString', Value: 'ghp_from-ssm' },
      ],
    });
    // Loki refuses every request that does not carry the token stored in SSM.
    ({ loki, restore } = await useLokiStandIn(
      { entries: sample.entries, requireAuth: { token: LOKI_TOKEN_IN_SSM } },
      { SSM_PARAMETER_PATH: PATH, LOKI_TOKEN: '', GITHUB_ORG: '' },
    ));
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => {
    await restore();
    // @middy/ssm refreshes its cache on a timer (SECRETS_CACHE_TTL_SECONDS); stop it with the test.
    clearCache();
    ssm.restore();
  });

  const postData = () =>
    invoke(handler, {
      method: 'POST',
      path: '/data',
      query: { no_cache: 'true' },
      body: { start: new Date(END - 5 * 86_400_000).toISOString(), end: new Date(END).toISOString() },
    });

  it('authenticates to Loki with the token read from SSM, decrypted, under the service path', async () => {
    const response = await postData();

    expect(response.statusCode).toBe(200);
    expect(loki.requests.at(-1)?.headers.authorization).toBe(`Bearer ${LOKI_TOKEN_IN_SSM}`);
    const calls = ssm.commandCalls(GetParametersByPathCommand);
    expect(calls[0]?.args[0].input).toMatchObject({
      Path: `${PATH}/`,
      WithDecryption: true,
      Recursive: true,
    });
  });

  it('reads SSM once per container, not once per invocation', async () => {
    const callsBefore = ssm.commandCalls(GetParametersByPathCommand).length;

    await postData();
    await postData();

    expect(ssm.commandCalls(GetParametersByPathCommand).length).toBe(callsBefore);
    expect(callsBefore).toBe(1);
  });

  it('never puts an SSM secret in a response', async () => {
    const response = await postData();

    expect(response.body).not.toContain(LOKI_TOKEN_IN_SSM);
    expect(JSON.stringify(response.headers)).not.toContain(LOKI_TOKEN_IN_SSM);
  });
});
