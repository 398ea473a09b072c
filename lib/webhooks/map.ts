import type { PullRequestClosedEvent, WebhookEventName } from '@octokit/webhooks-types';
import * as z from 'zod';
import { isRepositoryName } from '../dora/names';
import type { EpochMs } from '../dora/types';
import { BadRequestError } from '../errors';
import { deploymentEntry, incidentEntry, mergeEntry, type WriteContext } from '../events/entries';
import type { LokiEntry } from '../loki/types';

/**
 * GitHub webhook payloads -> the Loki entries the collector pipeline would have written for them, built
 * by the write path's own builders (lib/events/entries.ts), so /data, liatrio's API and the Grafana
 * dashboards read them like any other event. Pure: no clock, no I/O. Every time an entry carries comes
 * from the payload, never from when it arrived, so a redelivery builds exactly the same entries.
 */

/** The events this receiver records; the ones to tick on GitHub's webhook page. */
export const RECORDED_EVENTS = [
  'deployment_status',
  'pull_request',
  'issues',
] as const satisfies readonly WebhookEventName[];

/** Issue actions that can start, end or change an incident. */
export const INCIDENT_ACTIONS = ['opened', 'closed', 'reopened', 'labeled', 'unlabeled'] as const;

export interface RepositoryRef {
  name: string;
  owner: string;
  /** `owner/name`, for logs and the outbox. */
  fullName: string;
}

export interface MapSettings {
  serviceNamespace: string;
  /** INCIDENT_LABELS, as configured (compared case-insensitively). */
  incidentLabels: readonly string[];
}

/** A delivery the receiver records: its entries once the repository's team is known. */
export interface Recorded {
  kind: 'recorded';
  action: string | undefined;
  repository: RepositoryRef;
  entries(team: string | undefined): LokiEntry[];
}

export interface Ignored {
  kind: 'ignored';
  action: string | undefined;
  repository: RepositoryRef | undefined;
  reason: string;
}

export interface Ping {
  kind: 'ping';
  repository: RepositoryRef | undefined;
}

export type Mapped = Recorded | Ignored | Ping;

// Only the fields read below are checked; GitHub sends many more, which pass untouched.
const time = z.iso.datetime({ offset: true });
const text = (max: number) => z.string().min(1).max(max);
const https = z.string().regex(/^https:\/\/\S+$/);

const repositorySchema = z.object({
  name: z.string().refine(isRepositoryName, 'is not a GitHub repository name'),
  owner: z.object({ login: text(100) }),
});

const deploymentStatusSchema = z.object({
  deployment: z.object({
    id: z.union([z.number().int(), text(64)]),
    sha: z.string().regex(/^[0-9a-fA-F]{7,64}$/),
    ref: text(255).nullish(),
    environment: text(255),
    created_at: time,
  }),
  deployment_status: z.object({
    state: text(64),
    environment: text(255).nullish(),
    created_at: time,
    target_url: z.string().nullish(),
    log_url: z.string().nullish(),
  }),
  workflow_run: z.object({ html_url: z.string().nullish() }).nullish(),
  repository: repositorySchema,
});

const mergedPullRequestSchema = z.object({
  number: z.number().int().positive(),
  pull_request: z.object({
    merged: z.literal(true),
    merged_at: time,
    merge_commit_sha: z.string().regex(/^[0-9a-fA-F]{7,64}$/),
    title: text(1024),
    html_url: https.nullish(),
    user: z.object({ login: text(100) }),
  }),
  repository: repositorySchema,
});

const labelSchema = z.object({ name: z.string().max(255) });

const issueSchema = z.object({
  issue: z.object({
    number: z.number().int().positive(),
    title: z.string().max(1024).nullish(),
    html_url: https.nullish(),
    labels: z.array(labelSchema).nullish(),
    created_at: time,
    updated_at: time.nullish(),
    closed_at: time.nullish(),
  }),
  label: labelSchema.nullish(),
  repository: repositorySchema,
});

/** The repository a payload is about, when it names a well-formed one (ping of an organisation hook: none). */
function repositoryOf(payload: Record<string, unknown>): RepositoryRef | undefined {
  const parsed = repositorySchema.safeParse(payload.repository);
  if (!parsed.success) return undefined;
  const { name, owner } = parsed.data;
  return { name, owner: owner.login, fullName: `${owner.login}/${name}` };
}

function parsePayload<T extends z.ZodType>(schema: T, payload: unknown, event: string): z.output<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    throw new BadRequestError(`The ${event} payload lacks what the receiver records`, {
      fields: parsed.error.issues.slice(0, 10).map((issue) => ({
        field: issue.path.join('.'),
        message: issue.message,
      })),
    });
  }
  return parsed.data;
}

function writeContext(repository: RepositoryRef, settings: MapSettings, at: EpochMs): WriteContext {
  // `now` is the event's own time, so the builders store the entry at exactly that time (no clamping to
  // the clock of the receiving instance, which would differ between a delivery and its redelivery).
  return { serviceNamespace: settings.serviceNamespace, owner: repository.owner, now: at, maxBackdateMs: 0 };
}

/** The run or log page of a deployment status, when it links to one over https. */
function deploymentUrl(payload: z.output<typeof deploymentStatusSchema>): string | undefined {
  const candidates = [
    payload.workflow_run?.html_url,
    payload.deployment_status.log_url,
    payload.deployment_status.target_url,
  ];
  return candidates.find((url): url is string => typeof url === 'string' && https.safeParse(url).success);
}

function mapDeploymentStatus(payload: unknown, settings: MapSettings): Recorded {
  const body = parsePayload(deploymentStatusSchema, payload, 'deployment_status');
  const repository = repositoryOf(body as Record<string, unknown>) as RepositoryRef;
  const statusAt = Date.parse(body.deployment_status.created_at);
  const url = deploymentUrl(body);
  return {
    kind: 'recorded',
    action: 'created',
    repository,
    entries: (team) => [
      deploymentEntry(
        {
          repository: repository.name,
          team,
          sha: body.deployment.sha.toLowerCase(),
          // Every state, the environment exactly as GitHub names it: the reader decides what counts.
          environment: body.deployment_status.environment ?? body.deployment.environment,
          status: body.deployment_status.state,
          createdAt: Date.parse(body.deployment.created_at),
          url,
          id: String(body.deployment.id),
          ...(body.deployment.ref ? { ref: body.deployment.ref } : {}),
          statusAt,
        },
        writeContext(repository, settings, statusAt),
      ),
    ],
  };
}

function mapPullRequest(payload: Record<string, unknown>, settings: MapSettings): Recorded | Ignored {
  const action = typeof payload.action === 'string' ? payload.action : undefined;
  const repository = repositoryOf(payload);
  const pull = payload.pull_request as PullRequestClosedEvent['pull_request'] | undefined;
  if (action !== 'closed') {
    return {
      kind: 'ignored',
      action,
      repository,
      reason: 'only merged pull requests (action closed) are recorded',
    };
  }
  if (pull?.merged !== true) {
    return { kind: 'ignored', action, repository, reason: 'the pull request was closed without merging' };
  }
  const body = parsePayload(mergedPullRequestSchema, payload, 'pull_request');
  const mergedAt = Date.parse(body.pull_request.merged_at);
  const ref = repository as RepositoryRef;
  return {
    kind: 'recorded',
    action,
    repository: ref,
    entries: (team) => [
      mergeEntry(
        {
          repository: ref.name,
          team,
          sha: body.pull_request.merge_commit_sha.toLowerCase(),
          title: body.pull_request.title,
          user: body.pull_request.user.login,
          mergedAt,
          number: body.number,
          ...(body.pull_request.html_url ? { htmlUrl: body.pull_request.html_url } : {}),
          at: mergedAt,
        },
        writeContext(ref, settings, mergedAt),
      ),
    ],
  };
}

function mapIssue(payload: Record<string, unknown>, settings: MapSettings): Recorded | Ignored {
  const action = typeof payload.action === 'string' ? payload.action : undefined;
  const repository = repositoryOf(payload);
  if (action === undefined || !(INCIDENT_ACTIONS as readonly string[]).includes(action)) {
    return {
      kind: 'ignored',
      action,
      repository,
      reason: `issue action ${JSON.stringify(action ?? null)} does not start, end or change an incident`,
    };
  }
  const body = parsePayload(issueSchema, payload, 'issues');
  const wanted = new Set(settings.incidentLabels.map((label) => label.toLowerCase()));
  const names = (body.issue.labels ?? []).map((label) => label.name);
  // Adding or removing the incident label itself counts too: an issue becomes (or stops being) an incident.
  const changed = action === 'labeled' || action === 'unlabeled' ? body.label?.name : undefined;
  const carries = [...names, ...(changed === undefined ? [] : [changed])].some((name) =>
    wanted.has(name.toLowerCase()),
  );
  if (!carries) {
    return {
      kind: 'ignored',
      action,
      repository,
      reason: 'the issue carries no incident label (INCIDENT_LABELS)',
    };
  }
  const ref = repository as RepositoryRef;
  const createdAt = Date.parse(body.issue.created_at);
  const closedAt = body.issue.closed_at ? Date.parse(body.issue.closed_at) : null;
  // When the issue last changed: this event's own moment, the same in a redelivery of it.
  const at = Date.parse(body.issue.updated_at ?? body.issue.closed_at ?? body.issue.created_at);
  return {
    kind: 'recorded',
    action,
    repository: ref,
    entries: (team) => [
      incidentEntry(
        {
          repository: ref.name,
          id: String(body.issue.number),
          team,
          title: body.issue.title ?? null,
          createdAt,
          closedAt,
          url: body.issue.html_url ?? undefined,
          incidentLabel: settings.incidentLabels[0] ?? 'incident',
          labels: names,
          action,
          at,
        },
        writeContext(ref, settings, at),
      ),
    ],
  };
}

/**
 * What to do with a verified delivery of `event`. Throws a BadRequestError when a recorded kind of event
 * lacks a field the entries need (GitHub always sends them; a hand-made delivery may not).
 */
export function mapDelivery(event: string, payload: Record<string, unknown>, settings: MapSettings): Mapped {
  const action = typeof payload.action === 'string' ? payload.action : undefined;
  switch (event) {
    case 'ping':
      return { kind: 'ping', repository: repositoryOf(payload) };
    case 'deployment_status':
      return mapDeploymentStatus(payload, settings);
    case 'pull_request':
      return mapPullRequest(payload, settings);
    case 'issues':
      return mapIssue(payload, settings);
    default:
      return {
        kind: 'ignored',
        action,
        repository: repositoryOf(payload),
        reason: `${event} events are not recorded (only ${RECORDED_EVENTS.join(', ')})`,
      };
  }
}
