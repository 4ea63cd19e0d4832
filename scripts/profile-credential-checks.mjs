// CPU per call of the two credential checks on the request path, on the built package (run
// `npm run build` first): a bearer access token (AccessTokens.verify, HS256) and a session cookie
// (SessionCookieCodec.decode + the SHA-256 of the token). `BEFORE=<dir>` also measures another
// build (e.g. a copy of main's dist), interleaved in the same process. Not a test.
//   node scripts/profile-credential-checks.mjs
import 'reflect-metadata';
import { JwtService } from '@nestjs/jwt';

const SECRET = 'profile-secret-that-is-at-least-32-characters-long';
const ROUNDS = 15;
const CALLS = 5000;

async function load(dir) {
  const at = (path) => import(new URL(`../${dir}/${path}`, import.meta.url).href);
  const [{ AccessTokens }, { JwtKeyRing }, { NestJwsEngine }, tokens] = await Promise.all([
    at('core/jwt/access-tokens.js'),
    at('core/jwt/jwt-keys.js'),
    at('nest/jws-engine.js'),
    at('core/session-token.js'),
  ]);
  return { AccessTokens, JwtKeyRing, NestJwsEngine, ...tokens };
}

const builds = { current: 'dist', ...(process.env.BEFORE && { before: process.env.BEFORE }) };
const cases = {};
for (const [label, dir] of Object.entries(builds)) {
  const build = await load(dir);
  const ring = new build.JwtKeyRing([{ kid: 'k1', alg: 'HS256', secret: SECRET }]);
  const accessTokens = new build.AccessTokens(ring, new build.NestJwsEngine(new JwtService({})), {
    issuer: 'https://issuer.test',
    audience: 'api',
    accessTokenTtlMs: 900_000,
  });
  const token = accessTokens.issue({ id: 'alice', roles: ['user'] }, `${'A'.repeat(12)}.${'B'.repeat(43)}`, Date.now() + 86_400_000).accessToken;
  cases[`access token, HS256 (${label})`] = () => accessTokens.verify(token);
  const codec = new build.SessionCookieCodec([SECRET]);
  const cookie = codec.encode(build.newSessionToken('A'.repeat(12)));
  cases[`session cookie + SHA-256 (${label})`] = () => build.refOf(codec.decode(cookie));
}

const samples = Object.fromEntries(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const before = process.cpuUsage();
    for (let call = 0; call < CALLS; call++) run();
    const used = process.cpuUsage(before);
    samples[name].push((used.user + used.system) / CALLS);
  }
}
const rows = Object.entries(samples).map(([name, values]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { check: name, 'µs/call (min)': sorted[0].toFixed(1), 'µs/call (median)': sorted[Math.floor(sorted.length / 2)].toFixed(1) };
});
console.log(`node ${process.version}, ${ROUNDS} interleaved rounds of ${CALLS} calls`);
console.table(rows);
