#!/usr/bin/env node
// The package as its users get it: `npm pack`, then two fresh apps in a temporary directory
// install the tarball from the registry like any app would, compile, and run the auth flow on
// Express and Fastify:
//   nest11-cjs  NestJS 11 compiled to CommonJS (tsconfig as `nest new` writes it), its e2e test
//               in jest's default CommonJS mode with ts-jest and supertest;
//   nest12-esm  NestJS 12 in ESM, its e2e test in jest's ESM mode.
// Both apps are the one app in test/tarball/app/, written as a Nest 11 user writes it; the ESM
// copy gets the `.js` extensions that ESM needs on relative imports. Each app's own folder holds
// what differs: package.json, tsconfig, jest configuration. Each app also compiles every ```ts
// block of README.md, as pasted into it (so each app has the optional peers the README's snippets
// import: prom-client and @nestjs/terminus; the others, such as @opentelemetry/api, stay absent).
// Each app depends on test/tarball/esm-lib (file:), an ESM-only library that imports the
// package: loaded by require() and import(), it must see the app's own classes (the dual-package
// hazard). Each app also runs once with AUTH_MODE=jwt
// (bearer tokens, refresh, logout), on its Nest major's @nestjs/jwt.
// Both apps compile app/src/typed-session (a SessionData augmentation with @ts-expect-error
// lines: unused, they fail the build), and the ESM app a .cts file that sees it through the
// CommonJS declaration tree; their tests use nestjs-session-auth/testing.
//
// Environment: TARBALL_EXTRA_NODES (space-separated node binaries: the apps, installed once,
// also run under each), TARBALL_KEEP=1 (keep the temporary directory), npm_config_cache (the
// npm cache both apps share; default ~/.npm, so a second run installs from the cache).
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEMPLATES = join(ROOT, 'test', 'tarball');
const NODES = [process.execPath, ...(process.env.TARBALL_EXTRA_NODES ?? '').split(/\s+/).filter(Boolean)];

const APPS = [
  // npm's EBADENGINE notice is expected here on Node 20: @nestjs/common 12 depends on file-type,
  // which declares Node 22. In the Nest 11 app too since the README's Mercurius snippet needs
  // mercurius, whose @fastify/static 10 depends on content-disposition 3 (Node 22 declared).
  { name: 'nest11-cjs', esm: false, jwtAdapter: 'fastify', jest: ['--config', './test/jest-e2e.json'], nodeOptions: '', allowedWarnings: [/EBADENGINE/] },
  { name: 'nest12-esm', esm: true, jwtAdapter: 'express', jest: [], nodeOptions: '--experimental-vm-modules', allowedWarnings: [/EBADENGINE/] },
];

/** npm's notice about install scripts it has not been told to allow (npm 11), and its tail lines. */
const ALWAYS_ALLOWED_WARNINGS = [/install-scripts/, /^npm warn EBADENGINE\s+(package|required|current):/];

const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)}s`;

async function step(label, action) {
  const since = Date.now();
  process.stdout.write(`--> ${label}\n`);
  const result = await action();
  process.stdout.write(`    ok (${seconds(since)})\n`);
  return result;
}

function run(command, args, { cwd, env = {}, allowFailure = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 || allowFailure) resolve({ code, output });
      else reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${code}:\n${output.slice(-6000)}`));
    });
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** What the tarball must hold, and nothing else: README, LICENSE, both builds with their types (and the PostgreSQL store's SQL migration). */
function checkFileList(files) {
  const required = [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/index.mjs',
    'dist/index.cjs',
    'dist/index.js',
    'dist/testing.mjs',
    'dist/testing.cjs',
    'dist/testing/index.d.ts',
    'dist/cjs/testing/index.d.ts',
    'dist/index.d.ts',
    'dist/cjs/index.js',
    'dist/cjs/index.d.ts',
    'dist/cjs/package.json',
    'dist/stores/postgres/migrations/001_sessions.sql',
    'dist/cjs/stores/postgres/migrations/001_sessions.sql',
  ];
  const missing = required.filter((file) => !files.includes(file));
  check(missing.length === 0, `the tarball lacks ${missing.join(', ')}`);
  const allowed = /^(LICENSE|README\.md|package\.json|dist\/(index|testing)\.(mjs|cjs)|dist\/cjs\/package\.json|dist\/(cjs\/)?[\w/.-]+\.(js|d\.ts)|dist\/(cjs\/)?stores\/postgres\/migrations\/\d+_\w+\.sql)$/;
  const unexpected = files.filter((file) => !allowed.test(file) || /(^|\/)demo\/|\.map$|^src\/|^test\//.test(file));
  check(unexpected.length === 0, `the tarball holds files it should not: ${unexpected.join(', ')}`);
  for (const build of ['dist/', 'dist/cjs/']) {
    const js = files.filter((file) => file.startsWith(build) && file.slice(build.length).includes('/') && file.endsWith('.js'));
    const withoutTypes = js.filter((file) => !files.includes(file.replace(/\.js$/, '.d.ts')));
    check(js.length > 10 && withoutTypes.length === 0, `${build}: ${js.length} modules, without types: ${withoutTypes.join(', ')}`);
  }
}

/** Relative specifiers get the `.js` extension that ESM needs; nothing else changes. */
const toEsmSpecifiers = (code) => code.replace(/(from '\.{1,2}\/[^']+)'/g, "$1.js'");

/** The shared app source, into an app's folder. */
async function writeAppSource(app, appDir) {
  await cp(join(TEMPLATES, 'app'), appDir, { recursive: true });
  if (!app.esm) return;
  const files = (await readdir(appDir, { recursive: true })).filter((file) => file.endsWith('.ts'));
  for (const file of files) {
    await writeFile(join(appDir, file), toEsmSpecifiers(await readFile(join(appDir, file), 'utf8')));
  }
}

/**
 * Every ```ts block of the README, as pasted into the app: a test (one with `describe(`) into
 * test/, where jest runs it; any other block into src/, where the app's build compiles it. A
 * block without a single import cannot compile on its own, so it fails the check.
 */
async function writeReadmeSnippets(app, appDir) {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);
  check(blocks.length > 0, 'README.md has no ```ts blocks');
  await mkdir(join(appDir, 'src', 'readme'), { recursive: true });
  const counts = { compiled: 0, tests: 0 };
  for (const [index, code] of blocks.entries()) {
    // Every block must compile as pasted into a new app: one without imports cannot, so it fails here.
    check(/^import /m.test(code), `README.md \`\`\`ts block ${index + 1} has no import: make it a whole file that compiles as pasted`);
    const isTest = code.includes('describe(');
    counts[isTest ? 'tests' : 'compiled']++;
    const file = isTest ? join('test', `readme-${index + 1}.e2e-spec.ts`) : join('src', 'readme', `snippet-${index + 1}.ts`);
    await writeFile(join(appDir, file), app.esm ? toEsmSpecifiers(code) : code);
  }
  return counts;
}

function checkInstallWarnings(app, output) {
  const warnings = output.split('\n').filter((line) => /^npm warn/i.test(line));
  const allowed = [...ALWAYS_ALLOWED_WARNINGS, ...app.allowedWarnings];
  const unexpected = warnings.filter((line) => !allowed.some((pattern) => pattern.test(line)));
  check(unexpected.length === 0, `npm install in ${app.name} warned:\n${unexpected.join('\n')}`);
}

async function checkSingleCopies(appDir) {
  await run('npm', ['ls', '--all'], { cwd: appDir });
  for (const name of ['@nestjs/common', '@nestjs/core']) {
    const { output } = await run('npm', ['ls', name, '--all', '--parseable'], { cwd: appDir });
    const copies = new Set(output.split('\n').filter((line) => line.endsWith(name)));
    check(copies.size === 1, `${name} is installed ${copies.size} times:\n${[...copies].join('\n')}`);
  }
}

/**
 * require() and import() must give the very same classes, whichever build the app's Nest picks,
 * and so must an ESM-only dependency (esm-lib, which imports { AuthService, SessionModule } from
 * the package) whether the app require()s it (require(esm): no top-level await may be in its
 * graph) or import()s it: the dual-package hazard case. And they must be the build that matches
 * the app's Nest. Run from a CommonJS script and from an ES module script (where require is
 * createRequire's), each loading the package first by require.
 */
const ONE_INSTANCE_CHECK = `
  const names = ['SessionModule', 'AuthService', 'AuthenticatedGuard', 'SessionStore', 'JwtGuard'];
  const required = require('nestjs-session-auth');
  const testingRequired = require('nestjs-session-auth/testing');
  let libRequired;
  try {
    libRequired = require('esm-lib').fromLib;
  } catch (error) {
    console.error('require(esm-lib) failed: ' + (error.code ?? '') + ' ' + error.message);
    process.exit(1);
  }
  // The build the app's Nest calls for: the CommonJS one for Nest 11, the ESM one for Nest 12.
  const dist = require('node:path').join(process.cwd(), 'node_modules', 'nestjs-session-auth', 'dist');
  const build = process.env.EXPECTED_BUILD === 'esm'
    ? import(require('node:url').pathToFileURL(require('node:path').join(dist, 'index.js')).href)
    : Promise.resolve(require(require('node:path').join(dist, 'cjs', 'index.js')));
  const testingBuild = process.env.EXPECTED_BUILD === 'esm'
    ? import(require('node:url').pathToFileURL(require('node:path').join(dist, 'testing', 'index.js')).href)
    : Promise.resolve(require(require('node:path').join(dist, 'cjs', 'testing', 'index.js')));
  Promise.all([import('nestjs-session-auth'), import('esm-lib'), build, import('nestjs-session-auth/testing'), testingBuild]).then(([imported, { fromLib: libImported }, expected, testingImported, testingExpected]) => {
    const differing = [
      // The testing subpath: one SessionTesting, from the build the main entry hands out.
      ...(testingRequired.SessionTesting !== undefined && testingRequired.SessionTesting === testingImported.SessionTesting ? [] : ['SessionTesting (require vs import)']),
      ...(testingRequired.SessionTesting === testingExpected.SessionTesting ? [] : ['SessionTesting (not from the ' + process.env.EXPECTED_BUILD + ' build)']),
      ...names.filter((name) => required[name] !== expected[name]).map((name) => name + ' (not from the ' + process.env.EXPECTED_BUILD + ' build)'),
      ...names.filter((name) => required[name] === undefined || required[name] !== imported[name]).map((name) => name + ' (require vs import)'),
      ...['AuthService', 'SessionModule'].flatMap((name) => [
        ...(libRequired[name] === required[name] ? [] : [name + ' (esm-lib by require vs the package by require)']),
        ...(libImported[name] === required[name] ? [] : [name + ' (esm-lib by import vs the package by require)']),
      ]),
    ];
    if (differing.length > 0) { console.error('not one instance of the expected build: ' + differing.join(', ')); process.exit(1); }
  });`;

async function checkOneInstance(app, node, appDir, inputType) {
  const prelude = inputType === 'module' ? "import { createRequire } from 'node:module'; const require = createRequire(process.cwd() + '/');" : '';
  const env = { EXPECTED_BUILD: app.esm ? 'esm' : 'cjs' };
  await run(node, [`--input-type=${inputType}`, '-e', prelude + ONE_INSTANCE_CHECK], { cwd: appDir, env });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function expectStatus(response, status, what) {
  const body = await response.text();
  check(response.status === status, `${what}: expected ${status}, got ${response.status} ${body}`);
  return body ? JSON.parse(body) : null;
}

/** login → authenticated request → session data write → list sessions → logout, over HTTP. */
async function authFlow(base) {
  const json = { 'Content-Type': 'application/json' };
  await expectStatus(await fetch(`${base}/profile`), 401, 'GET /profile before login');
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
  });
  await expectStatus(login, 200, 'POST /auth/login');
  const cookie = login.headers.getSetCookie()[0].split(';')[0];
  const authed = { Cookie: cookie };
  const me = await expectStatus(await fetch(`${base}/profile`, { headers: authed }), 200, 'GET /profile');
  check(me.id === 'u-alice', `GET /profile answered ${JSON.stringify(me)}`);
  const put = await fetch(`${base}/profile/note`, { method: 'PUT', headers: { ...authed, ...json }, body: '{"note":"from the tarball"}' });
  await expectStatus(put, 200, 'PUT /profile/note');
  const note = await expectStatus(await fetch(`${base}/profile/note`, { headers: authed }), 200, 'GET /profile/note');
  check(note.note === 'from the tarball', `the session lost its data: ${JSON.stringify(note)}`);
  const sessions = await expectStatus(await fetch(`${base}/auth/sessions`, { headers: authed }), 200, 'GET /auth/sessions');
  check(sessions.length === 1 && sessions[0].current === true, `GET /auth/sessions answered ${JSON.stringify(sessions)}`);
  await expectStatus(await fetch(`${base}/auth/logout`, { method: 'POST', headers: authed }), 204, 'POST /auth/logout');
  await expectStatus(await fetch(`${base}/profile`, { headers: authed }), 401, 'GET /profile after logout');
}

/** AUTH_MODE=jwt: login → bearer request → refresh → bearer request with the new token → logout. */
async function jwtFlow(base) {
  const json = { 'Content-Type': 'application/json' };
  const login = await fetch(`${base}/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username: 'alice', password: 'alice-password' }),
  });
  const tokens = await expectStatus(login, 200, 'POST /auth/login (jwt)');
  check(login.headers.getSetCookie().length === 0, `jwt mode set a cookie: ${login.headers.getSetCookie()}`);
  check(tokens.tokenType === 'Bearer' && tokens.accessToken && tokens.refreshToken, `POST /auth/login (jwt) answered ${JSON.stringify(tokens)}`);
  const bearer = (token) => ({ Authorization: `Bearer ${token}` });
  const me = await expectStatus(await fetch(`${base}/profile`, { headers: bearer(tokens.accessToken) }), 200, 'GET /profile (bearer)');
  check(me.id === 'u-alice', `GET /profile (bearer) answered ${JSON.stringify(me)}`);
  const refresh = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: json, body: JSON.stringify({ refreshToken: tokens.refreshToken }) });
  const renewed = await expectStatus(refresh, 200, 'POST /auth/refresh');
  check(renewed.accessToken && renewed.refreshToken && renewed.refreshToken !== tokens.refreshToken, `POST /auth/refresh answered ${JSON.stringify(renewed)}`);
  await expectStatus(await fetch(`${base}/profile`, { headers: bearer(renewed.accessToken) }), 200, 'GET /profile (refreshed bearer)');
  const logout = await fetch(`${base}/auth/logout`, {
    method: 'POST',
    headers: { ...bearer(renewed.accessToken), ...json },
    body: JSON.stringify({ refreshToken: renewed.refreshToken }),
  });
  await expectStatus(logout, 204, 'POST /auth/logout (bearer)');
  await expectStatus(await fetch(`${base}/profile`, { headers: bearer(renewed.accessToken) }), 401, 'GET /profile (bearer) after logout');
  const again = await fetch(`${base}/auth/refresh`, { method: 'POST', headers: json, body: JSON.stringify({ refreshToken: renewed.refreshToken }) });
  await expectStatus(again, 401, 'POST /auth/refresh after logout');
}

/** Starts the compiled app (`node dist/main.js`) and runs the flow against it. */
async function runCompiledApp(node, appDir, adapter, mode = 'session') {
  const port = await freePort();
  const child = spawn(node, ['dist/main.js'], {
    cwd: appDir,
    env: { ...process.env, ADAPTER: adapter, AUTH_MODE: mode, PORT: String(port), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 30_000;
    while (!output.includes('listening on')) {
      check(child.exitCode === null, `the app exited with ${child.exitCode}:\n${output}`);
      check(Date.now() < deadline, `the app did not start in 30 s:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await (mode === 'jwt' ? jwtFlow : authFlow)(`http://127.0.0.1:${port}`);
  } catch (error) {
    error.message += `\napp output:\n${output.slice(-4000)}`;
    throw error;
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function main() {
  const work = await mkdtemp(join(tmpdir(), 'nestjs-session-auth-tarball-'));
  process.stdout.write(`tarball apps in ${work}; node ${NODES.join(', ')}\n`);
  try {
    await step('npm pack (its prepack script builds dist/, as npm publish would)', async () => {
      const { output } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT });
      const [{ filename }] = JSON.parse(output.slice(output.indexOf('[')));
      await rename(join(work, filename), join(work, 'nestjs-session-auth.tgz'));
    });
    await step('npm pack --dry-run: the file list', async () => {
      const { output } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
      const files = JSON.parse(output.slice(output.indexOf('['))).at(0).files.map((file) => file.path);
      checkFileList(files);
      process.stdout.write(`    ${files.length} files\n`);
    });
    for (const app of APPS) {
      const appDir = join(work, app.name);
      await writeAppSource(app, appDir);
      await cp(join(TEMPLATES, app.name), appDir, { recursive: true });
      await cp(join(TEMPLATES, 'esm-lib'), join(appDir, 'esm-lib'), { recursive: true });
      const snippets = await writeReadmeSnippets(app, appDir);
      await step(`${app.name}: npm install (the tarball and the registry)`, async () => {
        const { output } = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: appDir });
        checkInstallWarnings(app, output);
      });
      await step(`${app.name}: npm ls: no peer conflict, one @nestjs/common and @nestjs/core`, () => checkSingleCopies(appDir));
      await step(`${app.name}: npm run build (tsc, with ${snippets.compiled} README snippets; ${snippets.tests} README tests for jest)`, () => run('npm', ['run', 'build'], { cwd: appDir }));
      for (const node of NODES) {
        const { output: version } = await run(node, ['--version']);
        const on = `on node ${version.trim()}`;
        for (const inputType of ['commonjs', 'module']) {
          await step(`${app.name} ${on}: one instance from a ${inputType} script: the package and esm-lib, by require() and import(), are the ${app.esm ? 'ESM' : 'CommonJS'} build`, () =>
            checkOneInstance(app, node, appDir, inputType),
          );
        }
        for (const adapter of ['express', 'fastify']) {
          await step(`${app.name} ${on}: node dist/main.js over ${adapter}: the auth flow`, () => runCompiledApp(node, appDir, adapter));
        }
        await step(`${app.name} ${on}: node dist/main.js over ${app.jwtAdapter}, AUTH_MODE=jwt: login, bearer, refresh, logout`, () =>
          runCompiledApp(node, appDir, app.jwtAdapter, 'jwt'),
        );
        await step(`${app.name} ${on}: its jest e2e tests (supertest, express and fastify; the README's)`, async () => {
          const { output } = await run(node, ['node_modules/jest/bin/jest.js', ...app.jest], {
            cwd: appDir,
            env: { NODE_OPTIONS: app.nodeOptions },
          });
          const summary = output.split('\n').filter((line) => /^Test(s| Suites):/.test(line));
          check(/Test Suites: 2 passed, 2 total/.test(output), `jest did not run both suites:\n${output.slice(-3000)}`);
          process.stdout.write(summary.map((line) => `    ${line}\n`).join(''));
        });
      }
    }
    process.stdout.write(`tarball apps passed in ${seconds(started)}\n`);
  } finally {
    if (process.env.TARBALL_KEEP === '1') process.stdout.write(`kept ${work}\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`tarball apps failed after ${seconds(started)}:\n${error.stack ?? error}\n`);
  process.exit(1);
});
