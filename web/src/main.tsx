import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { type ApiError, callApi, storedToken, storeToken } from './api';
import { BandLegend, DeploymentsChart, MetricChart } from './charts';
import { DeploymentsTable } from './deployments';
import {
  BOT_AUTHORS,
  dataRequest,
  effectiveInterval,
  type Filters,
  INTERVALS,
  isoDay,
  metricsQuery,
  PERIODS,
  periodDays,
  readFilters,
  runningBucketDate,
  withPeriod,
  writeFilters,
} from './filters';
import { METRIC_TITLES } from './format';
import { GitOpsTable } from './gitops';
import { asApiError, LOADING, type Part, PartStatus, Section } from './parts';
import { RepositoryTable } from './repositories';
import { continueAfterLokiDeadline } from './retry';
import { SummaryCards } from './summary';
import {
  type DeploymentRecord,
  type GitOpsStatus,
  METRIC_NAMES,
  type MetricBounds,
  type MetricName,
  type MetricPoint,
  type Summary,
  type Team,
} from './types';

function today(): string {
  return isoDay(Date.now());
}

function useColourScheme(): string {
  const query = useMemo(() => matchMedia('(prefers-color-scheme: dark)'), []);
  const [scheme, setScheme] = useState(query.matches ? 'dark' : 'light');
  useEffect(() => {
    const listener = () => setScheme(query.matches ? 'dark' : 'light');
    query.addEventListener('change', listener);
    return () => query.removeEventListener('change', listener);
  }, [query]);
  return scheme;
}

/**
 * Loads one part; a 401 from any part brings the token prompt back (with the API's reason), the
 * other parts keep what they show. A read of Loki's events (`continuesAfterLokiDeadline`) is asked
 * again after the Loki deadline 504 (retry.ts), its status line saying so.
 */
function usePart<T>(
  load: (signal: AbortSignal) => Promise<T>,
  route: string,
  deps: unknown[],
  onUnauthorized: (error: ApiError) => void,
  options: { continuesAfterLokiDeadline?: boolean } = {},
): Part<T> {
  // What is shown belongs to the filters it was loaded for: in the very render that changes them
  // (and the URL), the part is loading again, never the previous view's numbers under the new filters.
  const key = JSON.stringify(deps);
  const [shown, setShown] = useState<{ key: string; part: Part<T> }>({ key, part: LOADING });
  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    // A 401 answered to a token already replaced (one pasted while the refused one's answers were still
    // coming) must not bring the prompt back: this load's effect may not have been cleaned up yet.
    const token = storedToken();
    const loaded = options.continuesAfterLokiDeadline
      ? continueAfterLokiDeadline(() => load(signal), {
          signal,
          onRetry: (retry) => setShown({ key, part: { state: 'loading', retry } }),
        })
      : load(signal);
    loaded.then(
      (value) => {
        if (!controller.signal.aborted) setShown({ key, part: { state: 'ok', value } });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        const apiError = asApiError(error, route);
        if (apiError.status === 401 && storedToken() === token) onUnauthorized(apiError);
        setShown({ key, part: { state: 'error', error: apiError } });
      },
    );
    return () => controller.abort();
  }, [key]);
  return shown.key === key ? shown.part : LOADING;
}

function TokenPrompt(props: { reason: string; onToken: (token: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  return (
    <section class="token-prompt" role="dialog" aria-labelledby="token-title">
      <h2 id="token-title">This API needs a token</h2>
      <p>
        {props.reason}. Paste a bearer token (for example from <code>scripts/mint-token.ts</code>); it is kept
        in this tab only (sessionStorage) and sent in the Authorization header.
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const token = input.current?.value.trim() ?? '';
          if (token !== '') props.onToken(token.replace(/^Bearer\s+/i, ''));
        }}
      >
        <label>
          Token{' '}
          <input ref={input} type="password" name="token" autocomplete="off" spellcheck={false} required />
        </label>{' '}
        <button type="submit">Use token</button>
      </form>
    </section>
  );
}

/** A day of a custom period; a day outside min..max (the other end) is not taken. */
function DateField(props: {
  label: string;
  value: string;
  min?: string;
  max?: string;
  onChange: (day: string) => void;
}) {
  return (
    <label>
      {props.label}{' '}
      <input
        type="date"
        name={props.label.toLowerCase()}
        value={props.value}
        {...(props.min === undefined ? {} : { min: props.min })}
        {...(props.max === undefined ? {} : { max: props.max })}
        onChange={(event) => {
          const day = (event.currentTarget as HTMLInputElement).value;
          if (
            day !== '' &&
            (props.min === undefined || day >= props.min) &&
            (props.max === undefined || day <= props.max)
          ) {
            props.onChange(day);
          }
        }}
      />
    </label>
  );
}

/** A filter of one value from a list the API gives (teams, services); '' is all. */
function Choice(props: {
  label: string;
  all: string;
  value: string;
  options: string[];
  part: Part<unknown>;
  what: string;
  onChange: (value: string) => void;
}) {
  // The chosen value stays selectable while the list loads or if it is not (or no longer) in it.
  const options = [...new Set([...props.options, ...(props.value === '' ? [] : [props.value])])];
  return (
    <>
      <label>
        {props.label}{' '}
        <select
          name={props.label.toLowerCase()}
          value={props.value}
          onChange={(event) => props.onChange((event.currentTarget as HTMLSelectElement).value)}
        >
          <option value="">{props.all}</option>
          {options.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </label>
      {props.part.state === 'error' && props.part.error.status !== 401 && (
        <span class="part-error inline" role="alert" data-part-error={props.label.toLowerCase()}>
          Could not load {props.what}: {props.part.error.message}
        </span>
      )}
    </>
  );
}

/**
 * Leave out bots: on asks the API to leave BOT_AUTHORS' changes out, off to leave nobody out. Before
 * either is chosen it shows what the API applied by default (EXCLUDE_AUTHORS), read from the summary.
 */
function BotToggle(props: {
  filters: Filters;
  applied: string[] | undefined;
  onChange: (next: Filters) => void;
}) {
  const applied = props.applied ?? [];
  const what =
    applied.length === 0
      ? `Leaves out the changes of ${BOT_AUTHORS.join(', ')}`
      : `Leaving out the changes of ${applied.join(', ')}`;
  return (
    <label
      class="check"
      title={`${what}: their deployments leave every metric, their pull requests lead time`}
    >
      <input
        type="checkbox"
        name="exclude_bots"
        checked={
          props.filters.excludeAuthors === null ? applied.length > 0 : props.filters.excludeAuthors !== ''
        }
        disabled={props.filters.excludeAuthors === null && props.applied === undefined}
        onChange={(event) => {
          const checked = (event.currentTarget as HTMLInputElement).checked;
          props.onChange({ ...props.filters, excludeAuthors: checked ? BOT_AUTHORS.join(',') : '' });
        }}
      />{' '}
      Leave out bots
    </label>
  );
}

function FilterBar(props: {
  filters: Filters;
  teams: Part<Team[]>;
  services: Part<string[]>;
  repositories: string[];
  excludedAuthors: string[] | undefined;
  onChange: (next: Filters) => void;
}) {
  const { filters, onChange } = props;
  const selected = new Set(filters.repositories);
  return (
    <form class="filters" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
      <label>
        Period{' '}
        <select
          name="period"
          value={filters.period}
          onChange={(event) => {
            const period = (event.currentTarget as HTMLSelectElement).value as Filters['period'];
            onChange(withPeriod(filters, period, today()));
          }}
        >
          {PERIODS.map((days) => (
            <option key={days} value={days}>
              Last {days} days
            </option>
          ))}
          <option value="custom">Dates…</option>
        </select>
      </label>
      {filters.period === 'custom' && (
        <>
          <DateField
            label="From"
            value={filters.start}
            max={filters.end}
            onChange={(start) => onChange({ ...filters, start })}
          />
          <DateField
            label="To"
            value={filters.end}
            min={filters.start}
            onChange={(end) => onChange({ ...filters, end })}
          />
        </>
      )}
      <Choice
        label="Team"
        all="All teams"
        value={filters.team}
        options={props.teams.state === 'ok' ? props.teams.value.map((team) => team.name) : []}
        part={props.teams}
        what="the teams"
        onChange={(team) => onChange({ ...filters, team, service: '', repositories: [] })}
      />
      <Choice
        label="Service"
        all="All services"
        value={filters.service}
        options={props.services.state === 'ok' ? props.services.value : []}
        part={props.services}
        what="the services"
        onChange={(service) => onChange({ ...filters, service })}
      />
      <details
        class="repositories"
        onKeyDown={(event) => {
          // Escape closes the list like a menu, back on its summary.
          const details = event.currentTarget as HTMLDetailsElement;
          if (event.key === 'Escape' && details.open) {
            details.open = false;
            details.querySelector('summary')?.focus();
          }
        }}
      >
        <summary>
          Repositories: {filters.repositories.length === 0 ? 'all' : filters.repositories.join(', ')}
        </summary>
        <fieldset>
          <legend class="visually-hidden">Repositories</legend>
          {props.repositories.map((name) => (
            <label key={name} class="check">
              <input
                type="checkbox"
                name="repository"
                value={name}
                checked={selected.has(name)}
                onChange={(event) => {
                  const checked = (event.currentTarget as HTMLInputElement).checked;
                  const next = props.repositories.filter((repo) =>
                    repo === name ? checked : selected.has(repo),
                  );
                  onChange({ ...filters, repositories: next });
                }}
              />{' '}
              {name}
            </label>
          ))}
          {filters.repositories.length > 0 && (
            <button type="button" onClick={() => onChange({ ...filters, repositories: [] })}>
              All repositories
            </button>
          )}
        </fieldset>
      </details>
      <label>
        Interval{' '}
        <select
          name="interval"
          value={filters.interval}
          onChange={(event) =>
            onChange({
              ...filters,
              interval: (event.currentTarget as HTMLSelectElement).value as Filters['interval'],
            })
          }
        >
          {INTERVALS.map((interval) => (
            <option key={interval} value={interval}>
              {interval === 'auto'
                ? `Automatic (${effectiveInterval({ ...filters, interval: 'auto' })})`
                : interval}
            </option>
          ))}
        </select>
      </label>
      <BotToggle filters={filters} applied={props.excludedAuthors} onChange={onChange} />
    </form>
  );
}

/**
 * One metric over time, loaded on its own: charts appear as their answers come, and a metric that
 * cannot load says so in its own place. The change failure rate's series also draws the deployments
 * per bucket (its `count` and `failed`).
 */
function MetricSeries(props: {
  metric: MetricName;
  filters: Filters;
  tokenVersion: number;
  onUnauthorized: (error: ApiError) => void;
  bounds: MetricBounds | undefined;
  scheme: string;
}) {
  const { metric, filters } = props;
  const interval = effectiveInterval(filters);
  const part = usePart(
    (signal) =>
      callApi<MetricPoint[]>('GET', 'metrics', {
        query: { ...metricsQuery(filters), metric, interval },
        signal,
      }),
    'metrics',
    [writeFilters(filters), interval, props.tokenVersion],
    props.onUnauthorized,
    { continuesAfterLokiDeadline: true },
  );
  const running = runningBucketDate(filters, Date.now());
  if (part.state !== 'ok') {
    return (
      <figure class="chart" data-chart={metric} aria-busy={part.state === 'loading'}>
        <figcaption>{METRIC_TITLES[metric]}</figcaption>
        <PartStatus part={part} what={METRIC_TITLES[metric].toLowerCase()} id={`trends-${metric}`} />
      </figure>
    );
  }
  return (
    <>
      {metric === 'change_failure_rate' && (
        <DeploymentsChart points={part.value} running={running} scheme={props.scheme} />
      )}
      <MetricChart
        metric={metric}
        points={part.value}
        bounds={props.bounds}
        running={running}
        scheme={props.scheme}
      />
    </>
  );
}

function App() {
  const [filters, setFilters] = useState(() => readFilters(location.search, today()));
  const [tokenVersion, setTokenVersion] = useState(0);
  const [unauthorized, setUnauthorized] = useState<string | null>(null);
  const scheme = useColourScheme();

  useEffect(() => {
    const onPop = () => setFilters(readFilters(location.search, today()));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const change = useCallback((next: Filters) => {
    history.pushState(null, '', writeFilters(next) || location.pathname);
    setFilters(next);
  }, []);

  // A rejected token stays stored until a new one replaces it: the prompt says why it was refused.
  const onUnauthorized = useCallback((error: ApiError) => {
    setUnauthorized(error.detail.replace(/\.$/, ''));
  }, []);

  const key = writeFilters(filters);
  const interval = effectiveInterval(filters);
  const days = periodDays(filters);

  const teams = usePart(
    (signal) => callApi<{ teams: Team[] }>('GET', 'teams', { signal }).then((body) => body.teams),
    'teams',
    [tokenVersion],
    onUnauthorized,
  );
  const services = usePart(
    (signal) =>
      callApi<{ services: string[] }>('GET', 'services', {
        query: { team: filters.team === '' ? undefined : filters.team },
        signal,
      }).then((body) => body.services),
    'services',
    [filters.team, tokenVersion],
    onUnauthorized,
  );
  const summary = usePart(
    (signal) =>
      callApi<Summary>('GET', 'metrics/summary', {
        // The per-repository split comes from the same load as the totals (no other Loki read).
        query: { ...metricsQuery(filters), group_by: 'repository' },
        signal,
      }),
    'metrics/summary',
    [key, tokenVersion],
    onUnauthorized,
    { continuesAfterLokiDeadline: true },
  );
  const records = usePart(
    (signal) =>
      callApi<{ records: DeploymentRecord[] }>('POST', 'data', { body: dataRequest(filters), signal }).then(
        (body) => body.records,
      ),
    'data',
    [key, tokenVersion],
    onUnauthorized,
    { continuesAfterLokiDeadline: true },
  );
  const gitops = usePart(
    (signal) => callApi<GitOpsStatus[]>('GET', 'status.json', { signal }),
    'status.json',
    [tokenVersion],
    onUnauthorized,
  );

  const repositories = useMemo(() => {
    const names = new Set<string>(filters.repositories);
    if (teams.state === 'ok') {
      for (const team of teams.value) {
        if (filters.team === '' || team.name === filters.team)
          for (const repo of team.repositories) names.add(repo);
      }
    }
    if (records.state === 'ok') for (const record of records.value) names.add(record.repository);
    return [...names].sort((a, b) => a.localeCompare(b));
  }, [teams, records, filters.team, filters.repositories]);

  const bounds = summary.state === 'ok' ? summary.value.levels_thresholds : undefined;

  return (
    <>
      <header class="page-head">
        <h1>DORA metrics</h1>
        <FilterBar
          filters={filters}
          teams={teams}
          services={services}
          repositories={repositories}
          excludedAuthors={summary.state === 'ok' ? summary.value.excluded_authors : undefined}
          onChange={change}
        />
      </header>
      {unauthorized !== null && (
        <TokenPrompt
          reason={unauthorized}
          onToken={(token) => {
            storeToken(token);
            setUnauthorized(null);
            setTokenVersion((version) => version + 1);
          }}
        />
      )}
      <main>
        <Section
          id="glance"
          title={`At a glance: ${filters.start} to ${filters.end} (${days} days)`}
          part={summary}
          what="the summary"
          aside={
            summary.state === 'ok' ? (
              <p class="aside">
                Levels: {summary.value.levels_source}
                {summary.value.levels_report_year === null
                  ? ''
                  : ` (DORA ${summary.value.levels_report_year} report)`}
                {summary.value.excluded_changes > 0 &&
                  ` · ${summary.value.excluded_changes.toLocaleString('en-GB')} changes by left-out authors (${summary.value.excluded_authors.join(', ')})`}
              </p>
            ) : undefined
          }
        >
          {summary.state === 'ok' && <SummaryCards summary={summary.value} days={days} />}
        </Section>
        <Section
          id="trends"
          title={`Over time (${interval})`}
          part={undefined}
          what="the metrics over time"
          aside={<BandLegend />}
        >
          <div class="charts">
            {METRIC_NAMES.map((metric) => (
              <MetricSeries
                key={metric}
                metric={metric}
                filters={filters}
                tokenVersion={tokenVersion}
                onUnauthorized={onUnauthorized}
                bounds={bounds?.[metric]}
                scheme={scheme}
              />
            ))}
          </div>
        </Section>
        <Section
          id="by-repository"
          title="By repository, what needs attention first"
          part={summary}
          what="the repositories"
        >
          {summary.state === 'ok' && <RepositoryTable repositories={summary.value.repositories ?? []} />}
        </Section>
        <Section id="deployments" title="Deployments" part={records} what="the deployments">
          {records.state === 'ok' && (
            <DeploymentsTable
              records={records.value}
              excludedAuthors={summary.state === 'ok' ? summary.value.excluded_authors : []}
            />
          )}
        </Section>
        <Section id="gitops" title="GitOps drift" part={gitops} what="the GitOps status">
          {gitops.state === 'ok' && <GitOpsTable statuses={gitops.value} />}
        </Section>
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
