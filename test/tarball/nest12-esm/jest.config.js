/** jest in native ESM mode (NODE_OPTIONS=--experimental-vm-modules), as an ESM-only Nest 12 needs. */
export default {
  testEnvironment: 'node',
  testRegex: '.e2e-spec.ts$',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
};
