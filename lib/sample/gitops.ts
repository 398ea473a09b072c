import type { EpochMs } from '../dora/types';
import type { StatusReport } from '../status/schema';

/**
 * GitOps agents' sync reports for the sample organisation: two pairs in sync, two drifted, so a local
 * run's drift table (`/status.json`, the dashboard's GitOps part) shows both kinds. `npm start` stores
 * them as if just received; the browser suite sends them through POST /api/status instead.
 */
export function sampleGitOpsReports(org: string, checkedAt: EpochMs): StatusReport[] {
  const last_check = new Date(checkedAt).toISOString();
  return [
    {
      repo: `${org}/platform-gitops`,
      server: 'prod-eu-1',
      sync_status: 'SYNCED',
      drift_count: 0,
      files: [],
      last_check,
    },
    {
      repo: `${org}/platform-gitops`,
      server: 'prod-us-1',
      sync_status: 'OUT_OF_SYNC',
      drift_count: 2,
      files: [{ name: 'apps/checkout/deployment.yaml' }, { name: 'apps/checkout/service.yaml' }],
      last_check,
    },
    {
      repo: `${org}/payments-gitops`,
      server: 'prod-eu-1',
      sync_status: 'OUT_OF_SYNC',
      drift_count: 5,
      files: ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name: `apps/payments/${name}.yaml` })),
      last_check,
    },
    {
      repo: `${org}/storefront-gitops`,
      server: 'prod-eu-1',
      sync_status: 'SYNCED',
      drift_count: 0,
      files: [],
      last_check,
    },
  ];
}
