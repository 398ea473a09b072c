import { readFileSync } from 'node:fs';
import { CONFIGURATION_PAGE, REGENERATE, renderConfigurationPage } from '../../scripts/config-docs';

const PAGE = readFileSync(CONFIGURATION_PAGE, 'utf8');

describe('docs/configuration.md, generated from the descriptions of environmentSchema', () => {
  it(`is up to date (when this fails, run ${REGENERATE})`, () => {
    const { changed, missing } = renderConfigurationPage(PAGE);

    expect({ stale: changed, withoutRow: missing, fix: REGENERATE }).toEqual({
      stale: [],
      withoutRow: [],
      fix: REGENERATE,
    });
  });

  it("rewrites a row whose meaning or plain default differs from the schema's", () => {
    const edited = PAGE.replace(/^\| `PORT` \| `3000` \| .* \|$/m, '| `PORT` | `8080` | Some port. |');

    const rendered = renderConfigurationPage(edited);

    expect(rendered.changed).toEqual(['PORT']);
    expect(rendered.text).toBe(PAGE);
  });

  it('keeps rows the schema does not describe, as written', () => {
    const added = PAGE.replace(
      /^(\| `STATUS_TTL_HOURS` .*)$/m,
      '$1\n| `SOME_NEW_SETTING` | `7` | Written by hand before the schema has it. |',
    );

    const rendered = renderConfigurationPage(added);

    expect(rendered.changed).toEqual([]);
    expect(rendered.text).toBe(added);
  });

  it('names a described setting that has no row', () => {
    const removed = PAGE.replace(/^\| `STATUS_TTL_HOURS` .*\n/m, '');

    expect(renderConfigurationPage(removed).missing).toEqual(['STATUS_TTL_HOURS']);
  });
});
