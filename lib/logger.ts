import { Logger } from '@aws-lambda-powertools/logger';

/**
 * Structured JSON logs (one object a line) with the Lambda request id once the handler's
 * context is injected. Level: POWERTOOLS_LOG_LEVEL (default INFO); service: POWERTOOLS_SERVICE_NAME.
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dora-api' });
