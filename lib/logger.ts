import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer, registerSecrets } from './redact';

// Local runs read secrets from the environment: known from the start, so redacted from the start.
registerSecrets([
  process.env.GITHUB_TOKEN,
  process.env.LOKI_TOKEN,
  process.env.AUTH_JWT_SECRET,
  process.env.GITHUB_WEBHOOK_SECRET,
]);

/**
 * Structured JSON logs (one object a line) with the Lambda request id once the handler's
 * context is injected. Level: POWERTOOLS_LOG_LEVEL (default INFO); service: POWERTOOLS_SERVICE_NAME.
 * Every line passes through the redacting replacer: no token, Authorization header, configured
 * secret or URL credential is ever written.
 */
export const logger = new Logger({
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dora-api',
  jsonReplacerFn: redactingReplacer,
});
