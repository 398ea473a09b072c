import type { EpochMs, Team } from '../dora/types';
import type { LokiEntry } from '../loki/types';
import { createRandom, deriveSeed, type Random } from './random';

/**
 * A seeded generator of the events the OpenTelemetry collector (webhookevent receiver) writes to Loki,
 * in exactly its shape (labels and JSON line as in the shared real fixtures), for `npm start`, tests and
 * the benchmark. Same seed and `end` give the same entries on every machine.
 */
export interface SampleOptions {
  seed?: number;
  /** GitHub organisation owning every repository. */
  org?: string;
  teams?: number;
  repositories?: number;
  days?: number;
  /** Epoch ms the data ends at (no entry at or after it); pass it explicitly for reproducible output. */
  end?: EpochMs;
  /** The `service_namespace` label (the API's SERVICE_NAME setting). */
  serviceNamespace?: string;
  /** Mean production deployments a repository makes per day (each repository is busier or quieter). */
  deploymentsPerRepositoryPerDay?: number;
  /**
   * Incidents opened in the last this many days before `end` are never closed (nobody closed the issue
   * yet); default 0: only those whose closing would come after `end` are still open. Every other entry is
   * the same as without it.
   */
  openIncidentDays?: number;
}

export interface SampleCounts {
  entries: number;
  /** Deployment status events in every environment. */
  deployments: number;
  /** Deployment status events in `production` or `prod` (the API's default production names). */
  productionDeployments: number;
  productionFailures: number;
  /** Closed issues labelled `incident`. */
  incidents: number;
  /** Issues labelled `incident` opened before `end` and still open at `end` (only their `issue_opened` event). */
  openIncidents: number;
  /** Merged pull requests, including those merged before the window. */
  merges: number;
  /** Merged before `end - days`, deployed by the first deployment of the window. */
  mergesBeforeWindow: number;
  /** Production deployments of a commit that no pull request merged. */
  directPushes: number;
}

export interface Sample {
  org: string;
  /** The teams as GitHub knows them, each owning its repositories (also those whose events lack `team_name`). */
  teams: Team[];
  entries: LokiEntry[];
  counts: SampleCounts;
  /** `end - days`: the first production deployment is at or after it (some merges are before). */
  start: EpochMs;
  end: EpochMs;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Names that look like real GitHub team names: spaces, capitals, tag prefixes. */
const TEAM_NAMES = [
  'Platform Core',
  'tag-o11y',
  'Payments',
  'Storefront',
  'Data Platform',
  'Developer Experience',
  'Mobile',
  'SRE',
];

const REPOSITORY_NAMES = [
  'checkout-service',
  'payments-api',
  'web-storefront',
  'inventory-service',
  'auth-gateway',
  'infra-tools',
  'search-indexer',
  'notification-hub',
  'mobile-backend',
  'billing-engine',
  'data-pipeline',
  'observability-stack',
  'catalog-api',
  'recommendations',
  'shipping-service',
  'customer-portal',
  'admin-console',
  'feature-flags',
  'event-bus',
  'reporting-service',
];

const AUTHORS = [
  'alice-dev',
  'bob-sre',
  'carol-w',
  'dmitri-k',
  'eve-ops',
  'renovate[bot]',
  'dependabot[bot]',
];
const TITLE_TEMPLATES = [
  'feat: add {thing}',
  'fix: handle empty {thing}',
  'refactor: simplify {thing}',
  'chore(deps): update {dependency}',
  'perf: cache {thing}',
  'docs: explain {thing}',
];
const THINGS = [
  'retry policy',
  'order totals',
  'session refresh',
  'rate limits',
  'search filters',
  'audit log',
];
const DEPENDENCIES = ['actions/checkout to v5', 'zod to v4', 'aws-sdk monorepo', 'node to v22', 'eslint'];

/** The names an API with default settings counts as production; `prod-eu` deliberately is not one. */
const DEFAULT_PRODUCTION_NAMES = new Set(['production', 'prod']);

interface ResolvedOptions {
  seed: number;
  org: string;
  teams: number;
  repositories: number;
  days: number;
  end: EpochMs;
  serviceNamespace: string;
  deploymentsPerRepositoryPerDay: number;
  openIncidentDays: number;
}

function resolveOptions(options: SampleOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    seed: options.seed ?? 42,
    org: options.org ?? 'acme',
    teams: options.teams ?? 5,
    repositories: options.repositories ?? 12,
    days: options.days ?? 90,
    // Whole seconds, like every time GitHub sends.
    end: Math.floor((options.end ?? Date.now()) / 1000) * 1000,
    serviceNamespace: options.serviceNamespace ?? 'github',
    deploymentsPerRepositoryPerDay: options.deploymentsPerRepositoryPerDay ?? 1.5,
    openIncidentDays: options.openIncidentDays ?? 0,
  };
  for (const key of ['teams', 'repositories', 'days', 'deploymentsPerRepositoryPerDay'] as const) {
    if (!(resolved[key] > 0)) throw new RangeError(`generateSample: ${key} must be positive`);
  }
  return resolved;
}

function teamName(index: number): string {
  return TEAM_NAMES[index] ?? `Team ${index + 1}`;
}

function repositoryName(index: number): string {
  const base = REPOSITORY_NAMES[index % REPOSITORY_NAMES.length] as string;
  const round = Math.floor(index / REPOSITORY_NAMES.length);
  return round === 0 ? base : `${base}-${round + 1}`;
}

/** GitHub's slug: lower case, runs of other characters become one dash. */
export function teamSlug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** How one repository behaves; fixed by its index so every option set keeps the same mix. */
interface RepositoryPlan {
  index: number;
  name: string;
  team: string;
  /** Its events carry `team_name`; when false only GitHub knows the owning team. */
  labelsTeam: boolean;
  productionEnvironment: 'production' | 'prod';
  deploysToStaging: boolean;
  deploysToDev: boolean;
  deploysPreviews: boolean;
  /** Also deploys to `prod-eu`, which the API must not count as production by default. */
  deploysToProdEu: boolean;
}

function planRepository(index: number, teams: number): RepositoryPlan {
  return {
    index,
    name: repositoryName(index),
    team: teamName(index % teams),
    labelsTeam: index % 5 !== 4,
    productionEnvironment: index % 3 === 1 ? 'prod' : 'production',
    deploysToStaging: index % 3 === 0,
    deploysToDev: index % 4 === 1,
    deploysPreviews: index % 6 === 2,
    deploysToProdEu: index % 6 === 3,
  };
}

/** The teams and their repositories, without generating any event. */
export function sampleTeams(options: SampleOptions = {}): Team[] {
  const resolved = resolveOptions(options);
  const teams: Team[] = Array.from({ length: resolved.teams }, (_, index) => {
    const name = teamName(index);
    return { name, slug: teamSlug(name), repositories: [] };
  });
  for (let index = 0; index < resolved.repositories; index += 1) {
    teams[index % resolved.teams]?.repositories.push(repositoryName(index));
  }
  return teams;
}

let formattedDay = Number.NaN;
let formattedDayPrefix = '';
const twoDigits = (value: number): string => (value < 10 ? `0${value}` : String(value));

/** `2024-09-13T11:00:58Z` as GitHub writes times; the date part is reused within a day (a hot path). */
function isoSeconds(ms: EpochMs): string {
  const day = Math.floor(ms / DAY);
  if (day !== formattedDay) {
    formattedDay = day;
    formattedDayPrefix = new Date(day * DAY).toISOString().slice(0, 11);
  }
  const seconds = Math.floor((ms - day * DAY) / 1000);
  return `${formattedDayPrefix}${twoDigits(Math.floor(seconds / 3600))}:${twoDigits(Math.floor(seconds / 60) % 60)}:${twoDigits(seconds % 60)}Z`;
}

interface PullRequest {
  number: number;
  sha: string;
  mergedAt: EpochMs;
}

/** Generates one repository's entries, in time order, adding to `counts`. */
function generateRepository(
  options: ResolvedOptions,
  plan: RepositoryPlan,
  counts: SampleCounts,
): LokiEntry[] {
  const random: Random = createRandom(deriveSeed(options.seed, plan.index));
  const { org, end } = options;
  const start = end - options.days * DAY;
  const repository = plan.name;
  const fullName = `${org}/${repository}`;
  const htmlUrl = `https://github.com/${fullName}`;
  const apiUrl = `https://api.github.com/repos/${fullName}`;
  const entries: LokiEntry[] = [];

  // A fresh literal per entry: spreading a shared object into each label set was 60 times slower.
  const labelsWith = (specific: Record<string, string>): Record<string, string> => {
    const labels: Record<string, string> = {
      environment_name: 'dev',
      loki_resource_labels: 'service.name, service.namespace',
      receiver: 'webhookevent',
      scope_name: 'otlp/webhookevent',
      scope_version: '1.0.0',
      service_name: repository,
      service_namespace: options.serviceNamespace,
      source: 'webhookevent',
      vcs_repository_name: repository,
      vcs_repository_url_full: htmlUrl,
    };
    if (plan.labelsTeam) labels.team_name = plan.team;
    return Object.assign(labels, specific);
  };
  const repositoryObject = {
    custom_properties: plan.labelsTeam ? { service_name: repository, team_name: plan.team } : {},
    full_name: fullName,
    html_url: htmlUrl,
    name: repository,
    owner: { login: org },
  };
  const workflowId = 90_000_000 + plan.index;
  const workflow = {
    name: 'Deploy',
    path: '.github/workflows/deploy.yml',
    url: `${apiUrl}/actions/workflows/${workflowId}`,
  };
  // Lines are written as JSON text from fragments: JSON.stringify of whole objects made generating the
  // benchmark's 300 repositories x 365 days several times slower. Every text from outside passes through json().
  const json = JSON.stringify;
  const repositoryJson = json(repositoryObject);
  const workflowJson = json(workflow);
  const apiText = json(apiUrl).slice(1, -1);
  const htmlText = json(htmlUrl).slice(1, -1);

  /** Loki receives an event a few seconds after it happened; nothing reaches Loki at or after `end`. */
  const push = (eventMs: EpochMs, labels: Record<string, string>, line: string, keep = true): boolean => {
    const receivedMs = eventMs + random.int(1_000, 5_000);
    if (receivedMs >= end) return false;
    const nanos = String(random.int(0, 999_999)).padStart(6, '0');
    return keep && store(receivedMs, nanos, labels, line);
  };
  /** Keeps an entry received at `receivedMs` (before `end`). */
  const store = (
    receivedMs: EpochMs,
    nanos: string,
    labels: Record<string, string>,
    line: string,
  ): boolean => {
    // Reading a character flattens the line built from many pieces into one string: a third less memory and
    // GC time when hundreds of thousands of entries are kept.
    line.charCodeAt(0);
    entries.push({ labels, timestampNs: `${receivedMs}${nanos}`, line });
    counts.entries += 1;
    return true;
  };

  let deploymentCounter = 0;
  let runCounter = 0;
  let issueCounter = random.int(20, 400);

  const deploy = (environment: string, sha: string, createdAt: EpochMs, state: 'success' | 'failure') => {
    deploymentCounter += 1;
    const id = 1_500_000_000 + plan.index * 10_000_000 + deploymentCounter;
    const updatedAt = createdAt + random.int(1, 8) * MINUTE + random.int(0, 59) * 1000;
    // As in the real events: often no workflow_run at all, sometimes null, sometimes a run to link to.
    const shape = random.next();
    let workflowRun = '';
    if (shape >= 0.4 && shape < 0.6) workflowRun = ',"workflow_run":null';
    if (shape >= 0.6) {
      runCounter += 1;
      const runId = 10_000_000_000 + plan.index * 1_000_000 + runCounter;
      workflowRun =
        `,"workflow_run":{"display_title":"Deploy","head_branch":"main","head_sha":"${sha}",` +
        `"html_url":"${htmlText}/actions/runs/${runId}","id":${runId},"run_number":${runCounter},` +
        `"status":"completed","workflow_id":${workflowId}}`;
    }
    const environmentJson = json(environment);
    const line =
      `{"action":"created","deployment":{"created_at":"${isoSeconds(createdAt)}","environment":${environmentJson},` +
      `"id":${id},"ref":"main","sha":"${sha}","task":"deploy","updated_at":"${isoSeconds(updatedAt)}",` +
      `"url":"${apiText}/deployments/${id}"},"deployment_status":{"environment":${environmentJson},` +
      `"state":"${state}","url":"${apiText}/deployments/${id}/statuses/${id * 3 + 1}"},` +
      `"repository":${repositoryJson},"workflow":${workflowJson}${workflowRun}}`;
    const labels = labelsWith({
      deployment_environment_name: environment,
      deployment_id: String(id),
      deployment_status: state,
      event_name: 'deployment_created',
      vcs_repository_owner: org,
      vcs_repository_ref_revision: sha,
    });
    if (!push(updatedAt, labels, line)) return;
    counts.deployments += 1;
    if (DEFAULT_PRODUCTION_NAMES.has(environment)) {
      counts.productionDeployments += 1;
      if (state === 'failure') counts.productionFailures += 1;
    }
  };

  const pullRequestTitle = (): string =>
    random
      .pick(TITLE_TEMPLATES)
      .replace('{thing}', random.pick(THINGS))
      .replace('{dependency}', random.pick(DEPENDENCIES));

  const closePullRequest = (createdAt: EpochMs, closedAt: EpochMs, merged: boolean): PullRequest => {
    issueCounter += 1;
    const number = issueCounter;
    const sha = random.sha();
    const title = pullRequestTitle();
    const mergedAt = isoSeconds(closedAt);
    const labels = labelsWith({
      created_at: isoSeconds(createdAt),
      event_name: 'change_closed',
      merge_sha: sha,
      vcs_repository_change_title: title,
      vcs_repository_ref_message: title,
      vcs_repository_ref_revision: sha,
      vcs_repository_ref_type: 'branch',
    });
    // The collector leaves the label out when the pull request was closed without merging.
    if (merged) labels.merged_at = mergedAt;
    const line =
      `{"action":"closed","number":${number},"pull_request":{"created_at":"${isoSeconds(createdAt)}",` +
      `"html_url":"${htmlText}/pull/${number}","labels":[],"merge_commit_sha":"${sha}","merged":${merged},` +
      `"merged_at":${merged ? `"${mergedAt}"` : 'null'},"number":${number},"title":${json(title)},` +
      `"url":"${apiText}/pulls/${number}","user":{"login":${json(random.pick(AUTHORS))}}},` +
      `"repository":${repositoryJson}}`;
    if (push(closedAt, labels, line) && merged) counts.merges += 1;
    return { number, sha, mergedAt: closedAt };
  };

  /**
   * An issue opened at `createdAt` and closed at `closedAt`: GitHub sends `opened`, then `closed` (each
   * written as `issue_<action>`). Nothing reaches Loki at or after `end`, so an issue closed later is seen
   * open. Returns whether each event was stored. The opened event's delay comes from the issue number, not
   * from `random`, so the rest of the sample is the same as without it.
   */
  const closeIssue = (
    createdAt: EpochMs,
    closedAt: EpochMs,
    label: 'incident' | 'bug',
  ): { opened: boolean; closed: boolean } => {
    issueCounter += 1;
    const number = issueCounter;
    const issueLabel = {
      color: label === 'incident' ? 'b60205' : 'd73a4a',
      default: label === 'bug',
      description: null,
      id: 6_600_000_000 + plan.index * 1000 + (number % 1000),
      name: label,
      url: `${apiUrl}/labels/${label}`,
    };
    const title =
      label === 'incident' ? `Elevated error rate on ${repository}` : 'Button misaligned on small screens';
    const issueJson = (state: 'open' | 'closed') =>
      `{"closed_at":${state === 'closed' ? `"${isoSeconds(closedAt)}"` : 'null'},"created_at":"${isoSeconds(createdAt)}",` +
      `"html_url":"${htmlText}/issues/${number}","labels":[${json(issueLabel)}],"number":${number},` +
      `"repository_url":"${apiText}","state":"${state}","title":${json(title)}}`;
    const openedMs = createdAt + 1_000 + ((number * 7919) % 4_000);
    const opened =
      openedMs < end &&
      store(
        openedMs,
        String((number * 104_729) % 1_000_000).padStart(6, '0'),
        labelsWith({
          created_at: isoSeconds(createdAt),
          event_name: 'issue_opened',
          vcs_repository_owner: org,
        }),
        `{"action":"opened","issue":${issueJson('open')},"repository":${repositoryJson}}`,
      );
    const labels = labelsWith({
      closed_at: isoSeconds(closedAt),
      created_at: isoSeconds(createdAt),
      event_name: 'issue_closed',
      vcs_repository_owner: org,
    });
    // Left open on request: the same random draws, nothing stored.
    const stays = label === 'incident' && createdAt >= end - options.openIncidentDays * DAY;
    const closed = push(
      closedAt,
      labels,
      `{"action":"closed","issue":${issueJson('closed')},"repository":${repositoryJson}}`,
      !stays,
    );
    return { opened, closed };
  };

  const mergePullRequests = (count: number, from: EpochMs, until: EpochMs): PullRequest[] => {
    const mergeTimes = Array.from({ length: count }, () => from + random.next() * Math.max(until - from, 0))
      .map((time) => Math.floor(time / 1000) * 1000)
      .sort((a, b) => a - b);
    return mergeTimes.map((mergedAt) => {
      const pullRequest = closePullRequest(mergedAt - random.int(20, 3 * 24 * 60) * MINUTE, mergedAt, true);
      if (plan.deploysToDev) deploy('dev', pullRequest.sha, mergedAt + random.int(3, 10) * MINUTE, 'success');
      if (plan.deploysPreviews && random.chance(0.5)) {
        deploy(`preview-${pullRequest.number}`, random.sha(), mergedAt - random.int(1, 6) * HOUR, 'success');
      }
      return pullRequest;
    });
  };

  // A couple of pull requests merged before the window, shipped by its first deployment.
  let pending = mergePullRequests(random.int(1, 2), start - 2 * DAY, start - HOUR);
  counts.mergesBeforeWindow += pending.length;

  const meanGap = DAY / (options.deploymentsPerRepositoryPerDay * (0.5 + random.next()));
  let lastDeployment = start;
  let time = start + random.exponential(meanGap);
  let failing = false;
  let retrySha: string | null = null;

  while (true) {
    // Most deployments happen in working hours (UTC).
    const hour = new Date(time).getUTCHours();
    if ((hour < 7 || hour >= 20) && random.chance(0.85)) {
      const nextMorning = Math.ceil((time - 7 * HOUR) / DAY) * DAY + 7 * HOUR;
      time = nextMorning + random.int(0, 180) * MINUTE;
    }
    time = Math.floor(time / 1000) * 1000;
    if (time >= end) break;

    let sha: string;
    if (retrySha !== null) {
      sha = retrySha;
    } else {
      const roll = random.next();
      // After a failure the next deployment is a fix, so it carries at least one change.
      const newPullRequests = failing
        ? random.int(1, 2)
        : roll < 0.15
          ? 0
          : roll < 0.7
            ? 1
            : roll < 0.9
              ? 2
              : 3;
      pending = pending.concat(mergePullRequests(newPullRequests, lastDeployment, time - 2 * MINUTE));
      const last = pending.at(-1);
      if (last === undefined) counts.directPushes += 1;
      sha = last?.sha ?? random.sha();
      // Closed without merging: must never count as a change (the API filters on merged_at).
      if (random.chance(0.05)) closePullRequest(time - 2 * DAY, time - HOUR, false);
    }

    if (plan.deploysToStaging) deploy('staging', sha, time - random.int(20, 60) * MINUTE, 'success');
    const failed = random.chance(failing ? 0.35 : 0.07);
    deploy(plan.productionEnvironment, sha, time, failed ? 'failure' : 'success');
    pending = [];
    lastDeployment = time;

    if (failed) {
      failing = true;
      // Half the failures are retried with the same commit; the others get a fixing change.
      retrySha = random.chance(0.5) ? sha : null;
      time += random.int(15, 90) * MINUTE;
      continue;
    }
    failing = false;
    retrySha = null;
    if (plan.deploysToProdEu) deploy('prod-eu', sha, time + random.int(10, 30) * MINUTE, 'success');
    if (random.chance(0.04)) {
      const openedAt = time + random.int(5, 120) * MINUTE;
      const { opened, closed } = closeIssue(
        openedAt,
        openedAt + random.int(20, 18 * 60) * MINUTE,
        'incident',
      );
      if (closed) counts.incidents += 1;
      else if (opened) counts.openIncidents += 1;
    }
    if (random.chance(0.02)) {
      const openedAt = time + random.int(1, 48) * HOUR;
      closeIssue(openedAt, openedAt + random.int(1, 72) * HOUR, 'bug');
    }
    time += random.exponential(meanGap);
  }

  // Same-length nanosecond strings sort like numbers.
  return entries.sort((a, b) => (a.timestampNs < b.timestampNs ? -1 : a.timestampNs > b.timestampNs ? 1 : 0));
}

function emptyCounts(): SampleCounts {
  return {
    entries: 0,
    deployments: 0,
    productionDeployments: 0,
    productionFailures: 0,
    incidents: 0,
    openIncidents: 0,
    merges: 0,
    mergesBeforeWindow: 0,
    directPushes: 0,
  };
}

/**
 * Streams the entries one repository at a time (each repository's in time order), so a benchmark over
 * hundreds of repositories never holds every line at once. The generator's return value is the counts.
 */
export function* generateEntries(options: SampleOptions = {}): Generator<LokiEntry, SampleCounts> {
  const resolved = resolveOptions(options);
  const counts = emptyCounts();
  for (let index = 0; index < resolved.repositories; index += 1) {
    yield* generateRepository(resolved, planRepository(index, resolved.teams), counts);
  }
  return counts;
}

export function generateSample(options: SampleOptions = {}): Sample {
  const resolved = resolveOptions(options);
  const counts = emptyCounts();
  const entries: LokiEntry[] = [];
  for (let index = 0; index < resolved.repositories; index += 1) {
    for (const entry of generateRepository(resolved, planRepository(index, resolved.teams), counts)) {
      entries.push(entry);
    }
  }
  return {
    org: resolved.org,
    teams: sampleTeams(options),
    entries,
    counts,
    start: resolved.end - resolved.days * DAY,
    end: resolved.end,
  };
}
