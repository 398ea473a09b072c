import { createHmac } from 'node:crypto';
import examples from '@octokit/webhooks-examples';

/**
 * GitHub's own example payloads (@octokit/webhooks-examples) made into deliveries of today: the times a
 * receiver stores are moved to `at`, the repository to `owner/name`, and each body is signed as GitHub signs.
 */

export const TEST_WEBHOOK_SECRET = 'webhook-test-secret-0f3c9a7e51d2';

// biome-ignore lint/suspicious/noExplicitAny: example payloads are edited field by field, as loosely as JSON
export type Payload = Record<string, any>;

/** The first example of `event` (with `action`, when given) from @octokit/webhooks-examples, deep-copied. */
export function example(event: string, action?: string): Payload {
  const group = (examples as Array<{ name: string; examples: Payload[] }>).find(
    (entry) => entry.name === event,
  );
  const found = group?.examples.find((payload) => action === undefined || payload.action === action);
  if (found === undefined)
    throw new Error(`@octokit/webhooks-examples has no ${event} ${action ?? ''} example`);
  return structuredClone(found);
}

/** Seconds precision, as GitHub writes times. */
export function githubTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function withRepository(payload: Payload, owner: string, name: string): Payload {
  payload.repository.name = name;
  payload.repository.full_name = `${owner}/${name}`;
  payload.repository.html_url = `https://github.com/${owner}/${name}`;
  payload.repository.owner.login = owner;
  return payload;
}

export interface Where {
  owner: string;
  repository: string;
}

export function deploymentStatus(
  where: Where,
  options: {
    sha: string;
    state: string;
    environment: string;
    createdAt: number;
    statusAt?: number;
    id?: number;
  },
): Payload {
  const payload = withRepository(example('deployment_status'), where.owner, where.repository);
  payload.deployment.sha = options.sha;
  payload.deployment.id = options.id ?? 145988746;
  payload.deployment.environment = options.environment;
  payload.deployment.created_at = githubTime(options.createdAt);
  payload.deployment_status.state = options.state;
  payload.deployment_status.environment = options.environment;
  payload.deployment_status.created_at = githubTime(options.statusAt ?? options.createdAt);
  payload.deployment_status.updated_at = payload.deployment_status.created_at;
  return payload;
}

export function mergedPullRequest(
  where: Where,
  options: { sha: string; mergedAt: number; number?: number; title?: string; user?: string },
): Payload {
  const payload = withRepository(example('pull_request', 'closed'), where.owner, where.repository);
  const number = options.number ?? 2;
  payload.number = number;
  payload.pull_request.number = number;
  payload.pull_request.merged = true;
  payload.pull_request.merged_at = githubTime(options.mergedAt);
  payload.pull_request.closed_at = payload.pull_request.merged_at;
  payload.pull_request.merge_commit_sha = options.sha;
  payload.pull_request.html_url = `https://github.com/${where.owner}/${where.repository}/pull/${number}`;
  if (options.title !== undefined) payload.pull_request.title = options.title;
  if (options.user !== undefined) payload.pull_request.user.login = options.user;
  return payload;
}

export function incidentIssue(
  where: Where,
  options: {
    action: 'opened' | 'closed' | 'reopened' | 'labeled' | 'unlabeled';
    number: number;
    createdAt: number;
    closedAt?: number;
    labels?: string[];
  },
): Payload {
  const payload = withRepository(example('issues', 'opened'), where.owner, where.repository);
  payload.action = options.action;
  payload.issue.number = options.number;
  payload.issue.html_url = `https://github.com/${where.owner}/${where.repository}/issues/${options.number}`;
  payload.issue.labels = (options.labels ?? ['incident']).map((name) => ({
    name,
    color: 'ededed',
    default: false,
  }));
  payload.issue.created_at = githubTime(options.createdAt);
  payload.issue.closed_at = options.closedAt === undefined ? null : githubTime(options.closedAt);
  payload.issue.updated_at = githubTime(options.closedAt ?? options.createdAt);
  payload.issue.state = options.closedAt === undefined ? 'open' : 'closed';
  if (options.action === 'labeled' || options.action === 'unlabeled') payload.label = { name: 'incident' };
  return payload;
}

export function signature(body: string, secret = TEST_WEBHOOK_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers GitHub sends with a delivery (names as GitHub writes them). */
export function deliveryHeaders(event: string, delivery: string, body: string, secret = TEST_WEBHOOK_SECRET) {
  return {
    'Content-Type': 'application/json',
    'X-GitHub-Event': event,
    'X-GitHub-Delivery': delivery,
    'X-GitHub-Hook-ID': '1',
    'X-Hub-Signature-256': signature(body, secret),
    'User-Agent': 'GitHub-Hookshot/044aadd',
  };
}
