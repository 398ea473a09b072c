import * as z from 'zod';
import { INTERVALS } from '../dora/buckets';
import { METRICS } from '../dora/metrics';
import { repositoryName } from '../dora/names';
import type { TimeRange } from '../dora/types';
import { RECOVERY_ALIAS } from '../dora/vocabulary';
import { BadRequestError } from '../errors';
import {
  isoDate,
  MAX_REPOSITORIES,
  periodTooLong,
  queryBoolean,
  serviceFilter,
  teamFilter,
} from '../http/validation';
import { DAY_MS, startOfUtcDay } from '../time';

/**
 * Query strings of `GET /metrics` and `GET /metrics/summary`. The period is either calendar days
 * (`start_date`/`end_date`, both inclusive) or Grafana's `${__from}`/`${__to}` (`from`/`to`, epoch
 * milliseconds, `to` exclusive). Without either: the last DEFAULT_DAYS days, today (UTC) included.
 */

export const DEFAULT_DAYS = 90;

const EPOCH_MS_MAX = Date.UTC(2101, 0, 1);

const epochMs = z
  .string()
  .regex(/^\d{1,15}$/, 'must be epoch milliseconds (an integer, as Grafana gives with $__from and $__to)')
  .transform(Number)
  .refine((value) => value < EPOCH_MS_MAX, { message: 'must be before the year 2101' });

const commaSeparatedRepositories = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0),
  )
  .pipe(z.array(repositoryName).max(MAX_REPOSITORIES));

const filterShape = {
  start_date: isoDate.optional().meta({
    description: `First day of the period (UTC). Default: ${DEFAULT_DAYS - 1} days before end_date`,
  }),
  end_date: isoDate
    .optional()
    .meta({ description: 'Last day of the period, inclusive (UTC). Default: today' }),
  from: epochMs.optional().meta({
    description: 'Start of the period in epoch milliseconds (Grafana `$__from`); instead of start_date',
    examples: ['1725148800000'],
  }),
  to: epochMs.optional().meta({
    description: 'End of the period in epoch milliseconds, exclusive (Grafana `$__to`). Default: now',
    examples: ['1727740800000'],
  }),
  repositories: commaSeparatedRepositories
    .optional()
    .meta({ description: 'Comma-separated repository names', examples: ['checkout-service,web'] }),
  team: teamFilter.optional().meta({
    description: 'Team name or slug (`team_name` of the events, or GitHub ownership); empty means every team',
  }),
  service: serviceFilter.optional(),
  exclude_authors: z
    .string()
    .max(1000)
    .transform((text) =>
      text
        .split(',')
        .map((glob) => glob.trim())
        .filter((glob) => glob.length > 0),
    )
    .optional()
    .meta({
      description:
        'Comma-separated author login globs whose changes are left out (brackets literal, case ignored); empty means nobody. Default: EXCLUDE_AUTHORS',
      examples: ['*[bot],renovate*'],
    }),
  no_cache: queryBoolean.optional().meta({ description: 'Bypass the in-memory caches' }),
};

export const GROUPINGS = ['repository'] as const;

export const summaryQuerySchema = z.object({
  ...filterShape,
  group_by: z
    .enum(GROUPINGS, { error: `must be ${GROUPINGS.join(', ')}` })
    .optional()
    .meta({
      description:
        'repository: also answer `repositories`, every repository of the view side by side, what needs attention first (worst level, then more metrics at it, more failures still open, higher change fail rate, name), from the same Loki reads',
    }),
});

export const metricsQuerySchema = z.object({
  ...filterShape,
  metric: z
    .enum([...METRICS, RECOVERY_ALIAS], {
      error: `must be one of ${[...METRICS, RECOVERY_ALIAS].join(', ')}`,
    })
    .transform((metric): (typeof METRICS)[number] =>
      metric === RECOVERY_ALIAS ? 'time_to_restore_service' : metric,
    )
    .meta({
      description: `The DORA metric; \`${RECOVERY_ALIAS}\` (DORA's current name) is \`time_to_restore_service\``,
    }),
  interval: z
    .enum(INTERVALS, { error: `must be one of ${INTERVALS.join(', ')}` })
    .default('daily')
    .meta({ description: 'Bucket size: calendar days, ISO weeks (Monday), calendar months (UTC), or all' }),
});

export type SummaryQuery = z.output<typeof summaryQuerySchema>;
export type MetricsQuery = z.output<typeof metricsQuerySchema>;
type PeriodQuery = Pick<SummaryQuery, 'start_date' | 'end_date' | 'from' | 'to'>;

function rejected(field: string, message: string): BadRequestError {
  return new BadRequestError(`Invalid query string: ${field} ${message}`, { fields: [{ field, message }] });
}

function dayStart(isoDay: string): number {
  return Date.parse(`${isoDay}T00:00:00Z`);
}

/** The period a query asks for, as an epoch-ms range with an exclusive end; 400 naming the parameter. */
export function resolvePeriod(query: PeriodQuery, now: number, maxRangeMs: number): TimeRange {
  const byDates = query.start_date !== undefined || query.end_date !== undefined;
  const byEpoch = query.from !== undefined || query.to !== undefined;
  if (byDates && byEpoch) {
    throw rejected(
      query.from === undefined ? 'to' : 'from',
      'give either start_date/end_date or from/to, not both',
    );
  }

  let range: TimeRange;
  let endField: 'end_date' | 'to';
  if (byEpoch) {
    const end = query.to ?? now;
    range = { start: query.from ?? end - DEFAULT_DAYS * DAY_MS, end };
    endField = 'to';
    if (range.end <= range.start) {
      throw query.to === undefined
        ? rejected('from', 'must be in the past (to defaults to now)')
        : rejected('to', 'must be after from');
    }
  } else {
    const end =
      query.end_date === undefined ? startOfUtcDay(now) + DAY_MS : dayStart(query.end_date) + DAY_MS;
    range = {
      start: query.start_date === undefined ? end - DEFAULT_DAYS * DAY_MS : dayStart(query.start_date),
      end,
    };
    endField = 'end_date';
    if (range.end <= range.start) {
      throw query.end_date === undefined
        ? rejected('start_date', 'must not be after today (end_date defaults to today)')
        : rejected('end_date', 'must not be before start_date');
    }
  }

  const tooLong = periodTooLong(range, maxRangeMs);
  if (tooLong !== undefined) throw rejected(endField, tooLong);
  return range;
}
