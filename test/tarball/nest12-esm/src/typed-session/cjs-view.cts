// A CommonJS file of the ESM app: its import resolves to the package's CommonJS declaration
// tree (dist/cjs/index.d.ts), which must see the augmentation made in the ESM file
// typed-session.ts: one SessionData for both trees, or the @ts-expect-error below is unused.
import type { Session } from 'nestjs-session-auth';

export function visitsOf(session: Session): number | undefined {
  return session.get('tarballVisits');
}

/** Never called: only compiled. */
export function mustNotCompile(session: Session): void {
  // @ts-expect-error tarballVisits is a number in either tree
  session.set('tarballVisits', 'many');
}
