import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The layers of lib/, as docs/development.md lists them (lowest first): a module imports from its own layer
 * or those below. Read from the page, so the rule and its documentation are one text.
 */

const ROOT = path.resolve(__dirname, '../..');
const LIB = path.join(ROOT, 'lib');

function documentedLayers(): string[][] {
  const page = readFileSync(path.join(ROOT, 'docs/development.md'), 'utf8');
  const section = /^## Layers\n([\s\S]*?)(?=^## )/m.exec(page)?.[1] ?? '';
  return section
    .split('\n')
    .filter((line) => /^\d+\. `/.test(line))
    .map((line) => [...(line.split(':')[0] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] as string));
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const full = path.join(directory, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

/** `lib/loki/client.ts` and `lib/loki/` are `loki`; `lib/config.ts` is `config`. */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(LIB, file).split(path.sep);
  return rest.length > 0 ? (first as string) : (first as string).replace(/\.tsx?$/, '');
}

/** Every relative import, re-export and dynamic import of a file that lands in lib/. */
function libImports(file: string): Array<{ target: string; line: number }> {
  const text = readFileSync(file, 'utf8');
  const found: Array<{ target: string; line: number }> = [];
  for (const match of text.matchAll(
    /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)'(\.[^']*)'/gm,
  )) {
    const target = path.resolve(path.dirname(file), match[1] as string);
    if (!target.startsWith(`${LIB}${path.sep}`)) continue;
    found.push({ target, line: text.slice(0, match.index).split('\n').length });
  }
  return found;
}

describe('the layers of lib/', () => {
  const layers = documentedLayers();
  const layerOf = new Map(layers.flatMap((units, index) => units.map((unit) => [unit, index] as const)));
  const files = sourceFiles(LIB);

  it('are listed in docs/development.md', () => {
    expect(layers.length).toBeGreaterThanOrEqual(5);
  });

  it('name every folder and module of lib/', () => {
    const units = [...new Set(files.map(unitOf))].sort();

    expect(units.filter((unit) => !layerOf.has(unit))).toEqual([]);
  });

  it('are never climbed by an import', () => {
    const climbing = files.flatMap((file) =>
      libImports(file)
        .filter(({ target }) => (layerOf.get(unitOf(target)) ?? -1) > (layerOf.get(unitOf(file)) ?? -1))
        .map(
          ({ target, line }) => `${path.relative(ROOT, file)}:${line} imports ${path.relative(ROOT, target)}`,
        ),
    );

    expect(climbing).toEqual([]);
  });
});
