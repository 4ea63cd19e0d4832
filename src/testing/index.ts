// `nestjs-session-auth/testing`: helpers for an app's own tests, kept out of the main entry.
export { SessionTesting, type TestLogin, type TestLoginOptions } from './session-testing.js';
