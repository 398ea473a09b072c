import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { authorMatcher } from '../../lib/dora/authors';
import { dateTime, shortDuration } from './format';
import type { DeploymentRecord } from './types';

/**
 * The records of /data, newest first, sortable and filterable. Only the rows in view (and a few
 * around them) are in the DOM, so 20,000 records cost the same to draw as 20; sorting and filtering
 * run over precomputed keys.
 */

const ROW_HEIGHT = 34;
const VIEW_HEIGHT = 544;
const OVERSCAN = 8;

type Outcome = 'success' | 'failed' | 'incident';

/** Authors come from the merged pull request a deployment shipped; a commit pushed straight to the branch has none. */
const DIRECT_PUSH_WHY =
  'No merged pull request leads to this change (pushed straight to the branch), so it has no author and no lead time';
const UNKNOWN_AUTHOR_WHY = 'The merged pull request of this change carries no author login';
const OUTCOME_TEXT: Record<Outcome, string> = {
  success: '✓ Success',
  failed: '✕ Failed',
  incident: '⚠ Incident',
};

interface Row {
  record: DeploymentRecord;
  outcome: Outcome;
  leadSeconds: number | null;
  search: string;
}

function toRow(record: DeploymentRecord): Row {
  const outcome: Outcome = !record.status ? 'failed' : record.failed_at !== null ? 'incident' : 'success';
  const leadSeconds =
    record.merged_at === null ? null : (Date.parse(record.created_at) - Date.parse(record.merged_at)) / 1000;
  const search = [record.repository, record.team, record.title, record.user, record.sha]
    .filter((text) => text !== null)
    .join('\n')
    .toLowerCase();
  return { record, outcome, leadSeconds, search };
}

type SortKey =
  | 'created_at'
  | 'repository'
  | 'team'
  | 'title'
  | 'user'
  | 'outcome'
  | 'failed_at'
  | 'fixed_at'
  | 'lead';
interface Column {
  key: SortKey;
  label: string;
  width: string;
}

const COLUMNS: Column[] = [
  { key: 'created_at', label: 'Deployed (UTC)', width: '10.5rem' },
  { key: 'repository', label: 'Repository', width: '9.5rem' },
  { key: 'team', label: 'Team', width: '7.5rem' },
  { key: 'title', label: 'Change', width: '13rem' },
  { key: 'user', label: 'Author', width: '6.5rem' },
  { key: 'outcome', label: 'Status', width: '6.5rem' },
  { key: 'failed_at', label: 'Failed (UTC)', width: '10.5rem' },
  { key: 'fixed_at', label: 'Fixed (UTC)', width: '10.5rem' },
  { key: 'lead', label: 'Lead time', width: '6rem' },
];

type Comparable = string | number | null;

function sortValue(row: Row, key: SortKey): Comparable {
  switch (key) {
    case 'outcome':
      return row.outcome;
    case 'lead':
      return row.leadSeconds;
    default:
      return row.record[key];
  }
}

function compare(a: Comparable, b: Comparable): number {
  // Empty cells last in either direction is handled by the caller; here plain order.
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

export type OutcomeFilter = 'all' | 'success' | 'failed' | 'open';

function keep(row: Row, outcome: OutcomeFilter, needle: string): boolean {
  if (outcome === 'success' && row.outcome !== 'success') return false;
  if (outcome === 'failed' && row.outcome === 'success') return false;
  if (outcome === 'open' && (row.outcome === 'success' || row.record.fixed_at !== null)) return false;
  return needle === '' || row.search.includes(needle);
}

function Links(props: { record: DeploymentRecord }) {
  const { record } = props;
  const links: Array<[string, string | null]> = [
    ['run', record.deploy_url],
    ['commit', record.change_url],
    ['incident', record.issue_url],
    ['fix', record.fixed_url],
  ];
  return (
    <>
      {links
        .filter((link): link is [string, string] => link[1] !== null)
        .map(([label, href]) => (
          <a key={label} href={href} rel="noreferrer noopener" target="_blank">
            {label}
          </a>
        ))}
    </>
  );
}

/**
 * `excludedAuthors`: the globs the summary applied; their changes' deployments are left out of the
 * table as they are out of the numbers, by the API's own matcher.
 */
export function DeploymentsTable(props: { records: DeploymentRecord[]; excludedAuthors: readonly string[] }) {
  const excludedKey = props.excludedAuthors.join(',');
  const { rows, hidden } = useMemo(() => {
    const isExcluded = authorMatcher(props.excludedAuthors);
    const all = props.records.map(toRow);
    const kept = all.filter((row) => !isExcluded(row.record.user));
    return { rows: kept, hidden: all.length - kept.length };
  }, [props.records, excludedKey]);
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: 'created_at',
    descending: true,
  });
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<OutcomeFilter>('all');
  const [scrollTop, setScrollTop] = useState(0);
  const scroller = useRef<HTMLElement>(null);

  const shown = useMemo(() => {
    const needle = text.trim().toLowerCase();
    const kept = rows.filter((row) => keep(row, outcome, needle));
    const direction = sort.descending ? -1 : 1;
    return kept.sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      return compare(x, y) * direction;
    });
  }, [rows, sort, text, outcome]);

  // A new order or filter starts at the top (a shorter list may end above where the view was).
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [shown]);

  useEffect(() => {
    if (performance.getEntriesByName('dora:deployments').length === 0) performance.mark('dora:deployments');
  }, [rows]);

  // Until the reset above lands, a shorter list is drawn at its end rather than not at all.
  const top = Math.min(scrollTop, Math.max(0, shown.length * ROW_HEIGHT - VIEW_HEIGHT));
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(shown.length, Math.ceil((top + VIEW_HEIGHT) / ROW_HEIGHT) + OVERSCAN);
  const failed = rows.filter((row) => row.outcome !== 'success').length;

  const toggle = (key: SortKey) =>
    setSort((current) =>
      current.key === key
        ? { key, descending: !current.descending }
        : { key, descending: key === 'created_at' },
    );

  return (
    <div class="deployments">
      <div class="table-tools">
        <label>
          Search{' '}
          <input
            type="search"
            value={text}
            placeholder="repository, team, change, author or sha"
            onInput={(event) => setText((event.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Status{' '}
          <select
            value={outcome}
            onChange={(event) =>
              setOutcome((event.currentTarget as HTMLSelectElement).value as OutcomeFilter)
            }
          >
            <option value="all">All</option>
            <option value="success">Healthy</option>
            <option value="failed">Failed or incident</option>
            <option value="open">Not fixed yet</option>
          </select>
        </label>
        <p class="count" aria-live="polite" data-testid="deployments-count">
          {shown.length.toLocaleString('en-GB')} of {rows.length.toLocaleString('en-GB')} deployments
          {failed > 0 ? ` (${failed.toLocaleString('en-GB')} failed or caused an incident)` : ''}
          {hidden > 0 ? `; ${hidden.toLocaleString('en-GB')} by left-out authors not shown` : ''}
        </p>
      </div>
      <section
        ref={scroller}
        class="table-scroll"
        style={{ maxHeight: `${VIEW_HEIGHT + ROW_HEIGHT + 4}px` }}
        onScroll={(event) => setScrollTop((event.currentTarget as HTMLElement).scrollTop)}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to scroll
        tabIndex={0}
        aria-label="Deployments table"
      >
        <table class="records" aria-rowcount={shown.length + 1}>
          <colgroup>
            {COLUMNS.map((column) => (
              <col key={column.key} style={{ width: column.width }} />
            ))}
            <col style={{ width: '10rem' }} />
          </colgroup>
          <thead>
            <tr>
              {COLUMNS.map((column) => {
                const active = sort.key === column.key;
                return (
                  <th
                    key={column.key}
                    scope="col"
                    aria-sort={active ? (sort.descending ? 'descending' : 'ascending') : 'none'}
                  >
                    <button type="button" class="sort" onClick={() => toggle(column.key)}>
                      {column.label}
                      <span aria-hidden="true">{active ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
                    </button>
                  </th>
                );
              })}
              <th scope="col">Links</th>
            </tr>
          </thead>
          <tbody>
            {first > 0 && <tr class="spacer" style={{ height: `${first * ROW_HEIGHT}px` }} />}
            {shown.slice(first, last).map((row, offset) => {
              const { record } = row;
              return (
                <tr
                  key={`${record.repository}:${record.sha}:${record.created_at}`}
                  aria-rowindex={first + offset + 2}
                >
                  <td>{dateTime(record.created_at)}</td>
                  <td title={record.repository}>{record.repository}</td>
                  <td title={record.team ?? ''}>{record.team ?? ''}</td>
                  <td class="title" title={record.title ?? ''}>
                    {record.title ?? <span class="muted">{record.sha.slice(0, 7)}</span>}
                  </td>
                  {record.user === null ? (
                    <td title={record.merged_at === null ? DIRECT_PUSH_WHY : UNKNOWN_AUTHOR_WHY}>
                      <span class="muted">{record.merged_at === null ? 'direct push' : 'unknown'}</span>
                    </td>
                  ) : (
                    <td title={record.user}>{record.user}</td>
                  )}
                  <td class={`outcome ${row.outcome}`}>{OUTCOME_TEXT[row.outcome]}</td>
                  <td>{dateTime(record.failed_at)}</td>
                  <td>
                    {record.failed_at !== null && record.fixed_at === null ? (
                      <em>not yet</em>
                    ) : (
                      dateTime(record.fixed_at)
                    )}
                  </td>
                  <td>{shortDuration(row.leadSeconds)}</td>
                  <td class="links">
                    <Links record={record} />
                  </td>
                </tr>
              );
            })}
            {last < shown.length && (
              <tr class="spacer" style={{ height: `${(shown.length - last) * ROW_HEIGHT}px` }} />
            )}
          </tbody>
        </table>
      </section>
    </div>
  );
}
