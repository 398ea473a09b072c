import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README.md, the front door', () => {
  it('stays short enough to read in five minutes (at most 12 kB)', () => {
    expect(statSync(path.join(ROOT, 'README.md')).size).toBeLessThanOrEqual(12 * 1024);
  });

  it.each(['CONTRIBUTING.md', 'SECURITY.md', 'CHANGELOG.md', 'LICENSE', 'docs/README.md'])(
    'links to %s',
    (file) => {
      expect(README).toContain(`](${file})`);
    },
  );
});
