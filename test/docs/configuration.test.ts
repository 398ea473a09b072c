import { readFileSync } from 'node:fs';
import path from 'node:path';
import { environmentSchema } from '../../lib/config';

const TABLE = readFileSync(path.resolve(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

/** The configuration tables' rows: variable → default cell. */
const rows = new Map(
  [...TABLE.matchAll(/^\| `([A-Z][A-Z_0-9]*)` \| ([^|]*) \|/gm)].map((m) => [
    m[1] ?? '',
    (m[2] ?? '').trim(),
  ]),
);

/** Documented, but read outside lib/config.ts; each with where it is read. */
const READ_ELSEWHERE: Record<string, string> = {
  OFFLINE_LAMBDA_PORT: 'dev/start.ts (serverless offline)',
  POWERTOOLS_LOG_LEVEL: 'lib/logger.ts (Powertools reads it)',
  GITHUB_TOKEN: 'lib/secrets.ts (a secret)',
  LOKI_TOKEN: 'lib/secrets.ts (a secret)',
  AUTH_JWT_SECRET: 'lib/secrets.ts (a secret)',
  GITHUB_WEBHOOK_SECRET: 'lib/secrets.ts (a secret)',
};

/** In the schema, but set by the platform rather than by an operator. */
const SET_BY_PLATFORM = ['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'];

const schemaKeys = Object.keys(environmentSchema.shape);

describe('docs/configuration.md and the config schema', () => {
  it.each(schemaKeys.filter((key) => !SET_BY_PLATFORM.includes(key)))('documents %s', (key) => {
    expect([...rows.keys()]).toContain(key);
  });

  it.each([...rows.keys()])('%s is a setting of the schema or read elsewhere on purpose', (key) => {
    expect(schemaKeys.includes(key) || key in READ_ELSEWHERE).toBe(true);
  });

  /** The plain defaults (numbers, strings); lists and durations are transformed and documented in their own words. */
  const plainDefaults = schemaKeys.flatMap((key) => {
    const field = environmentSchema.shape[key as keyof typeof environmentSchema.shape];
    const value = field.def.type === 'default' ? field.def.defaultValue : undefined;
    return (typeof value === 'string' || typeof value === 'number') && rows.has(key)
      ? [[key, String(value)]]
      : [];
  });

  it.each(plainDefaults)('the default of %s is %s, as the schema says', (key, value) => {
    expect(rows.get(key)).toContain(`\`${value}\``);
  });
});
