// `npm run test:loki`: the handlers against a real Grafana Loki (test/real-loki). One Loki serves every file,
// started (or found at LOKI_TEST_URL) once by the global setup; files run one at a time, since Loki's own
// work is what takes the time and two cores are all there is.
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  roots: ['<rootDir>/test/real-loki'],
  testPathIgnorePatterns: [],
  globalSetup: '<rootDir>/test/real-loki/global-setup.ts',
  globalTeardown: '<rootDir>/test/real-loki/global-teardown.ts',
  maxWorkers: 1,
  // A query over 90 days costs a real Loki 2-3 s whatever it returns; some tests send dozens.
  testTimeout: 180_000,
};
