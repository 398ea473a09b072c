/**
 * `npx tsx scripts/render-react-dora-charts.ts [--source=DIR] [--out=DIR]`: renders liatrio's react-dora-charts,
 * built from its own source, in headless Chromium against `npm start`, the way a dashboard uses it
 * (`fetchData` with a team, then the charts with the records it kept), and says per case how many records the
 * API sent, how many the library kept and whether any chart shows its "No Data" image. One case runs with
 * authentication on and the page's origin in CORS_ORIGINS, the token handed to the library's getAuthHeaderValue:
 * the browser's preflight and the cross-origin POST as a deployed dashboard makes them. A check by hand, not a
 * test: it needs the library's source (a git directory, by default ../.mirror/liatrio+react-dora-charts/repo),
 * the npm registry for its five run-time packages, and Debian's Chromium; none of their code is part of this
 * project. Exits non-zero when a case fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { sampleTeams } from '../lib/sample/generator';
import { startLocalServer } from '../test/helpers/local-server';
import { mintToken, TEST_JWT_SECRET } from '../test/security/tokens';

const ROOT = path.resolve(__dirname, '..');
const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, ...value] = arg.replace(/^--/, '').split('=');
    return [name ?? '', value.join('=')];
  }),
);
const SOURCE = path.resolve(
  args.get('source') || path.join(ROOT, '../.mirror/liatrio+react-dora-charts/repo'),
);
const OUT = path.resolve(args.get('out') || path.join(tmpdir(), 'react-dora-charts-render'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The run-time packages of react-dora-charts 1.1.8, at the versions of its package-lock.json. */
const PACKAGES = [
  'react@18.3.1',
  'react-dom@18.3.1',
  'recharts@2.12.7',
  'react-tooltip@5.28.0',
  'uuid@10.0.0',
];

const HARNESS = `
import React from 'react';
import { createRoot } from 'react-dom/client';
import { Board, DeploymentFrequencyGraph, ChangeLeadTimeGraph, ChangeFailureRateGraph, RecoverTimeGraph, fetchData } from './src/index';

const params = new URLSearchParams(location.search);
const props: any = { api: params.get('api'), daysToPull: Number(params.get('days') || 356) };
if (params.has('team')) props.team = params.get('team');
const token = params.get('token');
if (token) props.getAuthHeaderValue = async () => \`Bearer \${token}\`;
let sent = -1;
const realFetch = window.fetch.bind(window);
window.fetch = async (...a: any[]) => {
  const response = await realFetch(...(a as [any, any]));
  response.clone().json().then((body: any) => { sent = body.records ? body.records.length : -1; }, () => {});
  return response;
};
const end = new Date();
const start = new Date(end.getTime() - 90 * 86400000);
fetchData(props, (records: any[]) => {
  const charts = { data: records, graphStart: start, graphEnd: end, loading: false };
  createRoot(document.getElementById('root')!).render(
    <div style={{ width: 900 }}>
      <div style={{ height: 220 }}><Board {...charts} alwaysShowDetails /></div>
      <div style={{ height: 200 }}><DeploymentFrequencyGraph {...charts} /></div>
      <div style={{ height: 200 }}><ChangeLeadTimeGraph {...charts} /></div>
      <div style={{ height: 200 }}><ChangeFailureRateGraph {...charts} /></div>
      <div style={{ height: 200 }}><RecoverTimeGraph {...charts} /></div>
    </div>,
  );
  setTimeout(() => { (window as any).__result = { sent, kept: records.length }; }, 1500);
}, (error: any) => { (window as any).__result = { error: String(error) }; });
`;

async function prepare(): Promise<string> {
  const work = mkdtempSync(path.join(tmpdir(), 'react-dora-charts-'));
  execFileSync('sh', ['-c', `git --git-dir="${SOURCE}" archive HEAD src | tar -x -C "${work}"`]);
  writeFileSync(path.join(work, 'package.json'), '{"name":"react-dora-charts-harness","private":true}');
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--save-exact', ...PACKAGES],
    {
      cwd: work,
      stdio: 'ignore',
    },
  );
  writeFileSync(path.join(work, 'harness.tsx'), HARNESS);
  await build({
    entryPoints: [path.join(work, 'harness.tsx')],
    bundle: true,
    outfile: path.join(work, 'public', 'harness.js'),
    loader: { '.png': 'dataurl', '.module.css': 'local-css', '.css': 'css' },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  writeFileSync(
    path.join(work, 'public', 'index.html'),
    '<!doctype html><html><head><link rel="stylesheet" href="harness.css"></head><body><div id="root"></div><script src="harness.js"></script></body></html>',
  );
  return path.join(work, 'public');
}

function serveStatic(folder: string): Promise<{ url: string; close(): void }> {
  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.css': 'text/css',
  };
  const server = createServer((request, response) => {
    const name = path.basename(new URL(request.url ?? '/', 'http://x').pathname) || 'index.html';
    const file = path.join(folder, name);
    if (!existsSync(file)) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => server.close(),
      }),
    ),
  );
}

async function main(): Promise<void> {
  if (!existsSync(SOURCE)) {
    console.log(`No react-dora-charts source at ${SOURCE} (--source=DIR): nothing to render.`);
    return;
  }
  if (!existsSync(CHROMIUM))
    throw new Error(`No Chromium at ${CHROMIUM} (apt-get install chromium, or CHROMIUM_PATH)`);
  mkdirSync(OUT, { recursive: true });
  const platform = sampleTeams().find((team) => team.slug === 'platform-core');
  if (platform === undefined) throw new Error('npm start no longer generates Platform Core');
  const cases: Array<{ name: string; team?: string; days: number; token?: boolean }> = [
    { name: 'no-team', days: 356 },
    { name: 'team-empty', team: '', days: 356 },
    { name: 'team-slug', team: platform.slug, days: 356 },
    { name: 'team-name', team: platform.name, days: 356 },
    { name: 'days-731', days: 731 },
    { name: 'token-cors', team: platform.name, days: 356, token: true },
  ];

  const publicFolder = await prepare();
  const page = await serveStatic(publicFolder);
  // Authentication off, so CORS allows the page's origin (as for a public API); and authentication on, with the
  // page's origin the one CORS_ORIGINS allows, as a deployment serving a dashboard of another origin.
  const [api, protectedApi] = await Promise.all([
    startLocalServer({}),
    startLocalServer({ AUTH_JWT_SECRET: TEST_JWT_SECRET, CORS_ORIGINS: page.url }),
  ]);
  const token = await mintToken({ expiresIn: '1h' });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  let failed = false;
  try {
    for (const each of cases) {
      const tab = await browser.newPage({ viewport: { width: 960, height: 1100 } });
      const server = each.token ? protectedApi : api;
      const query = new URLSearchParams({ api: `${server.baseUrl}/data`, days: String(each.days) });
      if (each.team !== undefined) query.set('team', each.team);
      if (each.token) query.set('token', token);
      await tab.goto(`${page.url}/index.html?${query}`);
      await tab.waitForFunction(
        () => (globalThis as { __result?: unknown }).__result !== undefined,
        undefined,
        {
          timeout: 60_000,
        },
      );
      const result = (await tab.evaluate(() => (globalThis as { __result?: unknown }).__result)) as {
        sent?: number;
        kept?: number;
        error?: string;
      };
      const noData = await tab.locator('img[alt="No Data"]').count();
      const charts = await tab.locator('svg.recharts-surface').count();
      const screenshot = path.join(OUT, `${each.name}.png`);
      await tab.screenshot({ path: screenshot, fullPage: true });
      const ok =
        result.error === undefined && (result.sent ?? 0) > 0 && result.kept === result.sent && noData === 0;
      failed ||= !ok;
      console.log(
        `${ok ? 'ok  ' : 'FAIL'} ${each.name.padEnd(11)} team=${JSON.stringify(each.team)} daysToPull=${each.days}` +
          `${each.token ? ' (token, CORS_ORIGINS=page origin)' : ''}: ` +
          `API sent ${result.sent} records, library kept ${result.kept}, ${charts} charts drawn, ${noData} "No Data" ` +
          `${result.error ? `error ${result.error} ` : ''}(${screenshot})`,
      );
      await tab.close();
    }
  } finally {
    await browser.close();
    await Promise.all([api.kill(), protectedApi.kill()]);
    page.close();
    rmSync(path.dirname(publicFolder), { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
