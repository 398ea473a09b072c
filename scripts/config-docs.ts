import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { environmentSchema } from '../lib/config';

/**
 * `npm run docs:config`: the rows of docs/configuration.md's tables from `environmentSchema`
 * (lib/config.ts): each setting's meaning is its `.describe()` text and its default the schema's plain
 * default (a number or a string). The page's own words stay: the headings and prose, the tables' order
 * and grouping, rows of settings read elsewhere (secrets, npm start's own), and the default cell of a
 * setting whose default is not plain (a list, a derived figure). `--check` changes nothing and exits 1
 * when the page is not what it would write.
 */

export const CONFIGURATION_PAGE = path.resolve(__dirname, '..', 'docs', 'configuration.md');
export const REGENERATE = 'npm run docs:config';

const ROW = /^\| `([A-Z][A-Z_0-9]*)` \| ([^|]*) \| (.*) \|$/;

type Shape = typeof environmentSchema.shape;

function field(name: string): Shape[keyof Shape] | undefined {
  return (environmentSchema.shape as Record<string, Shape[keyof Shape]>)[name];
}

/** The schema's default when it is a plain number or string, as the table writes it. */
function plainDefault(name: string): string | undefined {
  const schema = field(name);
  if (schema === undefined || schema.def.type !== 'default') return undefined;
  const value = (schema.def as { defaultValue?: unknown }).defaultValue;
  return typeof value === 'number' || typeof value === 'string' ? `\`${value}\`` : undefined;
}

export interface RenderedPage {
  text: string;
  /** Described settings with no row yet: a row must be added by hand to the table it belongs in. */
  missing: string[];
  /** The settings whose row changed. */
  changed: string[];
}

export function renderConfigurationPage(markdown: string): RenderedPage {
  const seen = new Set<string>();
  const changed: string[] = [];
  const text = markdown
    .split('\n')
    .map((line) => {
      const row = ROW.exec(line);
      if (!row) return line;
      const [, name = '', defaultCell = '', meaning = ''] = row;
      seen.add(name);
      const description = field(name)?.description;
      const rendered = `| \`${name}\` | ${plainDefault(name) ?? defaultCell.trim()} | ${description ?? meaning.trim()} |`;
      if (rendered !== line) changed.push(name);
      return rendered;
    })
    .join('\n');
  const missing = Object.keys(environmentSchema.shape).filter(
    (name) => field(name)?.description !== undefined && !seen.has(name),
  );
  return { text, missing, changed };
}

function main(): void {
  const check = process.argv.includes('--check');
  const current = readFileSync(CONFIGURATION_PAGE, 'utf8');
  const { text, missing, changed } = renderConfigurationPage(current);
  const page = path.relative(process.cwd(), CONFIGURATION_PAGE);
  for (const name of missing) {
    console.error(
      `${name} has no row in ${page}: add "| \`${name}\` | | |" to the table it belongs in, then run ${REGENERATE}`,
    );
  }
  if (check) {
    if (changed.length > 0) {
      console.error(`${page} is stale for ${changed.join(', ')}: run ${REGENERATE}`);
    }
    process.exitCode = changed.length > 0 || missing.length > 0 ? 1 : 0;
    return;
  }
  if (text !== current) writeFileSync(CONFIGURATION_PAGE, text);
  console.log(
    changed.length > 0 ? `${page}: rewrote the rows of ${changed.join(', ')}` : `${page} is up to date`,
  );
  if (missing.length > 0) process.exitCode = 1;
}

if (require.main === module) main();
