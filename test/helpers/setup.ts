import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Tests assert on responses; log lines would only bury jest's report. A test about logging raises the level itself.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Never let a developer's own .env or shell point a test at a real Loki or GitHub.
for (const name of [
  'LOKI_URL',
  'LOKI_USER',
  'LOKI_TOKEN',
  'GITHUB_TOKEN',
  'GITHUB_ORG',
  'SSM_PARAMETER_PATH',
  'AUTH_JWT_SECRET',
  'GITHUB_WEBHOOK_SECRET',
]) {
  delete process.env[name];
}
// The AWS SDK clients need a region and credentials even when aws-sdk-client-mock answers for them;
// fixed fake ones keep the SDK from looking for real ones (files, instance metadata).
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIATESTONLY';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test-only';
// Webhook deliveries a test keeps go to a folder of its own file, never to the repository's .data/.
process.env.WEBHOOK_OUTBOX_URL = pathToFileURL(
  path.join(tmpdir(), `dora-api-test-outbox-${randomUUID()}`),
).href;
