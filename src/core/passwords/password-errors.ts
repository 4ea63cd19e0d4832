import { SessionAuthError } from '../errors.js';

/** A PasswordHasher option is wrong (a parameter below the OWASP minimum, an unknown algorithm). Thrown when it is built. */
export class PasswordHasherConfigurationError extends SessionAuthError {
  constructor(
    readonly option: string,
    problem: string,
    fix: string,
  ) {
    super(`PasswordHasher option \`${option}\` ${problem}. ${fix}`);
  }
}

/**
 * A stored hash this hasher cannot check: not a PHC string, an algorithm it does not know, or
 * argon2id while the binding is not installed. A data or deployment problem, not a wrong password.
 */
export class UnsupportedPasswordHashError extends SessionAuthError {}
