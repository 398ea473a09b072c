/**
 * Whether the API reports its own operation. On AWS both are on (serverless.yml sets nothing to turn
 * them off); everywhere else (tests, `npm start`, serverless-offline, the benchmark) they are off unless
 * asked for with Powertools' own variables: POWERTOOLS_METRICS_DISABLED=false prints the EMF lines
 * locally, POWERTOOLS_TRACE_ENABLED=false turns X-Ray off on AWS.
 */
type Env = Record<string, string | undefined>;

function flag(value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

/** A real Lambda container (serverless-offline sets IS_OFFLINE beside Lambda's variables). */
export function runsOnLambda(env: Env = process.env): boolean {
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined && flag(env.IS_OFFLINE) !== true;
}

export function metricsEnabled(env: Env = process.env): boolean {
  const disabled = flag(env.POWERTOOLS_METRICS_DISABLED);
  return disabled === undefined ? runsOnLambda(env) : !disabled;
}

/** X-Ray needs Lambda's trace header and daemon: never outside Lambda. */
export function tracingEnabled(env: Env = process.env): boolean {
  return runsOnLambda(env) && flag(env.POWERTOOLS_TRACE_ENABLED) !== false;
}
