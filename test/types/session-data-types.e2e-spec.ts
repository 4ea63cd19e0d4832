import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * Typed session data, proven by the compiler: a fixture that augments SessionData through the
 * public barrel is compiled with the project's tsconfig, and every line that ends in
 * `// error TSnnnn` must give exactly that diagnostic, every other line none. So a wrong type
 * that compiled, or a right one that stopped compiling, fails this test.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const FIXTURE = join(HERE, 'session-data.fixture.ts');

const FIXTURE_SOURCE = `import type { Session } from '../../src/index.js';

interface Cart { items: string[]; total: number }

declare module '../../src/index.js' {
  interface SessionData { fixtureCart: Cart; fixtureTheme: 'light' | 'dark' }
}

declare const session: Session;
export const cart: Cart | undefined = session.get('fixtureCart');
export const wrongRead: string | undefined = session.get('fixtureCart'); // error TS2322
session.set('fixtureCart', { items: ['sku-1'], total: 1 });
session.set('fixtureCart', 42); // error TS2345
session.set('fixtureCart', { items: [] }); // error TS2345
session.set('fixtureTheme', 'dark');
session.set('fixtureTheme', 'blue'); // error TS2345
session.set('fixtureCart', undefined);
session.set('undeclared', { any: 'value' });
export const unknownValue: { any: string } | undefined = session.get('undeclared'); // error TS2322
export const asserted: { any: string } | undefined = session.get<{ any: string }>('undeclared');
export const theme: 'light' | 'dark' | undefined = session.toJSON().fixtureTheme;
`;

interface LineDiagnostic {
  line: number;
  code: number;
}

function expectedDiagnostics(source: string): LineDiagnostic[] {
  return source
    .split('\n')
    .flatMap((text, index) => [...text.matchAll(/\/\/ error TS(\d+)/g)].map((match) => ({ line: index + 1, code: Number(match[1]) })));
}

function compileFixture(source: string): LineDiagnostic[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (!config) throw new Error('tsconfig.json could not be read');
  const options = { ...config.options, noEmit: true, incremental: false };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === FIXTURE ? source : readFile(file));
  host.fileExists = (file) => file === FIXTURE || fileExists(file);
  host.getSourceFile = (file, language, ...rest) =>
    file === FIXTURE ? ts.createSourceFile(file, source, language, true) : getSourceFile(file, language, ...rest);
  const program = ts.createProgram({ rootNames: [FIXTURE], options, host });
  const fixture = program.getSourceFile(FIXTURE)!;
  const global = program.getGlobalDiagnostics().map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  if (global.length > 0) throw new Error(`global diagnostics: ${global.join('; ')}`);
  return [...program.getSyntacticDiagnostics(fixture), ...program.getSemanticDiagnostics(fixture)].map((diagnostic) => ({
    line: fixture.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1,
    code: diagnostic.code,
  }));
}

const byLine = (a: LineDiagnostic, b: LineDiagnostic) => a.line - b.line || a.code - b.code;

describe('typed session data (TypeScript compiler)', () => {
  it('types the keys an app declares in SessionData: wrong values and wrong reads fail to compile, undeclared keys hold unknown', () => {
    const expected = expectedDiagnostics(FIXTURE_SOURCE);
    expect(expected).toHaveLength(5);
    expect(compileFixture(FIXTURE_SOURCE).sort(byLine)).toEqual(expected.sort(byLine));
  });
});
