import { dateTime } from './format';
import type { GitOpsStatus } from './types';

/** Out of sync first, most drift first, then by name: what needs attention is on top. */
export function sortStatuses(statuses: GitOpsStatus[]): GitOpsStatus[] {
  return [...statuses].sort(
    (a, b) =>
      Number(b.sync_status === 'OUT_OF_SYNC') - Number(a.sync_status === 'OUT_OF_SYNC') ||
      b.drift_count - a.drift_count ||
      a.repo.localeCompare(b.repo) ||
      a.server.localeCompare(b.server),
  );
}

const SHOWN_FILES = 3;

export function GitOpsTable(props: { statuses: GitOpsStatus[] }) {
  if (props.statuses.length === 0) {
    return (
      <p class="empty">
        No GitOps agent reported a sync status recently. Agents report with <code>POST /api/status</code>.
      </p>
    );
  }
  const outOfSync = props.statuses.filter((status) => status.sync_status === 'OUT_OF_SYNC').length;
  return (
    <>
      <p class="count">
        {outOfSync} of {props.statuses.length} repository:server pairs out of sync
      </p>
      <div class="table-wrap">
        <table class="gitops">
          <thead>
            <tr>
              <th scope="col">Repository</th>
              <th scope="col">Server</th>
              <th scope="col">Sync</th>
              <th scope="col">Drifted files</th>
              <th scope="col">Files</th>
              <th scope="col">Last check (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {sortStatuses(props.statuses).map((status) => {
              const extra = status.files.length - SHOWN_FILES;
              return (
                <tr key={`${status.repo}:${status.server}`} data-sync={status.sync_status}>
                  <td>{status.repo}</td>
                  <td>{status.server}</td>
                  <td class={status.sync_status === 'OUT_OF_SYNC' ? 'outcome failed' : 'outcome success'}>
                    {status.sync_status === 'OUT_OF_SYNC' ? '✕ Out of sync' : '✓ Synced'}
                  </td>
                  <td class="number">{status.drift_count}</td>
                  <td class="files">
                    {status.files
                      .slice(0, SHOWN_FILES)
                      .map((file) => file.name)
                      .join(', ')}
                    {extra > 0 ? `, and ${extra} more` : ''}
                  </td>
                  <td>{dateTime(status.last_check)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
