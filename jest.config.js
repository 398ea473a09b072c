// ky, octokit, middy, p-limit and jose ship ESM only: swc turns them (and our TypeScript) into CommonJS for jest.
const esmOnly = ['ky', '@octokit', 'octokit', 'universal-user-agent', 'before-after-hook', 'bottleneck', '@middy', 'p-limit', 'yocto-queue', 'jose', 'fast-content-type-parse', 'json-with-bigint', 'lru-cache', 'content-type'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The real-browser and real-Loki suites have their own configs (jest.browser.config.js, `npm run test:browser`;
  // jest.loki.config.js, `npm run test:loki`).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/browser/', '<rootDir>/test/real-loki/'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // The dashboard page is built by an esbuild plugin when functions are bundled; in jest, by web/page-module.js.
  // @octokit/webhooks-methods exports only an `import` condition, which jest's CommonJS resolver does not take.
  moduleNameMapper: {
    '^dora-dashboard-page$': '<rootDir>/web/page-module.js',
    '^@octokit/webhooks-methods$': '<rootDir>/node_modules/@octokit/webhooks-methods/dist-node/index.js',
  },
  setupFiles: ['<rootDir>/test/helpers/setup.ts'],
  testTimeout: 20000,
};
