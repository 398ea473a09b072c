/**
 * The domain the DORA logic works on. lib/loki turns Loki's wire format into these events,
 * lib/github turns GitHub's into teams; nothing below lib/dora knows either wire format.
 * Times are epoch milliseconds (UTC) so sorting and arithmetic stay cheap.
 */

export type EpochMs = number;

export interface DeploymentEvent {
  repository: string;
  /** Organisation or user owning the repository, for links; null when the event does not say. */
  owner: string | null;
  /** `team_name` label of the event; null when the stream has none. */
  team: string | null;
  environment: string;
  sha: string;
  deploymentId: string;
  /** GitHub deployment status state: `success`, `failure`, ... */
  state: string;
  createdAt: EpochMs;
  /** Best link to the deployment: its workflow run, else the repository's deployments page. */
  url: string;
}

export interface IncidentEvent {
  repository: string;
  owner: string | null;
  team: string | null;
  /** Issue number (GitHub) or the reporter's own id (write path); one incident per repository and id. */
  id: string;
  title: string | null;
  createdAt: EpochMs;
  /** Null while the issue is open (also after it was reopened). */
  closedAt: EpochMs | null;
  /** The incident issue's page. */
  url: string;
  /**
   * When the issue was seen in this state: the event's Loki time (GitHub's webhook time), else the closing,
   * else the creation. Of several events of one issue the latest state wins.
   */
  stateAt?: EpochMs | undefined;
  /**
   * The issue stopped being an incident (its incident label was removed, or it was deleted): an event that
   * withdraws the earlier ones of the same issue when it is the latest.
   */
  withdrawn?: boolean | undefined;
}

export interface MergeEvent {
  repository: string;
  owner: string | null;
  team: string | null;
  /** `pull_request.merge_commit_sha`. */
  sha: string;
  title: string | null;
  user: string | null;
  mergedAt: EpochMs;
  url: string | null;
}

export interface EventBatch {
  deployments: DeploymentEvent[];
  incidents: IncidentEvent[];
  merges: MergeEvent[];
}

/** One production deployment as `POST /data` answers it: always these 15 keys, null where unknown. */
export interface DeploymentRecord {
  repository: string;
  team: string | null;
  title: string | null;
  user: string | null;
  sha: string;
  status: boolean;
  failed_at: string | null;
  merged_at: string | null;
  created_at: string;
  fixed_at: string | null;
  fixed_url: string | null;
  deploy_url: string;
  issue_url: string | null;
  change_url: string;
  total_cycle_time: null;
}

export interface Team {
  name: string;
  /** Team slug on GitHub (used in URLs); `name` is what clients show and filter on. */
  slug: string;
  repositories: string[];
}

export interface TimeRange {
  start: EpochMs;
  /** Exclusive. */
  end: EpochMs;
}

/**
 * A production deployment with everything the DORA rules derived for it (lib/dora/records.ts).
 * `/data` turns these into DeploymentRecords; `/metrics` computes from these and the merges.
 */
export interface ProductionDeployment {
  repository: string;
  owner: string | null;
  /** Team from the event's `team_name`, else from GitHub (the team owning the repository), else null. */
  team: string | null;
  environment: string;
  sha: string;
  createdAt: EpochMs;
  /** The deployment status was `success`. */
  success: boolean;
  deployUrl: string;
  failedAt: EpochMs | null;
  fixedAt: EpochMs | null;
  fixedUrl: string | null;
  issueUrl: string | null;
  /** This deployment resolved an earlier failure of its repository (counts as rework). */
  fixesFailure: boolean;
  /** The pull request whose merge commit is `sha`, when known. */
  merge: MergeEvent | null;
}
