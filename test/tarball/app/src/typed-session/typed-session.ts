// Typed session data as an app declares it: the augmentation must reach the package's types
// (CommonJS tree in the Nest 11 app, ESM tree in the Nest 12 one), or the @ts-expect-error
// below is unused and the app's build fails.
import { Session } from 'nestjs-session-auth';

declare module 'nestjs-session-auth' {
  interface SessionData {
    tarballVisits: number;
  }
}

export function countVisit(session: Session): number {
  const visits = (session.get('tarballVisits') ?? 0) + 1;
  session.set('tarballVisits', visits);
  return visits;
}

/** Never called: only compiled. */
export function mustNotCompile(session: Session): void {
  // @ts-expect-error the augmentation types the key: a string is not a number
  session.set('tarballVisits', 'many');
}
