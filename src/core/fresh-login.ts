import { toSessionUser, userIdOf, type ValidateUser } from './auth-user.js';
import { InvalidSessionError } from './errors.js';
import type { Session } from './session.js';
import type { SessionStore } from './session-store.js';

/**
 * Fresh login for sensitive actions (OWASP Authentication cheat sheet, re-authentication):
 * a session remembers when its user last proved their password (`SessionRecord.passwordProof`,
 * set at login), a route can ask for a proof younger than a window, and the user renews it by
 * giving the password again, without a new login or a new session ID.
 */
export class PasswordProofs {
  constructor(
    private readonly store: SessionStore,
    private readonly validateUser: ValidateUser,
    private readonly userFields: readonly string[],
    private readonly clock: () => number,
    /** Reads the record of a session opened without one (a stateless bearer token). */
    private readonly load: (session: Session) => Promise<void>,
  ) {}

  /** Whether the session's user proved their password less than `windowMs` ago. */
  async isFresh(session: Session, windowMs: number): Promise<boolean> {
    await this.load(session);
    const at = session.record?.passwordProof?.at;
    return at !== undefined && this.clock() - at < windowMs;
  }

  /**
   * Checks `password` for the session's user through `validateUser`, under the username of the
   * login, and on success records a new proof. False for a wrong password, a session logged in
   * without a username, or a user that `validateUser` now answers with another id.
   */
  async confirm(session: Session, password: string): Promise<boolean> {
    await this.load(session);
    const { ref, record } = session;
    if (ref === null || record === null || record.userId === null) throw new InvalidSessionError('not-found');
    const username = record.passwordProof?.username ?? null;
    if (username === null) return false;
    const user = await this.validateUser(username, password);
    if (user === null || user === undefined || userIdOf(toSessionUser(user, this.userFields)) !== record.userId) return false;
    const proof = { at: this.clock(), username };
    if (!(await this.store.update(ref, { passwordProof: proof }))) throw new InvalidSessionError('not-found');
    record.passwordProof = proof;
    return true;
  }
}
