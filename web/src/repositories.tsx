import { useState } from 'preact/hooks';
import type { RepositorySummary } from '../../lib/dora/per-repository';
import { attentionText } from './attention';
import { LEVEL_TITLES, METRIC_TITLES, readingText } from './format';
import { METRIC_NAMES } from './types';

/**
 * Each repository of the view side by side (GET /metrics/summary?group_by=repository), in the API's order:
 * what needs attention first (worst level, then more metrics at it, then failures still open). DORA means
 * its metrics per application; a team's blended numbers hide the one repository that needs help.
 */

const FIRST_ROWS = 12;

export function RepositoryTable(props: { repositories: RepositorySummary[] }) {
  const [all, setAll] = useState(false);
  const { repositories } = props;
  if (repositories.length === 0) return <p class="muted">No repository deployed in this period.</p>;
  const shown = all ? repositories : repositories.slice(0, FIRST_ROWS);
  return (
    <div class="table-scroll">
      <table class="by-repository" data-testid="by-repository">
        <thead>
          <tr>
            <th scope="col">Repository</th>
            <th scope="col">Team</th>
            <th scope="col">Needs attention</th>
            {METRIC_NAMES.map((metric) => (
              <th scope="col" key={metric}>
                {METRIC_TITLES[metric]}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((row) => (
            <tr key={row.repository} data-repository={row.repository}>
              <td title={row.repository}>{row.repository}</td>
              <td title={row.team ?? ''}>{row.team ?? ''}</td>
              <td class="level-cell">{attentionText(row)}</td>
              {METRIC_NAMES.map((metric) => {
                const m = row.metrics[metric];
                return (
                  <td key={metric} class="level-cell">
                    {readingText(metric, m.value)}
                    {m.level === null ? '' : ` · ${LEVEL_TITLES[m.level]}`}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {repositories.length > FIRST_ROWS && (
        <button type="button" onClick={() => setAll(!all)}>
          {all ? `Show the first ${FIRST_ROWS}` : `Show all ${repositories.length} repositories`}
        </button>
      )}
    </div>
  );
}
