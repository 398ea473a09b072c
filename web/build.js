// Builds the dashboard page (web/src) into one HTML document with its script and styles inline, for
// lib/dashboard to serve. CommonJS so that serverless-esbuild can load the plugin below from serverless.yml
// (custom.esbuild.plugins): `serverless package`, `serverless offline` (npm start) and `serverless invoke
// local` all build the page the same way, when they bundle functions/dashboard.ts.
const { createHash } = require('node:crypto');
const path = require('node:path');
const esbuild = require('esbuild');

const ENTRY = path.join(__dirname, 'src', 'main.tsx');
/** The import lib/dashboard/page.ts makes; resolved by the plugin (and by jest's moduleNameMapper). */
const MODULE_NAME = 'dora-dashboard-page';

const OPTIONS = {
  entryPoints: [ENTRY],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome111', 'firefox115', 'safari16.4'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: 'out',
  write: false,
  metafile: true,
  legalComments: 'none',
  logLevel: 'silent',
  tsconfig: path.join(__dirname, 'tsconfig.json'),
};

function sha256(text) {
  return createHash('sha256').update(text).digest('base64');
}

/** `</script` or `</style` inside the inline code would end the element early. */
function inline(code, tag) {
  return code.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

function page(result) {
  const js = result.outputFiles.find((file) => file.path.endsWith('.js'));
  const css = result.outputFiles.find((file) => file.path.endsWith('.css'));
  if (!js || !css) throw new Error('the dashboard build made no .js or no .css');
  const script = inline(js.text, 'script');
  const style = inline(css.text, 'style');
  // The page may run only its own inline code and talk only to its own origin: no CDN, no other host.
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${sha256(script)}'`,
    `style-src 'sha256-${sha256(style)}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html =
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    '<meta name="color-scheme" content="light dark"><title>DORA metrics</title>' +
    // No favicon request: the API has no such route.
    '<link rel="icon" href="data:,">' +
    `<style>${style}</style></head><body>` +
    '<div id="app"><header class="page-head"><h1>DORA metrics</h1></header><main><p class="loading">Loading…</p></main></div>' +
    `<script>${script}</script></body></html>`;
  return {
    html,
    csp,
    etag: `"${sha256(html).slice(0, 27)}"`,
    inputs: Object.keys(result.metafile.inputs).map((input) => path.resolve(input)),
  };
}

/** The page, built now (async; for the plugin and scripts). */
async function buildPage() {
  return page(await esbuild.build(OPTIONS));
}

/** The same, synchronously (jest maps MODULE_NAME to web/page-module.js, which calls this). */
function buildPageSync() {
  return page(esbuild.buildSync(OPTIONS));
}

/** The esbuild plugin that turns `import page from 'dora-dashboard-page'` into the built page. */
const dashboardPagePlugin = {
  name: 'dora-dashboard-page',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^${MODULE_NAME}$`) }, () => ({
      path: MODULE_NAME,
      namespace: MODULE_NAME,
    }));
    build.onLoad({ filter: /.*/, namespace: MODULE_NAME }, async () => {
      const { html, csp, etag, inputs } = await buildPage();
      return { contents: JSON.stringify({ html, csp, etag }), loader: 'json', watchFiles: inputs };
    });
  },
};

module.exports = { buildPage, buildPageSync, dashboardPagePlugin, MODULE_NAME };
