// jest's stand-in for the `dora-dashboard-page` module the esbuild plugin provides (web/build.js).
const { buildPageSync } = require('./build');

const { html, csp, etag } = buildPageSync();
module.exports = { __esModule: true, default: { html, csp, etag } };
