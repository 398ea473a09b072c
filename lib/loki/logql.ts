import { BadRequestError } from '../errors';
import type { EventFilter } from './types';

/**
 * The only place where LogQL text is built. Every value that comes from a request, from GitHub or from
 * settings passes through `logqlString` (and `regexLiteral` for regular expressions), so a crafted name can
 * neither leave its string literal nor widen a regular expression.
 */

export type EventKind = 'deployments' | 'incidents' | 'merges';

/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100 characters. */
const REPOSITORY_NAME = /^[A-Za-z0-9._-]{1,100}$/;
/** Lone surrogates cannot be written in a Go string literal (Loki parses literals with strconv.Unquote). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const MAX_TEAM_NAME_LENGTH = 200;

export function isRepositoryName(name: string): boolean {
  return REPOSITORY_NAME.test(name);
}

/**
 * A LogQL double-quoted string literal. Loki reads these with Go's strconv.Unquote, whose escapes
 * (`\"`, `\\`, `\n`, `\t`, `\uXXXX`, ...) are a superset of what JSON.stringify writes for well-formed text.
 */
export function logqlString(value: string): string {
  if (LONE_SURROGATE.test(value)) throw new BadRequestError('Text contains an invalid Unicode character');
  return JSON.stringify(value);
}

/** Escapes RE2 metacharacters so that `value` matches only itself. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

/** An anchored RE2 alternation matching exactly one of `values`, as a LogQL string literal. */
export function exactAlternation(values: readonly string[]): string {
  return logqlString(values.map(escapeRegex).join('|'));
}

/** Rejects anything that cannot be a GitHub repository name (the names reach LogQL escaped anyway). */
export function validateRepositories(names: readonly string[], field = 'repositories'): string[] {
  const problems = names.flatMap((name, index) =>
    isRepositoryName(name)
      ? []
      : [{ field: `${field}[${index}]`, message: 'is not a GitHub repository name ([A-Za-z0-9._-]{1,100})' }],
  );
  if (problems.length > 0) {
    throw new BadRequestError('Invalid repository name', { fields: problems });
  }
  return [...new Set(names)];
}

export function validateTeam(team: string, field = 'team'): string {
  if (team.length > MAX_TEAM_NAME_LENGTH || LONE_SURROGATE.test(team)) {
    throw new BadRequestError('Invalid team name', {
      fields: [{ field, message: `must be well-formed text of at most ${MAX_TEAM_NAME_LENGTH} characters` }],
    });
  }
  return team;
}

/** Pipeline stages narrowing events to the requested repositories and team; '' when there is no filter. */
export function filterStages(filter: EventFilter): string {
  const stages: string[] = [];
  const repositories = filter.repositories?.length ? validateRepositories(filter.repositories) : [];
  if (repositories.length > 0) {
    stages.push(`| vcs_repository_name=~${exactAlternation(repositories)}`);
  }
  if (filter.team !== undefined && filter.team !== '') {
    const names = [
      ...new Set([filter.team, ...(filter.teamAliases ?? [])].map((name) => validateTeam(name))),
    ];
    const team =
      names.length === 1
        ? `team_name=${logqlString(names[0] ?? '')}`
        : `team_name=~${exactAlternation(names)}`;
    // Repositories from GitHub are trusted to be names, but one that is not must not break the query.
    const owned = [...new Set((filter.teamRepositories ?? []).filter(isRepositoryName))];
    stages.push(
      owned.length > 0 ? `| (${team} or vcs_repository_name=~${exactAlternation(owned)})` : `| ${team}`,
    );
  }
  return stages.join(' ');
}

/**
 * A line filter that lets Loki drop most non-incident issues before they travel. Only used when every label
 * is plain text: the JSON line escapes some characters (Go escapes `<`, `>`, `&`), so a filter on an unusual
 * label could drop real incidents. The labels are checked exactly on the parsed line anyway.
 */
function incidentLineFilter(incidentLabels: readonly string[]): string {
  const plain = /^[A-Za-z0-9 _:.\-/]+$/;
  if (incidentLabels.length === 0 || !incidentLabels.every((label) => plain.test(label))) return '';
  return ` |~ ${logqlString(`(?i)(?:${incidentLabels.map(escapeRegex).join('|')})`)}`;
}

/** The `source` label of events written by this API's write routes (the collector writes `webhookevent`). */
export const WRITE_SOURCE = 'dora-api';

/**
 * Closed incident issues, and incidents still open that were reported through POST /events/incidents
 * (issues the collector saw opened are left out, as before: only their closing counts).
 */
const INCIDENT_EVENTS = `(event_name="issue_closed" or (event_name="issue_opened" and source="${WRITE_SOURCE}"))`;

export interface QueryOptions {
  serviceNamespace: string;
  incidentLabels: readonly string[];
  /** When given, deployments to other environments are left in Loki (see `productionStage`). */
  productionEnvironments?: readonly string[] | undefined;
}

/**
 * A label filter that leaves deployments to other environments in Loki: about half of all deployment
 * statuses, which would travel only to be counted and dropped. Exact and case-insensitive like the check
 * the records make (RE2 label matchers are anchored); events with no environment label still come (a
 * missing label compares as ""), the parser then reads the environment from the line. Only for plain
 * ASCII names, where RE2's and JavaScript's case folding agree.
 */
function productionStage(environments: readonly string[] | undefined): string {
  if (!environments?.length || !environments.every((name) => /^[A-Za-z0-9 _.:/-]+$/.test(name))) return '';
  const names = logqlString(`(?i)${environments.map(escapeRegex).join('|')}`);
  return ` | (deployment_environment_name="" or deployment_environment_name=~${names})`;
}

/**
 * The labels the parser reads that many events share. Structured metadata (ids, shas, titles) makes every
 * event its own stream, so Loki would repeat ~20 labels beside every line; keeping only these groups a
 * repository's events into a few streams, which about halves the answer and the work to read it. Everything
 * else the parser needs is in the JSON line. Filters run before `keep`, so they still see every label.
 */
export const KEPT_LABELS = [
  'vcs_repository_name',
  'vcs_repository_owner',
  'vcs_repository_url_full',
  'team_name',
  'deployment_environment_name',
] as const;

const KEEP_STAGE = `| keep ${KEPT_LABELS.join(', ')}`;

/** The index label holding the OpenTelemetry `service.name` of a stream (the collector sets it to the repository). */
export const SERVICE_LABEL = 'service_name';

/**
 * The stream selector: the service namespace, narrowed to the requested services on their index label, so Loki
 * opens only those services' streams instead of filtering every line of the namespace.
 */
export function streamSelector(serviceNamespace: string, services: readonly string[] = []): string {
  const namespace = `service_namespace=${logqlString(serviceNamespace)}`;
  const names = [...new Set(services)];
  if (names.length === 0) return `{${namespace}}`;
  const service =
    names.length === 1
      ? `${SERVICE_LABEL}=${logqlString(names[0] ?? '')}`
      : `${SERVICE_LABEL}=~${exactAlternation(names)}`;
  return `{${namespace}, ${service}}`;
}

/** The LogQL query for one kind of event (see the event table of the contract). */
export function buildQuery(kind: EventKind, filter: EventFilter, options: QueryOptions): string {
  const selector = streamSelector(options.serviceNamespace, filter.services);
  const filters = filterStages(filter);
  const withFilters = (stage: string) => `${filters === '' ? stage : `${stage} ${filters}`} ${KEEP_STAGE}`;
  switch (kind) {
    case 'deployments':
      return `${selector} | ${withFilters(`deployment_status=~"failure|success"${productionStage(options.productionEnvironments)}`)}`;
    case 'incidents':
      return `${selector}${incidentLineFilter(options.incidentLabels)} | ${withFilters(INCIDENT_EVENTS)}`;
    case 'merges':
      return `${selector} | ${withFilters('event_name="change_closed", merged_at!=""')}`;
  }
}
