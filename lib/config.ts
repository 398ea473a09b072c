import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as z from 'zod';
import {
  LEVEL_PRESETS,
  type LevelPreset,
  type LevelThresholdsOverride,
  levelThresholdsOverrideSchema,
} from './dora/levels';
import { DAY_MS } from './time';

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

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

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

/**
 * The streams a team filter reads (LOKI_TEAM_STREAMS). A team's events are those labelled with it
 * (`team_name`, structured metadata: not in Loki's index) plus the unlabelled ones of the repositories
 * GitHub says it owns, so only reading every stream is exact whatever the labels say:
 * - `all`: every stream of the namespace. A year of 300 repositories is ~1.4 million chunks for Loki to
 *   open: 37-44 s of Loki work on the 2-core Loki 3.7.6 here, whatever the chunking (a 504).
 * - `skip-others`: every stream except those of repositories that only other GitHub teams own. It differs
 *   from `all` only for events labelled with this team inside another team's repository. The same year
 *   of a 38-repository team: 12.4 s, the same 30,032 lines as its own streams.
 * - `owned`: only the team's own repositories' streams (11.3 s), which also leaves out the repositories
 *   no GitHub team owns.
 * Without GitHub's ownership (not configured, or failing) every mode reads the whole namespace, and so does
 * `owned` for a team GitHub gives no repository.
 */
export type TeamStreams = 'all' | 'skip-others' | 'owned';

export const TEAM_STREAMS: readonly TeamStreams[] = ['skip-others', 'all', 'owned'];

export const environmentSchema = z.object({
  PORT: positiveInt(3000).describe('Port of http://localhost:$PORT (serverless offline).'),
  STAGE: z.string().default('local').describe('Shown by GET /health; set by the deployment.'),
  SERVICE_VERSION: z
    .string()
    .default('0.0.0')
    .describe("The version GET /health reports; serverless.yml sets package.json's version."),

  GITHUB_ORG: optionalText.describe(
    'Organisation whose teams GET /teams lists and `team` filters resolve against.',
  ),
  GITHUB_API_URL: urlText
    .default('https://api.github.com')
    .describe('API base URL (GitHub Enterprise Server: https://github.example.com/api/v3).'),
  GITHUB_CONCURRENCY: positiveInt(8).describe(
    "Concurrent GitHub requests while listing the teams' repositories.",
  ),
  GITHUB_MAX_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(3)
    .describe('Retries of a failed or rate-limited GitHub request (0-10).'),
  GITHUB_TIMEOUT_MS: positiveInt(20_000).describe(
    "Time limit of the whole team listing, in milliseconds: one limit for every GitHub request of one fetch of the teams (every page of teams and of each team's repositories, retries included), not per request. Past it the fetch fails with 504, or the cached list is served marked stale when there is one.",
  ),
  TEAMS_CACHE_TTL_SECONDS: positiveInt(900).describe(
    'How long the teams and their repositories are cached, in seconds.',
  ),

  SERVICE_NAME: optionalText.describe(
    'The service_namespace label the collector puts on every event (QUERY_SERVICE_NAMESPACE is the older name of the same setting; SERVICE_NAME wins when both are set).',
  ),
  QUERY_SERVICE_NAMESPACE: optionalText.describe('The older name of SERVICE_NAME, still read.'),
  PRODUCTION_ENVIRONMENT_NAMES: commaList('production,prod').describe(
    'Deployment environments that count as production: exact names, case-insensitive, comma separated.',
  ),
  INCIDENT_LABELS: commaList('incident').describe(
    'Issue labels that make a closed issue an incident, comma separated.',
  ),
  EXCLUDE_AUTHORS: commaList('').describe(
    "Author login globs (comma separated, case-insensitive, e.g. `*[bot],renovate*`) whose changes `GET /metrics` and `GET /metrics/summary` leave out; a request's `exclude_authors` replaces it. See [metrics](metrics.md#bot-changes).",
  ),

  LOKI_URL: z
    .union([urlText, z.literal('')])
    .optional()
    .describe(
      'Base URL (https://logs.example.com) or the full .../loki/api/v1/query_range URL. Unset, `npm start` serves generated events from its local Loki stand-in.',
    ),
  LOKI_USER: optionalText.describe(
    "Basic auth user (Grafana Cloud: the stack's user id); with LOKI_TOKEN as password, else Bearer LOKI_TOKEN.",
  ),
  LOKI_TENANT: optionalText.describe('X-Scope-OrgID for multi-tenant Loki.'),
  LOKI_REPOSITORY_LABEL: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a Loki label name, or none')
    .default('service_name')
    .describe(
      "Index label holding the repository name: a repository filter selects those streams from Loki's index instead of reading every line of the namespace (the collector and the write path set `service_name`); `none` filters on `vcs_repository_name` only.",
    ),
  LOKI_TEAM_STREAMS: z
    .enum(TEAM_STREAMS)
    .default('skip-others')
    .describe(
      "Streams a team filter reads, chosen by `LOKI_REPOSITORY_LABEL` from GitHub's team ownership: `skip-others`, every stream except those of repositories only other GitHub teams own (the team's repositories and those no team owns); `all`, every stream of the namespace (also counts events labelled with the team inside another team's repository, at the cost of reading every line: a year of 300 repositories is 38-44 s of Loki work here, a 504); `owned`, only the team's own repositories. A year of a 38-repository team among 300 on the real Loki here: 12.4 s `skip-others`, 11.3 s `owned`. With `skip-others` a team GitHub does not know reads only the streams no GitHub team owns; without GitHub, a team reads the whole namespace.",
    ),
  LOKI_MAX_QUERY_LENGTH: duration('30d').describe(
    "Longest time span one query may cover (the server's max_query_length); longer ranges are split. `0`: no limit (one query per range, as Loki reads `max_query_length: 0`).",
  ),
  LOKI_PAGE_LIMIT: z.coerce
    .number()
    .int()
    .min(1)
    .max(5000)
    .default(5000)
    .describe("Lines per page (at most 5000, Loki's max_entries_limit_per_query default)."),
  LOKI_CONCURRENCY: positiveInt(4).describe('Concurrent Loki requests per API request.'),
  LOKI_TIMEOUT_MS: positiveInt(10_000).describe(
    "Time limit of one Loki request made without a deadline (scripts, writes), in milliseconds; `/data` and `/metrics` give a request all the time left before the function's own deadline.",
  ),
  LOKI_MAX_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe('Retries of a Loki request answered 429/5xx or timed out (0-10).'),

  LOOKAROUND_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365)
    .default(30)
    .describe(
      'Days before `start` searched for merges and after `end` for incidents and fixing deployments (0-365).',
    ),
  MAX_RANGE_DAYS: positiveInt(1100).describe(
    "Longest start..end range a request may ask for, in days (dashboards' `daysToPull`/`daysToFetch` of two years and more fit); also how far back GET /services looks. A window that cannot be answered in time or size gets the 504/422 of [What fits](performance.md#what-fits).",
  ),
  DATA_CACHE_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(300)
    .describe(
      'How long answers are kept in memory, in seconds: the events of POST /data answers and the computed answers of GET /metrics and /metrics/summary (a few kB each, outside DATA_CACHE_MAX_MB); 0 turns the caches off.',
    ),
  DATA_CACHE_MAX_ENTRIES: positiveInt(200).describe('How many distinct requests the data cache keeps.'),
  DATA_CACHE_MAX_MB: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "Heap the data caches may fill together, weighing answers and events (~400 bytes each); the least recently used go first. Half of it holds answers (one bigger than that half is not kept), the other half the events of closed UTC days per stream selection, so a window asked again (the dashboards' sliding year, the next day) asks Loki only for the days it lacks; `DATA_CACHE_TTL_SECONDS=0` turns both off.",
    ),
  // Where closed days are kept (lib/rollups/store.ts): checked in full by openObjectStore when first used.
  ROLLUPS_URL: z
    .string()
    .trim()
    .default('off')
    .refine((url) => /^(off|s3:\/\/[^/]+(\/.*)?|file:\/\/\/.+)$/.test(url), {
      message: 'must be s3://bucket/prefix, file:///absolute/dir or off',
    })
    .describe(
      'Where the closed UTC days read from Loki are kept, so no closed day is read twice: `s3://bucket/prefix`, `file:///absolute/dir` or `off`. `npm start` uses `.data/rollups` in the checkout; a deployed stack its own bucket (`rollups/`). See [rollups](rollups.md).',
    ),
  /** Set by Lambda: the function's memory size, from which the cache budget is derived. */
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: z.coerce.number().int().positive().optional(),

  SSM_PARAMETER_PATH: optionalText.describe(
    'SSM Parameter Store path of the secrets; set on AWS by serverless.yml, empty locally (secrets from here).',
  ),
  SECRETS_CACHE_TTL_SECONDS: positiveInt(300).describe(
    'How long secrets read from SSM are cached, in seconds.',
  ),
  CORS_ORIGINS: optionalText.describe(
    'Origins allowed to call from a browser, comma separated (e.g. https://dash.example.com).',
  ),

  DORA_LEVELS_PRESET: z
    .enum(LEVEL_PRESETS)
    .default('dora-2024')
    .describe(
      "DORA levels: dora-2024 (DORA 2024 report clusters) or react-dora-charts (that library's defaults).",
    ),
  DORA_LEVEL_THRESHOLDS: optionalText
    .transform((text, ctx) => {
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
    })
    .describe(
      'JSON bounds merged over the preset, per metric and level, e.g. `{"change_failure_rate":{"medium":"<=0.3"}}`.',
    ),

  AUTH_MODE: z
    .enum(['auto', 'jwt', 'gateway', 'off'])
    .default('auto')
    .describe(
      'Who checks bearer tokens: auto (jwt when AUTH_JWT_SECRET is set, else off — but only off AWS: a deployed function with auto and no secret refuses every request), jwt, gateway (an API Gateway JWT authorizer; the function trusts it), off. `npm start` uses auto unless this is set.',
    ),
  AUTH_JWT_AUDIENCE: optionalText.describe('Expected aud of tokens (checked when set).'),
  AUTH_JWT_ISSUER: optionalText.describe('Expected iss of tokens (checked when set).'),
  AUTH_JWT_REQUIRED_CLAIMS: commaList('').describe(
    'Claims every token must carry, comma separated (exp is always checked when present).',
  ),
  AUTH_JWT_CLOCK_TOLERANCE_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(300)
    .default(30)
    .describe('Allowed clock skew when checking exp/nbf, in seconds (0-300).'),
  // API Gateway refuses bodies above 10 MB before the function runs.
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10_485_760)
    .default(262_144)
    .describe('Largest request body accepted, in bytes.'),

  // Write path (POST /events/*, POST /api/status, GET /status.json).
  LOKI_PUSH_MAX_BACKDATE: duration('50m').describe(
    'Written events are stored at their own time when at most this far back, else at this far back (their own time stays in the line); Loki refuses entries far behind their stream.',
  ),
  INCIDENT_LOOKBACK_DAYS: positiveInt(90).describe(
    'How far back POST /events/incidents looks for earlier reports of the same incident, in days.',
  ),
  STATUS_TTL_HOURS: positiveInt(24).describe(
    'GET /status.json leaves out GitOps statuses not reported for this many hours.',
  ),
  // Where verified webhook deliveries wait while Loki does not take them (lib/webhooks/store-outbox.ts).
  WEBHOOK_OUTBOX_URL: optionalText
    .refine(
      (value) => value === undefined || /^(file:\/\/\/|s3:\/\/)./.test(value),
      'must be file:///absolute/dir or s3://bucket/prefix',
    )
    .describe(
      'Where verified webhook deliveries wait while Loki does not take them, forwarded every minute: `file:///absolute/dir` or `s3://bucket/prefix`. `npm start` uses `.data/webhook-outbox` in the checkout; a deployed stack its own bucket (`webhook-outbox/`).',
    ),

  // Filling the store of closed days (npm run rollups, the scheduled and backfill functions). Days read
  // at once: on the real Loki 3.7.6 (2 cores, 300 repositories) a day of the organisation is one query of
  // 24 hourly sub-queries, about 2 s of Loki's CPU, and 1, 2, 4 or 8 at once all filled 0.43-0.49 days/s.
  // Two keep Loki busy between one answer and the next request and leave its other querier workers to the
  // API's own requests.
  ROLLUPS_FILL_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(32)
    .default(2)
    .describe(
      "Closed days `npm run rollups`, the scheduled and the backfill functions read from Loki at once (1-32; `--concurrency` overrides it for the command). On the real Loki here 1 to 8 at once all filled 0.43-0.49 days/s of a 300-repository organisation: Loki's CPU is the limit.",
    ),
  ROLLUPS_BACKFILL_FUNCTION: optionalText.describe(
    'The backfill function a request that needs more missing closed days than it can read starts asynchronously; unset (`npm start`), the days are filled by a task in the same process.',
  ),
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
  /** The store of closed days (ROLLUPS_URL): an `s3://` or `file://` URL, undefined when off. */
  rollupsUrl: string | undefined;
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
  /** WEBHOOK_OUTBOX_URL, else `.data/webhook-outbox` under the working directory (the repository on npm start). */
  webhookOutboxUrl: string;
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
  rollupsFill: {
    /** Days read from Loki at once (ROLLUPS_FILL_CONCURRENCY in the schema says why 2). */
    concurrency: number;
    /** The backfill function's name on AWS (set by serverless.yml); unset, missing days fill in this process. */
    backfillFunction: string | undefined;
  };
}

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
    rollupsUrl: e.ROLLUPS_URL === 'off' ? undefined : e.ROLLUPS_URL,
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
    webhookOutboxUrl: e.WEBHOOK_OUTBOX_URL ?? pathToFileURL(path.resolve('.data', 'webhook-outbox')).href,
    writes: {
      maxBackdateMs: e.LOKI_PUSH_MAX_BACKDATE,
      incidentLookbackMs: e.INCIDENT_LOOKBACK_DAYS * DAY_MS,
      statusTtlMs: e.STATUS_TTL_HOURS * 3_600_000,
    },
    doraLevels: { preset: e.DORA_LEVELS_PRESET, thresholds: e.DORA_LEVEL_THRESHOLDS },
    rollupsFill: { concurrency: e.ROLLUPS_FILL_CONCURRENCY, backfillFunction: e.ROLLUPS_BACKFILL_FUNCTION },
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
