/**
 * Jest + ts-jest in native ESM mode.
 * Run through `npm test` (sets NODE_OPTIONS=--experimental-vm-modules, which
 * jest needs to load ESM-only packages such as @nestjs/* 12).
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Source uses NodeNext-style `./foo.js` specifiers for `./foo.ts` files.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        useESM: true,
        tsconfig: '<rootDir>/tsconfig.json',
        // 151002: "hybrid module kind (NodeNext) only supported with
        // isolatedModules". Harmless here: ts-jest compiles with ESNext +
        // Bundler resolution in ESM mode. We keep the full language service
        // (isolatedModules: false) so decorator metadata / import elision
        // match tsc exactly. Note: in ESM mode ts-jest does NOT fail on type
        // errors; `npm run typecheck` is the type gate.
        diagnostics: { ignoreCodes: [151002] },
      },
    ],
  },
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  // test/tarball/ holds the fresh apps' sources: `npm run test:tarball` runs them from the tarball.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/tarball/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  testTimeout: 30000,
  // Most suites wait on their own redis-server, PostgreSQL, Chromium or child processes rather than
  // on the CPU: two workers halve the wall time on a 2-core CI machine.
  maxWorkers: 2,
};
