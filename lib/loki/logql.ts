import type { TeamStreams } from '../config';
import { isRepositoryName, MAX_TEAM_NAME_LENGTH } from '../dora/names';
import { DEPLOYMENT_OUTCOMES } from '../dora/records';
import { BadRequestError } from '../errors';
import { ISSUE_ACTIONS } from './parse';
import type { EventFilter } from './types';

/**
 * The only place where LogQL text is built. Every value that comes from a request, from GitHub or from
 * settings passes through `logqlString` (and `regexLiteral` for regular expressions), so a crafted name can
 * neither leave its string literal nor widen a regular expression.
 */

export type EventKind = 'deployments' | 'incidents' | 'merges';

/** Lone surrogates cannot be written in a Go string literal (Loki parses literals with strconv.Unquote). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

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

/** Repositories from GitHub are trusted to be names, but one that is not must not break the query. */
function teamRepositoryNames(repositories: readonly string[] | undefined): string[] {
  return [...new Set((repositories ?? []).filter(isRepositoryName))];
}

/**
 * Pipeline stages narrowing events to the requested repositories and team; '' when there is no filter.
 * `eventPredicate` below is the same filter over events already read (from the namespace's stored days):
 * a change here changes it there, and test/loki/logql.test.ts checks the two against each other.
 */
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
    const owned = teamRepositoryNames(filter.teamRepositories);
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
  // An `unlabeled` or `deleted` event may carry no incident label any more: it still withdraws the issue.
  const words = [...incidentLabels.map(escapeRegex), '"action":"unlabeled"', '"action":"deleted"'];
  return ` |~ ${logqlString(`(?i)(?:${words.join('|')})`)}`;
}

/** The `source` label of events written by this API's write routes (the collector writes `webhookevent`). */
export const WRITE_SOURCE = 'dora-api';

/**
 * Every issue event that can change whether an issue is an incident and whether it is open: the collector
 * writes GitHub's `issues` webhook actions as `issue_<action>` (`issue_closed` in the shared fixtures), and
 * POST /events/incidents writes `issue_opened`/`issue_closed` the same way. Opened issues count while open.
 */
export const INCIDENT_EVENT_NAMES: readonly string[] = ISSUE_ACTIONS.map((action) => `issue_${action}`);

const INCIDENT_EVENTS = `event_name=~${exactAlternation(INCIDENT_EVENT_NAMES)}`;

export type { TeamStreams };

export interface QueryOptions {
  serviceNamespace: string;
  /** The index label carrying the repository name (LOKI_REPOSITORY_LABEL); empty: label filters only. */
  repositoryLabel?: string | undefined;
  /** Which streams a team filter reads (LOKI_TEAM_STREAMS, see `TeamStreams` in lib/config.ts). */
  teamStreams?: TeamStreams | undefined;
  incidentLabels: readonly string[];
  /** When given, deployments to other environments are left in Loki (see `productionCondition`). */
  productionEnvironments?: readonly string[] | undefined;
}

/**
 * A label filter expression that leaves deployments to other environments in Loki: about half of all deployment
 * statuses, which would travel only to be counted and dropped. Exact and case-insensitive like the check
 * the records make (RE2 label matchers are anchored); events with no environment label still come (a
 * missing label compares as ""), the parser then reads the environment from the line. Only for plain
 * ASCII names, where RE2's and JavaScript's case folding agree.
 */
function productionCondition(environments: readonly string[] | undefined): string {
  if (!environments?.length || !environments.every((name) => /^[A-Za-z0-9 _.:/-]+$/.test(name))) return '';
  const names = logqlString(`(?i)${environments.map(escapeRegex).join('|')}`);
  return `(deployment_environment_name="" or deployment_environment_name=~${names})`;
}

/**
 * The labels the parser reads that many events share, and those that tell an entry's kind apart in the
 * one-pass query (`kindsOf`). Structured metadata (ids, shas, titles) makes every event its own stream, so
 * Loki would repeat ~20 labels beside every line; keeping only these groups a repository's events into a
 * few streams, which about halves the answer and the work to read it. Everything else the parser needs is
 * in the JSON line. Filters run before `keep`, so they still see every label.
 */
export const KEPT_LABELS = [
  'vcs_repository_name',
  'vcs_repository_owner',
  'vcs_repository_url_full',
  'team_name',
  'deployment_environment_name',
  'deployment_status',
  'event_name',
  'source',
  // What a filter selects on besides the labels above (`filterLabelNames`), kept for narrowing in memory.
  'service_name',
] as const;

const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `| keep` of the labels above and the labels a filter selects on (`filterLabelNames`): the answer then
 * shows every label the filter saw, so the events of the whole namespace can be narrowed in memory
 * exactly as a filtered query narrows them. `service_name` and the repository label are one value per
 * stream, so keeping them splits no stream.
 */
function keepStage(options: Pick<QueryOptions, 'repositoryLabel'>): string {
  const names = new Set<string>([...KEPT_LABELS, ...filterLabelNames(options)]);
  return `| keep ${[...names].join(', ')}`;
}

/** The index label holding the OpenTelemetry `service.name` of a stream (the collector sets it to the repository). */
export const SERVICE_LABEL = 'service_name';

/** `label="a"` or `label=~"a|b"` (escaped, anchored). */
function indexMatcher(label: string, values: readonly string[]): string {
  return values.length === 1
    ? `${label}=${logqlString(values[0] ?? '')}`
    : `${label}=~${exactAlternation(values)}`;
}

/**
 * The stream selector: the service namespace, narrowed on index labels so that Loki opens only the
 * requested streams' chunks instead of reading every line of the namespace through a label filter:
 * - requested services on `service_name`;
 * - requested repositories on `repositoryLabel` (LOKI_REPOSITORY_LABEL, `service_name` by default: the
 *   collector and the write path put the repository name there). One repository's 30 days among 300
 *   read 337,000 lines in 6.8-7.9 s through the label filter, 810-914 lines in 0.4-0.8 s through the
 *   selector (real Loki 3.7.6, 2 cores). The label filter of `filterStages` stays too (it costs little
 *   once the streams are chosen), so an event whose stream and `vcs_repository_name` disagree counts as
 *   before. Both on the same label are two matchers, which Loki ANDs.
 */
export function streamSelector(
  filter: EventFilter,
  options: Pick<QueryOptions, 'serviceNamespace' | 'repositoryLabel' | 'teamStreams'>,
): string {
  const matchers = [`service_namespace=${logqlString(options.serviceNamespace)}`];
  const services = [...new Set(filter.services ?? [])];
  if (services.length > 0) matchers.push(indexMatcher(SERVICE_LABEL, services));
  const label = options.repositoryLabel;
  const repositories = filter.repositories?.length ? validateRepositories(filter.repositories) : [];
  if (label && LABEL_NAME.test(label) && repositories.length > 0) {
    matchers.push(indexMatcher(label, repositories));
  }
  const owned = teamRepositoryNames(filter.teamRepositories);
  if (label && LABEL_NAME.test(label) && filter.team) {
    if (options.teamStreams === 'owned' && owned.length > 0) matchers.push(indexMatcher(label, owned));
    // Also for a team GitHub does not know or gives no repository: every team is another team then.
    if (options.teamStreams === 'skip-others') {
      const ownedSet = new Set(owned);
      const others = teamRepositoryNames(filter.otherTeamsRepositories).filter((name) => !ownedSet.has(name));
      if (others.length > 0) matchers.push(`${label}!~${exactAlternation(others)}`);
    }
  }
  return `{${matchers.join(', ')}}`;
}

const DEPLOYMENT_STATES = new Set(DEPLOYMENT_OUTCOMES.keys());
const DEPLOYMENT_STAGE = `deployment_status=~"${[...DEPLOYMENT_STATES].sort().join('|')}"`;
const MERGE_STAGE = 'event_name="change_closed", merged_at!=""';

/** One kind's filter as a pipeline stage (`| ` and this). */
function kindStage(kind: EventKind, options: QueryOptions): string {
  switch (kind) {
    case 'deployments': {
      const production = productionCondition(options.productionEnvironments);
      return production === '' ? DEPLOYMENT_STAGE : `${DEPLOYMENT_STAGE} | ${production}`;
    }
    case 'incidents':
      return INCIDENT_EVENTS;
    case 'merges':
      return MERGE_STAGE;
  }
}

/** The same filter as one parenthesised label filter expression, to be `or`-ed with the other kinds'. */
function kindBranch(kind: EventKind, options: QueryOptions): string {
  switch (kind) {
    case 'deployments': {
      const production = productionCondition(options.productionEnvironments);
      return production === '' ? `(${DEPLOYMENT_STAGE})` : `(${DEPLOYMENT_STAGE} and ${production})`;
    }
    case 'incidents':
      return `(${INCIDENT_EVENTS})`;
    case 'merges':
      return '(event_name="change_closed" and merged_at!="")';
  }
}

/** The LogQL query for one kind of event (see the event table of the contract). */
export function buildQuery(kind: EventKind, filter: EventFilter, options: QueryOptions): string {
  const selector = streamSelector(filter, options);
  const filters = filterStages(filter);
  const stage = kindStage(kind, options);
  const withFilters = `${filters === '' ? stage : `${stage} ${filters}`} ${keepStage(options)}`;
  const lineFilter = kind === 'incidents' ? incidentLineFilter(options.incidentLabels) : '';
  return `${selector}${lineFilter} | ${withFilters}`;
}

/**
 * One query for several kinds of events: a label filter `or`-ing each kind's own filter, so Loki opens
 * each chunk of the selected streams once instead of once per kind. On the real Loki a query costs about
 * 1 ms per hourly sub-query plus every chunk each sub-query opens; asking the three kinds separately paid
 * both three times (a 12-repository organisation over 90 days: 5.8 s for the three kinds in turn, 3.5 s
 * for one pass over its streams). The incidents' line filter cannot apply to one branch only, so issue
 * events without an incident label travel too (a few per hundred deployments) and are dropped by the
 * parser. `kindsOf` tells the kinds of each entry apart by the same labels.
 */
export function buildEventsQuery(
  kinds: readonly EventKind[],
  filter: EventFilter,
  options: QueryOptions,
): string {
  if (kinds.length === 1 && kinds[0] !== undefined) return buildQuery(kinds[0], filter, options);
  const filters = filterStages(filter);
  const branches = kinds.map((kind) => kindBranch(kind, options)).join(' or ');
  return `${streamSelector(filter, options)} | ${branches}${filters === '' ? '' : ` ${filters}`} ${keepStage(options)}`;
}

const INCIDENT_EVENT_SET: ReadonlySet<string> = new Set(INCIDENT_EVENT_NAMES);

/**
 * The kinds of event an entry of `buildEventsQuery`'s answer is, by the labels its filter used. An entry
 * came because at least one branch matched; one whose event_name is change_closed matched the merges'
 * branch (`merged_at!=""`) unless it matched another branch too, which no collector's event does.
 */
export function kindsOf(labels: Readonly<Record<string, string>>): EventKind[] {
  const kinds: EventKind[] = [];
  const deploymentStatus = labels.deployment_status;
  if (deploymentStatus !== undefined && DEPLOYMENT_STATES.has(deploymentStatus)) kinds.push('deployments');
  const eventName = labels.event_name;
  if (eventName !== undefined && INCIDENT_EVENT_SET.has(eventName)) kinds.push('incidents');
  if (eventName === 'change_closed') kinds.push('merges');
  return kinds;
}

// ---------------------------------------------------------------------------------------------
// The same filter in memory

/**
 * The labels, besides `team_name`, whose values `streamSelector` and `filterStages` compare:
 * `vcs_repository_name` (the stages), `service_name` (services) and the repository's index label
 * (LOKI_REPOSITORY_LABEL, for repositories and LOKI_TEAM_STREAMS). `team_name` needs no copy: an event's
 * `team` is that label exactly (null when absent or empty, which LogQL compares as "").
 */
export function filterLabelNames(options: Pick<QueryOptions, 'repositoryLabel'>): string[] {
  const names = ['vcs_repository_name', SERVICE_LABEL];
  const label = options.repositoryLabel;
  if (label && LABEL_NAME.test(label) && !names.includes(label)) names.push(label);
  return names;
}

/**
 * The values of `filterLabelNames` that differ from the event's repository ("" for an absent label, as
 * LogQL compares it); undefined when every one equals it. The event's `repository` may come from its
 * line when `vcs_repository_name` is absent, and a stream's `service_name` need not be the repository,
 * so these are kept beside each stored event; with the collector's labels (all three the repository's
 * name) nothing is.
 */
export type FilterLabels = Readonly<Record<string, string>>;

export function filterLabels(
  labels: Readonly<Record<string, string>>,
  repository: string,
  names: readonly string[],
): FilterLabels | undefined {
  let differing: Record<string, string> | undefined;
  for (const name of names) {
    const value = labels[name] ?? '';
    if (value === repository) continue;
    differing ??= {};
    differing[name] = value;
  }
  return differing;
}

/** What `eventPredicate` reads of an event. */
export interface FilteredEvent {
  repository: string;
  team: string | null;
}

export type EventPredicate = (event: FilteredEvent, labels: FilterLabels | undefined) => boolean;

/**
 * `streamSelector` and `filterStages` of `filter` over events already read from the whole namespace:
 * true exactly for the events the filtered query returns. Loki compares label values exactly and
 * case-sensitively (an anchored alternation of escaped names is equality with one of them; a missing
 * label is ""), so this compares strings. The same names are validated the same way (an invalid one throws
 * the same error). Undefined when the filter keeps every event.
 */
export function eventPredicate(
  filter: EventFilter,
  options: Pick<QueryOptions, 'repositoryLabel' | 'teamStreams'>,
): EventPredicate | undefined {
  const value = (event: FilteredEvent, labels: FilterLabels | undefined, name: string) =>
    labels?.[name] ?? event.repository;
  const conditions: EventPredicate[] = [];
  const oneOf = (name: string, values: Iterable<string>, wanted = true) => {
    const set = new Set(values);
    conditions.push((event, labels) => set.has(value(event, labels, name)) === wanted);
  };

  // The stream selector's matchers (service_namespace is the namespace's own).
  const services = [...new Set(filter.services ?? [])];
  for (const service of services) logqlString(service);
  if (services.length > 0) oneOf(SERVICE_LABEL, services);
  const label = options.repositoryLabel;
  const repositories = filter.repositories?.length ? validateRepositories(filter.repositories) : [];
  const indexed = label !== undefined && label !== '' && LABEL_NAME.test(label);
  if (indexed && repositories.length > 0) oneOf(label, repositories);
  const owned = teamRepositoryNames(filter.teamRepositories);
  const team = filter.team !== undefined && filter.team !== '';
  if (indexed && team) {
    if (options.teamStreams === 'owned' && owned.length > 0) oneOf(label, owned);
    if (options.teamStreams === 'skip-others') {
      const ownedSet = new Set(owned);
      const others = teamRepositoryNames(filter.otherTeamsRepositories).filter((name) => !ownedSet.has(name));
      if (others.length > 0) oneOf(label, others, false);
    }
  }

  // The pipeline stages.
  if (repositories.length > 0) oneOf('vcs_repository_name', repositories);
  if (team) {
    const names = new Set(
      [filter.team ?? '', ...(filter.teamAliases ?? [])].map((name) => validateTeam(name)),
    );
    const ownedSet = new Set(owned);
    conditions.push(
      (event, labels) =>
        names.has(event.team ?? '') || ownedSet.has(value(event, labels, 'vcs_repository_name')),
    );
  }
  if (conditions.length === 0) return undefined;
  return (event, labels) => {
    for (const condition of conditions) if (!condition(event, labels)) return false;
    return true;
  };
}
