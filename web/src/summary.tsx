import { useEffect } from 'preact/hooks';
import { CATEGORIES, type MetricCategory, RECOVERY_ALIAS, VOCABULARY } from '../../lib/dora/vocabulary';
import { LEVEL_TITLES, METRIC_HELP, METRIC_TITLES, reading, trendText } from './format';
import { METRIC_NAMES, type MetricName, type Summary } from './types';

function basis(metric: MetricName, summary: Summary): string {
  const m = summary.metrics[metric];
  switch (metric) {
    case 'deployment_frequency':
      return `${m.count.toLocaleString('en-GB')} successful deployments`;
    case 'lead_time_for_changes':
      return `over ${m.count.toLocaleString('en-GB')} changes`;
    case 'change_failure_rate':
      return `${(m.failed ?? 0).toLocaleString('en-GB')} of ${m.count.toLocaleString('en-GB')} deployments`;
    case 'time_to_restore_service':
      return `over ${m.count.toLocaleString('en-GB')} restored failures${m.open ? `, ${m.open} still open` : ''}`;
    case 'rework_rate':
      return `of ${m.count.toLocaleString('en-GB')} deployments`;
  }
}

/** DORA's two groups, in DORA's order, under the API's metric names (recovery time is throughput). */
const GROUPS: Array<{ category: MetricCategory; title: string; what: string }> = [
  { category: 'throughput', title: 'Throughput', what: 'how fast changes reach production and recover' },
  { category: 'instability', title: 'Instability', what: 'how often deployments go wrong' },
];

function metricsOf(category: MetricCategory): MetricName[] {
  return METRIC_NAMES.filter((metric) => VOCABULARY[metric].category === category).sort(
    (a, b) =>
      CATEGORIES[category].indexOf(a === 'time_to_restore_service' ? RECOVERY_ALIAS : a) -
      CATEGORIES[category].indexOf(b === 'time_to_restore_service' ? RECOVERY_ALIAS : b),
  );
}

export function SummaryCards(props: { summary: Summary; days: number }) {
  const { summary, days } = props;
  useEffect(() => {
    // The first meaningful paint: the browser suite reads this mark.
    if (performance.getEntriesByName('dora:summary').length === 0) performance.mark('dora:summary');
  }, [summary]);
  return (
    <div class="groups">
      {GROUPS.map((group) => (
        <section class="group" key={group.category} data-category={group.category} aria-label={group.title}>
          <h3 class="group-title">
            {group.title} <span class="muted">({group.what})</span>
          </h3>
          <MetricCards metrics={metricsOf(group.category)} summary={summary} days={days} />
        </section>
      ))}
    </div>
  );
}

function MetricCards(props: { metrics: MetricName[]; summary: Summary; days: number }) {
  const { summary, days } = props;
  return (
    <ul class="cards">
      {props.metrics.map((metric) => {
        const m = summary.metrics[metric];
        const { figure, unit } = reading(metric, m.value);
        const trendClass = m.improved === null ? 'trend' : m.improved ? 'trend better' : 'trend worse';
        return (
          <li class="card" key={metric} data-metric={metric}>
            <h4 title={VOCABULARY[metric].definition}>
              {METRIC_TITLES[metric]}{' '}
              <a
                class="definition"
                href={VOCABULARY[metric].definition_url}
                rel="noreferrer noopener"
                target="_blank"
                aria-label={`DORA's definition of ${METRIC_TITLES[metric].toLowerCase()}`}
              >
                ⓘ
              </a>
            </h4>
            <p class="figure">
              <span class="value" data-testid="value">
                {figure}
              </span>{' '}
              <span class="unit" data-testid="unit">
                {unit}
              </span>
            </p>
            <p class="help">
              {METRIC_HELP[metric]}, {basis(metric, summary)}
            </p>
            <p class="badges">
              {m.level === null ? (
                <span class="level none" data-testid="level">
                  No DORA level
                </span>
              ) : (
                <span class={`level ${m.level}`} data-testid="level">
                  {LEVEL_TITLES[m.level]}
                </span>
              )}
              <span class={trendClass} data-testid="trend">
                {trendText(metric, m, days)}
              </span>
            </p>
          </li>
        );
      })}
    </ul>
  );
}
