import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fencesOf, PAGES, ROOT } from './shell-commands';

/** The headings of a page outside its fenced blocks, with their level. */
function headingsOf(page: string): { level: number; text: string }[] {
  const markdown = readFileSync(path.join(ROOT, page), 'utf8');
  const fenced = new Set<number>();
  for (const fence of fencesOf(page, markdown)) {
    const lines = fence.body.split('\n').length;
    for (let line = fence.line; line <= fence.line + lines + 1; line += 1) fenced.add(line);
  }
  return markdown.split('\n').flatMap((line, index) => {
    const heading = !fenced.has(index + 1) && /^(#{1,6}) (.*)$/.exec(line);
    return heading ? [{ level: (heading[1] ?? '').length, text: (heading[2] ?? '').trim() }] : [];
  });
}

describe.each(PAGES)('%s', (page) => {
  const headings = headingsOf(page);

  it('has one title', () => {
    expect(headings.filter((h) => h.level === 1)).toHaveLength(1);
  });

  it('does not repeat its title as a section heading', () => {
    const title = headings.find((h) => h.level === 1)?.text.toLowerCase();

    expect(headings.filter((h) => h.level > 1 && h.text.toLowerCase() === title)).toEqual([]);
  });

  it('does not skip a heading level under its title', () => {
    const skips = headings.filter((h, i) => i > 0 && h.level > (headings[i - 1]?.level ?? 1) + 1);

    expect(skips).toEqual([]);
  });
});
