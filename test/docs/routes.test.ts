import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { routes } from '../../lib/openapi/routes';

const ROOT = path.resolve(__dirname, '..', '..');
const PAGES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Every curl line in the pages' fenced blocks, with its path (after `$API`) and method. */
function curls(): { method: string; path: string }[] {
  const found: { method: string; path: string }[] = [];
  for (const page of PAGES) {
    const fences = readFileSync(path.join(ROOT, page), 'utf8').match(/^```[\s\S]*?^```/gm) ?? [];
    for (const line of fences.join('\n').split('\n')) {
      if (!/^\s*curl /.test(line)) continue;
      const target = /\$\{?API\}?(\/[^\s"'?|]*)/.exec(line);
      if (!target) continue;
      const method = /-X\s+([A-Z]+)/.exec(line)?.[1]?.toLowerCase() ?? 'get';
      found.push({ method, path: target[1] ?? '/' });
    }
  }
  return found;
}

describe('the docs show every route of the OpenAPI table', () => {
  const documented = curls();

  it.each(routes.map((r) => [r.method.toUpperCase(), r.path]))(
    '%s %s has a curl in README or docs',
    (method, route) => {
      expect(documented).toContainEqual({ method: method.toLowerCase(), path: route });
    },
  );
});
