// Type tests for typed session data, checked by `npm run typecheck` (no runtime): each
// `@ts-expect-error` line must fail to compile, or tsc reports the directive as unused.
// test/types/session-data-types.e2e-spec.ts runs the same kind of checks through the
// TypeScript compiler API, so `npm test` proves them too.
import type { AuthService, Session } from '../../src/index.js';

interface Cart {
  items: string[];
  total: number;
}

// An app's augmentation, through the public barrel as an app writes it against the package name.
// The keys are unusual so that they change nothing for the rest of this program.
declare module '../../src/index.js' {
  interface SessionData {
    typeTestCart: Cart;
    typeTestTheme: 'light' | 'dark';
  }
}

declare const session: Session;

// Declared keys: typed reads.
const cart: Cart | undefined = session.get('typeTestCart');
// @ts-expect-error a declared key's value may be missing: undefined is part of its type
const sure: Cart = session.get('typeTestCart');
// @ts-expect-error the declared type, not another
const wrongRead: string | undefined = session.get('typeTestCart');

// Declared keys: typed writes.
session.set('typeTestCart', { items: ['sku-1'], total: 1 });
session.set('typeTestTheme', 'dark');
session.set('typeTestCart', undefined); // deletes
// @ts-expect-error a number is not a Cart
session.set('typeTestCart', 42);
// @ts-expect-error a Cart needs its total
session.set('typeTestCart', { items: [] });
// @ts-expect-error not one of the declared literals
session.set('typeTestTheme', 'blue');

// Undeclared keys: usable, values unknown until narrowed or asserted.
session.set('anything', { free: 'form' });
const other = session.get('anything');
// @ts-expect-error an undeclared key's value is unknown, not any
export const free = other.free;
const asserted: number | undefined = session.get<number>('counter');
// @ts-expect-error the assertion is explicit: it is not inferred from the assignment
const inferred: number | undefined = session.get('counter');

// A generic wrapper over get<T> still compiles, as before typed data.
export function readAs<T>(from: Session, key: string): T | undefined {
  return from.get<T>(key);
}

// A key only known at run time takes any value.
declare const dynamicKey: string;
session.set(dynamicKey, 1);

// toJSON carries the declared shape.
const whole = session.toJSON();
const theme: 'light' | 'dark' | undefined = whole.typeTestTheme;

// The session a lock hands over is typed alike.
declare const auth: AuthService;
const total: Promise<number | undefined> = auth.withSessionLock(session, 'cart', (locked) => locked.get('typeTestCart')?.total);

export const used = [cart, sure, wrongRead, asserted, inferred, theme, total];
