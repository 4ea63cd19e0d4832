// Writes the package's entry points next to the builds that `npm run build` compiled:
// dist/index.js (ESM) and dist/cjs/index.js (CommonJS), and likewise dist/testing.* for the
// `nestjs-session-auth/testing` subpath. See the comment in ENTRY_COMMENT.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

const ENTRY_COMMENT = `// One package, two module systems, one instance. Which build's classes an app gets depends only
// on the app's @nestjs/common, never on whether this file was reached by import or require: with
// a CommonJS Nest (11) both entries hand out the CommonJS build, with an ESM-only Nest (12) both
// hand out the ESM build. So an app gets one SessionModule, one AuthService token and one set of
// guards even when its own CommonJS code and an ESM dependency both load this package (no
// dual-package hazard).
//
// index.mjs has no top-level await: a graph with one cannot be require()d, and a CommonJS app
// does require() an ESM-only library that imports this package (ERR_REQUIRE_ASYNC_MODULE on
// Node 20.19+ and 22.12+). Nor does it require() the ESM build (require(esm)): jest's ESM mode,
// which a Nest 12 app's tests run in, cannot require an ES module before Node 24.9. So it
// imports the ESM build statically, and with a CommonJS Nest it exports the CommonJS build's
// values instead, taken with createRequire (the ESM build is then evaluated too, its classes
// unused: it links against Nest 11's CommonJS packages through their detected named exports).
// index.cjs requires the CommonJS build, or for Nest 12 the ESM build (require(esm)). jest's
// CommonJS mode with Nest 11 never meets an ES module: it takes index.cjs. Written by
// scripts/build-entries.mjs.`;

const NEST_IS_ESM = `function nestCommonIsEsm(require) {
  try {
    return require('@nestjs/common/package.json').type === 'module';
  } catch {
    return false;
  }
}`;

await writeFile(join(DIST, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');

// The two builds have two declaration trees (dist/index.d.ts for import, dist/cjs/index.d.ts for
// require), and an app's `declare module 'nestjs-session-auth' { interface SessionData ... }`
// merges into the one its own file resolves to. So that one augmentation types sessions in both
// trees (a .cts file next to .ts ones, a CommonJS dependency's types), the CommonJS tree's
// SessionData is the ESM tree's, re-exported: one interface. Type-only, so nothing runs.
const sessionDataTypes = [...(await readFile(join(DIST, 'core', 'session-data.d.ts'), 'utf8')).matchAll(/^export (?:interface|type) (\w+)/gm)].map(
  (match) => match[1],
);
if (!sessionDataTypes.includes('SessionData')) throw new Error('dist/core/session-data.d.ts declares no SessionData: run the ESM build first.');
await writeFile(
  join(DIST, 'cjs', 'core', 'session-data.d.ts'),
  `// The ESM tree's declarations, so that both trees share one SessionData (scripts/build-entries.mjs).
export type { ${sessionDataTypes.join(', ')} } from '../../core/session-data.js';
`,
);

/**
 * The package's entry points: `.` (dist/index.*) and `./testing` (dist/testing.*). Each picks
 * its build by the same rule, so the testing helpers get the very classes (SessionManager, DI
 * tokens) of the build the app's own SessionModule comes from.
 */
const ENTRIES = [
  { file: 'index', esmBuild: './index.js', cjsBuild: './cjs/index.js' },
  { file: 'testing', esmBuild: './testing/index.js', cjsBuild: './cjs/testing/index.js' },
];

for (const { file, esmBuild, cjsBuild } of ENTRIES) {
  const esm = await import(join(DIST, esmBuild));
  const names = Object.keys(esm).filter((name) => name !== 'default').sort();
  if (names.length === 0) throw new Error(`dist/${esmBuild.slice(2)} exports nothing: run the ESM build first.`);

  await writeFile(
    join(DIST, `${file}.cjs`),
    `'use strict';
${ENTRY_COMMENT}
${NEST_IS_ESM}

// require(esm) of the ESM build: Node 20.19+ and 22.12+, as @nestjs/common 12 itself needs.
module.exports = nestCommonIsEsm(require) ? require('${esmBuild}') : require('${cjsBuild}');
`,
  );

  await writeFile(
    join(DIST, `${file}.mjs`),
    `${ENTRY_COMMENT}
import { createRequire } from 'node:module';
import * as esm from '${esmBuild}';

${NEST_IS_ESM}

const require = createRequire(import.meta.url);
const build = nestCommonIsEsm(require) ? esm : require('${cjsBuild}');

export const {
${names.map((name) => `  ${name},`).join('\n')}
} = build;
`,
  );
  console.log(`dist/${file}.mjs and dist/${file}.cjs: ${names.length} exports`);
}

// The PostgreSQL store's migration as a .sql file in both builds, for those who run migrations
// themselves (the store runs the same text with `migrate: true`).
const migration = await import(join(DIST, 'stores', 'postgres', 'migrations', '001-sessions.js'));
for (const build of [DIST, join(DIST, 'cjs')]) {
  const folder = join(build, 'stores', 'postgres', 'migrations');
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, migration.MIGRATION_001_FILE), migration.MIGRATION_001_SQL);
}
console.log(`dist/stores/postgres/migrations/${migration.MIGRATION_001_FILE} (and under dist/cjs)`);
