import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { METRICS } from '../../lib/dora/metrics';
import { buildOpenApiDocument } from '../../lib/openapi/document';

/**
 * deploy/grafana/dora-dashboard.json asks the API for what the OpenAPI document says it answers: every
 * panel's and variable's URL, with Grafana's variables filled in as Grafana fills them, names a documented
 * GET route, only documented parameters, every required one, and values their schemas accept.
 */

interface Target {
  url: string;
  format?: string;
}
interface Panel {
  type: string;
  title: string;
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  options?: Array<{ value: string }>;
}
interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: Record<string, unknown>;
}
type Operation = { parameters?: Parameter[] };

const dashboard = JSON.parse(
  readFileSync(path.resolve(__dirname, '../../deploy/grafana/dora-dashboard.json'), 'utf8'),
) as { panels: Panel[]; templating: { list: Variable[] } };
const document = buildOpenApiDocument({ version: 'test' }) as {
  paths: Record<string, Record<string, Operation>>;
};
const ajv = new Ajv2020({ strict: false });
addFormats(ajv);

const API = 'https://dora-api.example.com';
const intervals = dashboard.templating.list.find((variable) => variable.name === 'interval')?.options ?? [];

/** The URL Grafana requests, for one choice of each variable (`All` is the empty value). */
function fill(
  url: string,
  choice: { team: string; repositories: string[]; interval: string; excludeAuthors?: string },
): URL {
  const values: Record<string, string> = {
    api: API,
    __from: String(Date.UTC(2026, 8, 1)),
    __to: String(Date.UTC(2026, 9, 1)),
    'team:percentencode': encodeURIComponent(choice.team),
    'repository:csv': choice.repositories.join(','),
    interval: choice.interval,
    'exclude_authors:percentencode': encodeURIComponent(choice.excludeAuthors ?? ''),
  };
  const text = url.replace(/\$\{([\w:]+)\}/g, (variable, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${variable} in ${url} is not a variable Grafana fills here`);
    return value;
  });
  return new URL(text);
}

function problems(url: URL): string[] {
  const operation = document.paths[url.pathname]?.get;
  if (!operation) return [`GET ${url.pathname} is not in the OpenAPI document`];
  const parameters = new Map(
    (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p]),
  );
  const found: string[] = [];
  // The API reads an empty value as absent (Grafana sends `team=` for "All").
  const given = [...url.searchParams].filter(([, value]) => value !== '');
  for (const [name, value] of given) {
    const parameter = parameters.get(name);
    if (!parameter) found.push(`${url.pathname}: ${name} is not a documented parameter`);
    else if (!ajv.validate(parameter.schema, value))
      found.push(`${url.pathname}: ${name}=${value} ${ajv.errorsText()}`);
  }
  for (const parameter of parameters.values()) {
    if (parameter.required && !given.some(([name]) => name === parameter.name)) {
      found.push(`${url.pathname}: required ${parameter.name} is missing`);
    }
  }
  return found;
}

const choices = [
  { team: '', repositories: [], interval: 'weekly' },
  {
    team: 'Platform Core',
    repositories: ['checkout-service', 'web'],
    interval: 'daily',
    excludeAuthors: '*[bot],renovate*',
  },
  ...intervals.map((option) => ({ team: 'tag-o11y', repositories: ['api'], interval: option.value })),
];

const panelUrls = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, url: target.url })),
);
const variableUrls = dashboard.templating.list
  .filter((variable) => variable.type === 'query')
  .map((variable) => ({
    where: `variable ${variable.name}`,
    url: (variable.query as { infinityQuery: { url: string } }).infinityQuery.url,
  }));

describe('deploy/grafana/dora-dashboard.json', () => {
  it.each([...panelUrls, ...variableUrls])('$where asks for a documented route and parameters', ({ url }) => {
    for (const choice of choices) expect(problems(fill(url, choice))).toEqual([]);
  });

  it('has a stat panel over the whole period (interval=all) and a time series for each metric', () => {
    const of = (type: string, interval: string) =>
      panelUrls
        .filter(({ where }) =>
          dashboard.panels.some((p) => p.type === type && where === `panel "${p.title}"`),
        )
        .map(({ url }) => fill(url, { ...choices[0], team: '', repositories: [], interval: 'weekly' }))
        .filter((url) => url.pathname === '/metrics' && url.searchParams.get('interval') === interval)
        .map((url) => url.searchParams.get('metric'));

    expect(of('stat', 'all').sort()).toEqual([...METRICS].sort());
    expect(of('timeseries', 'weekly').sort()).toEqual([...METRICS].sort());
  });

  it('sends the exclude_authors box to every metric, as typed (empty: nobody excluded)', () => {
    const box = dashboard.templating.list.find((variable) => variable.name === 'exclude_authors');
    const metricUrls = panelUrls
      .map(({ url }) =>
        fill(url, { team: '', repositories: [], interval: 'weekly', excludeAuthors: '*[bot],renovate*' }),
      )
      .filter((url) => url.pathname === '/metrics');

    expect(box).toMatchObject({ type: 'textbox', query: '' });
    expect(metricUrls.length).toBeGreaterThanOrEqual(METRICS.length * 2);
    for (const url of metricUrls) expect(url.searchParams.get('exclude_authors')).toBe('*[bot],renovate*');
  });

  it('has the GitOps table and team and repository variables', () => {
    expect(panelUrls.map(({ url }) => fill(url, choices[0] as (typeof choices)[0]).pathname)).toContain(
      '/status.json',
    );
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(
      expect.arrayContaining(['team', 'repository']),
    );
  });
});
