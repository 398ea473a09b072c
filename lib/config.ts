import * as z from 'zod';
import {
  LEVEL_PRESETS,
  type LevelPreset,
  type LevelThresholdsOverride,
  levelThresholdsOverrideSchema,
} from './dora/levels';
import { TEAM_STREAMS, type TeamStreams } from './loki/logql';

/**
 * Every setting of the API, read from the environment once and validated.
 * A setting has one name everywhere: here, in serverless.yml, in the README and in tests.
 * Secrets (GITHUB_TOKEN, LOKI_TOKEN, AUTH_JWT_SECRET, GITHUB_WEBHOOK_SECRET) are not read here: see lib/secrets.ts.
 */

const commaList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses Loki-style durations (`30d`, `721h`, `30d1h`) into milliseconds. */
export function parseDuration(text: string): number {
  // Loki writes "no limit" as 0 (`max_query_length: 0`).
  if (text.trim() === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
  const consumed = parts.map((part) => part[0]).join('');
  if (parts.length === 0 || consumed !== text.trim())
    throw new Error(`"${text}" is not a duration like 30d or 721h`);
  return parts.reduce(
    (total, [, amount, unit]) => total + Number(amount) * (DURATION_UNITS_MS[unit ?? 'ms'] ?? 0),
    0,
  );
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });

const urlText = z.url({ protocol: /^https?$/ });

export const environmentSchema = z.object({
  PORT: positiveInt(3000),
  STAGE: z.string().default('local'),
  SERVICE_VERSION: z.string().default('0.0.0'),

  GITHUB_ORG: optionalText,
  GITHUB_API_URL: urlText.default('https://api.github.com'),
  GITHUB_CONCURRENCY: positiveInt(8),
  GITHUB_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  GITHUB_TIMEOUT_MS: positiveInt(20_000),
  TEAMS_CACHE_TTL_SECONDS: positiveInt(900),

  SERVICE_NAME: optionalText,
  QUERY_SERVICE_NAMESPACE: optionalText,
  PRODUCTION_ENVIRONMENT_NAMES: commaList('production,prod'),
  INCIDENT_LABELS: commaList('incident'),
  EXCLUDE_AUTHORS: commaList(''),

  LOKI_URL: z.union([urlText, z.literal('')]).optional(),
  LOKI_USER: optionalText,
  LOKI_TENANT: optionalText,
  LOKI_REPOSITORY_LABEL: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Loki label name, or none')
    .default('service_name'),
  LOKI_TEAM_STREAMS: z.enum(TEAM_STREAMS).default('skip-others'),
  LOKI_MAX_QUERY_LENGTH: duration('30d'),
  LOKI_PAGE_LIMIT: z.coerce.number().int().min(1).max(5000).default(5000),
  LOKI_CONCURRENCY: positiveInt(4),
  LOKI_TIMEOUT_MS: positiveInt(10_000),
  LOKI_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),

  LOOKAROUND_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  MAX_RANGE_DAYS: positiveInt(1100),
  DATA_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).default(300),
  DATA_CACHE_MAX_ENTRIES: positiveInt(200),
  DATA_CACHE_MAX_MB: z.coerce.number().int().positive().optional(),
  /** Set by Lambda: the function's memory size, from which the cache budget is derived. */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().positive().optional(),

  SSM_PARAMETER_PATH: optionalText,
  SECRETS_CACHE_TTL_SECONDS: positiveInt(300),
  CORS_ORIGINS: optionalText,

  DORA_LEVELS_PRESET: z.enum(LEVEL_PRESETS).default('dora-2024'),
  DORA_LEVEL_THRESHOLDS: optionalText.transform((text, ctx) => {
    if (text === undefined) return {};
    try {
      const parsed = levelThresholdsOverrideSchema.safeParse(JSON.parse(text));
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` });
      }
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not JSON: ${(error as Error).message}` });
    }
    return z.NEVER;
  }),

  AUTH_MODE: z.enum(['auto', 'jwt', 'gateway', 'off']).default('auto'),
  AUTH_JWT_AUDIENCE: optionalText,
  AUTH_JWT_ISSUER: optionalText,
  AUTH_JWT_REQUIRED_CLAIMS: commaList(''),
  AUTH_JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  // API Gateway refuses bodies above 10 MB before the function runs.
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(262_144),

  // Write path (POST /events/*, POST /api/status, GET /status.json).
  LOKI_PUSH_MAX_BACKDATE: duration('50m'),
  INCIDENT_LOOKBACK_DAYS: positiveInt(90),
  STATUS_TTL_HOURS: positiveInt(24),
});

export interface Config {
  port: number;
  stage: string;
  version: string;
  github: {
    org: string | undefined;
    apiUrl: string;
    concurrency: number;
    maxRetries: number;
    /** Budget for one fetch of all teams and repositories (Lambda answers within 29 s). */
    timeoutMs: number;
    teamsCacheTtlMs: number;
  };
  /** The `service_namespace` label the collector puts on every event. */
  serviceNamespace: string;
  productionEnvironments: string[];
  incidentLabels: string[];
  /** Author login globs whose changes the metrics leave out (lib/dora/authors.ts); empty: nobody. */
  excludeAuthors: string[];
  loki: {
    url: string | undefined;
    user: string | undefined;
    tenant: string | undefined;
    /**
     * The index label holding the repository name, which repository filters select streams by; undefined
     * (LOKI_REPOSITORY_LABEL=none) filters on the `vcs_repository_name` structured metadata only.
     */
    repositoryLabel: string | undefined;
    /**
     * Which streams a team filter reads: `all` (every stream of the namespace, for the team_name events
     * of repositories GitHub does not say the team owns), or `owned` (only the streams of the team's
     * repositories, chosen on `repositoryLabel`).
     */
    teamStreams: TeamStreams;
    maxQueryLengthMs: number;
    pageLimit: number;
    concurrency: number;
    timeoutMs: number;
    maxRetries: number;
  };
  /** How far before `start` merges, and after `end` incidents and fixing deployments, are looked for. */
  lookaroundMs: number;
  maxRangeMs: number;
  /** `maxMb`: what the data caches may take of the heap (DATA_CACHE_MAX_MB, else a fifth of the function's memory). */
  dataCache: { ttlMs: number; maxEntries: number; maxMb: number };
  ssmParameterPath: string | undefined;
  secretsCacheTtlMs: number;
  corsOrigins: string[] | undefined;
  /** How GET /metrics/summary ranks metrics into DORA levels. */
  doraLevels: { preset: LevelPreset; thresholds: LevelThresholdsOverride };
  auth: {
    /**
     * `jwt`: the function checks HS256 bearer tokens signed with AUTH_JWT_SECRET (refusing every
     * request when the secret is missing); `gateway`: an API Gateway authorizer checks tokens before
     * the function runs; `off`: no authentication; `auto` (default): `jwt` when AUTH_JWT_SECRET is
     * set, else `off`, so a local run needs no token.
     */
    mode: 'auto' | 'jwt' | 'gateway' | 'off';
    audience: string | undefined;
    issuer: string | undefined;
    /** Claims every token must carry (besides exp, which is always checked when present). */
    requiredClaims: string[];
    clockToleranceSeconds: number;
  };
  maxBodyBytes: number;
  writes: {
    /**
     * Written events are stored at their own time when it is at most this far in the past (Loki refuses
     * entries too far behind the newest of their stream, about an hour by default), else at this far
     * back; their own times stay in the JSON line, which is what the reader uses.
     */
    maxBackdateMs: number;
    /** How far back POST /events/incidents looks for earlier reports of the same incident. */
    incidentLookbackMs: number;
    /** GET /status.json leaves out GitOps statuses not reported for this long. */
    statusTtlMs: number;
  };
}

const DAY_MS = 86_400_000;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates an environment; the error names every variable that is wrong. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  // An empty value means "not set": serverless.yml passes every tunable, empty unless the deployer set it.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    stage: e.STAGE,
    version: e.SERVICE_VERSION,
    github: {
      org: e.GITHUB_ORG,
      apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ''),
      concurrency: e.GITHUB_CONCURRENCY,
      maxRetries: e.GITHUB_MAX_RETRIES,
      timeoutMs: e.GITHUB_TIMEOUT_MS,
      teamsCacheTtlMs: e.TEAMS_CACHE_TTL_SECONDS * 1000,
    },
    serviceNamespace: e.SERVICE_NAME ?? e.QUERY_SERVICE_NAMESPACE ?? 'github',
    productionEnvironments: e.PRODUCTION_ENVIRONMENT_NAMES.map((name) => name.toLowerCase()),
    incidentLabels: e.INCIDENT_LABELS,
    excludeAuthors: e.EXCLUDE_AUTHORS,
    loki: {
      url: e.LOKI_URL === '' ? undefined : e.LOKI_URL,
      user: e.LOKI_USER,
      tenant: e.LOKI_TENANT,
      repositoryLabel: e.LOKI_REPOSITORY_LABEL === 'none' ? undefined : e.LOKI_REPOSITORY_LABEL,
      teamStreams: e.LOKI_TEAM_STREAMS,
      maxQueryLengthMs: e.LOKI_MAX_QUERY_LENGTH,
      pageLimit: e.LOKI_PAGE_LIMIT,
      concurrency: e.LOKI_CONCURRENCY,
      timeoutMs: e.LOKI_TIMEOUT_MS,
      maxRetries: e.LOKI_MAX_RETRIES,
    },
    lookaroundMs: e.LOOKAROUND_DAYS * DAY_MS,
    maxRangeMs: e.MAX_RANGE_DAYS * DAY_MS,
    dataCache: {
      ttlMs: e.DATA_CACHE_TTL_SECONDS * 1000,
      maxEntries: e.DATA_CACHE_MAX_ENTRIES,
      // A year of a large organisation is ~85 MB of events: a fifth of a 1024 MB function keeps two such
      // answers and still leaves the next request room; off Lambda (npm start) 256 MB.
      maxMb: e.DATA_CACHE_MAX_MB ?? Math.floor((e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 1280) / 5),
    },
    ssmParameterPath: e.SSM_PARAMETER_PATH?.replace(/\/+$/, ''),
    secretsCacheTtlMs: e.SECRETS_CACHE_TTL_SECONDS * 1000,
    corsOrigins: e.CORS_ORIGINS?.split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    auth: {
      mode: e.AUTH_MODE,
      audience: e.AUTH_JWT_AUDIENCE,
      issuer: e.AUTH_JWT_ISSUER,
      requiredClaims: e.AUTH_JWT_REQUIRED_CLAIMS,
      clockToleranceSeconds: e.AUTH_JWT_CLOCK_TOLERANCE_SECONDS,
    },
    maxBodyBytes: e.MAX_BODY_BYTES,
    writes: {
      maxBackdateMs: e.LOKI_PUSH_MAX_BACKDATE,
      incidentLookbackMs: e.INCIDENT_LOOKBACK_DAYS * DAY_MS,
      statusTtlMs: e.STATUS_TTL_HOURS * 3_600_000,
    },
    doraLevels: { preset: e.DORA_LEVELS_PRESET, thresholds: e.DORA_LEVEL_THRESHOLDS },
  };
}

/**
 * DATA_CACHE_MAX_MB shared by the two data caches, so that together they stay within it: half for answers
 * (lib/data/service.ts), half for the Loki reader's events of closed days (lib/loki/day-cache.ts).
 */
export function dataCacheShares(dataCache: Config['dataCache']): { answersMb: number; daysMb: number } {
  const enabled = dataCache.ttlMs > 0;
  return { answersMb: dataCache.maxMb / 2, daysMb: enabled ? dataCache.maxMb / 2 : 0 };
}

let cached: Config | undefined;

/** The configuration of this process, validated on first use (cold start). */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Fails with a message naming the variable when a setting a route needs is absent. */
export function requireSetting<T>(value: T | undefined, variable: string): T {
  if (value === undefined || value === '') {
    throw new ConfigError(`Missing configuration: set ${variable}`);
  }
  return value;
}

/** For tests that change the environment between cases. */
export function resetConfigForTests(): void {
  cached = undefined;
}
