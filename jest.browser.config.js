// The real-browser suite (`npm run test:browser`): Debian's Chromium driven by playwright-core against the
// API started as `npm start` starts it. Kept out of `npm test` so that stays quick and needs no browser.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/browser'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120_000,
  // One server and one browser for the whole suite; its cases run in order.
  maxWorkers: 1,
};
