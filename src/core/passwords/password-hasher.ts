import { randomBytes } from 'node:crypto';
import { ARGON2_INSTALL_HINT, loadArgon2, type Argon2 } from './argon2-loader.js';
import { PasswordHasherConfigurationError, UnsupportedPasswordHashError } from './password-errors.js';
import { parsePhc } from './phc.js';
import { SCRYPT_MINIMUM, scryptHash, scryptParamsOf, scryptVerify, type ScryptParams } from './scrypt-hash.js';

export type PasswordAlgorithm = 'argon2id' | 'scrypt';

/** OWASP Password Storage Cheat Sheet, argon2id: m = 19 MiB, t = 2, p = 1. */
export const ARGON2ID_MINIMUM = { memoryKiB: 19_456, passes: 2 } as const;
/** argon2id as numbered by the binding (its `Algorithm` enum is a const enum, gone at run time). */
const ARGON2ID = 2;

export interface PasswordHasherOptions {
  /**
   * `'argon2id'` needs the optional peer `@node-rs/argon2`; `'scrypt'` uses node:crypto.
   * Default: argon2id when the binding is installed, else scrypt.
   */
  algorithm?: PasswordAlgorithm;
  /** argon2id cost. Default: `{ memoryKiB: 19456, passes: 2 }` (the OWASP minimum; lower is refused). Parallelism is 1. */
  argon2?: { memoryKiB?: number; passes?: number };
  /** scrypt cost as log2(N). Default: 17 (N = 2^17, the OWASP minimum; lower is refused), with r = 8, p = 1. */
  scrypt?: { logN?: number };
}

interface Argon2Params {
  memoryKiB: number;
  passes: number;
}

/**
 * Hashes and checks passwords in PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`,
 * `$scrypt$ln=17,r=8,p=1$…`), so stored hashes carry their parameters and can be upgraded at
 * the next login (`needsRehash`). Both algorithms run off the event loop. Build it with
 * `await PasswordHasher.create()`, which also prepares the decoy hash for `verifyDummy`.
 */
export class PasswordHasher {
  private decoy: Promise<string> | undefined;

  private constructor(
    readonly algorithm: PasswordAlgorithm,
    private readonly argon2: Argon2 | null,
    private readonly argon2Params: Argon2Params,
    private readonly scryptParams: ScryptParams,
  ) {}

  static async create(options: PasswordHasherOptions = {}): Promise<PasswordHasher> {
    const argon2Params = checkArgon2Options(options.argon2);
    const scryptParams = checkScryptOptions(options.scrypt);
    if (options.algorithm !== undefined && options.algorithm !== 'argon2id' && options.algorithm !== 'scrypt') {
      throw new PasswordHasherConfigurationError('algorithm', `is ${JSON.stringify(options.algorithm)}`, "Use 'argon2id' or 'scrypt'.");
    }
    const argon2 = await loadArgon2();
    if (options.algorithm === 'argon2id' && argon2 === null) {
      throw new PasswordHasherConfigurationError('algorithm', "is 'argon2id' but @node-rs/argon2 is not installed", ARGON2_INSTALL_HINT);
    }
    const algorithm = options.algorithm ?? (argon2 ? 'argon2id' : 'scrypt');
    const hasher = new PasswordHasher(algorithm, argon2, argon2Params, scryptParams);
    await hasher.decoyHash();
    return hasher;
  }

  /** A new PHC string for `password`, with a fresh random salt, in the configured algorithm. */
  async hash(password: string): Promise<string> {
    if (this.algorithm === 'argon2id') {
      const { memoryKiB, passes } = this.argon2Params;
      return this.argon2!.hash(password, { algorithm: ARGON2ID, memoryCost: memoryKiB, timeCost: passes, parallelism: 1 });
    }
    return scryptHash(password, this.scryptParams);
  }

  /**
   * Whether `password` matches `stored`, whichever of the two algorithms made it (a scrypt hash
   * still verifies after the app installs argon2). Throws UnsupportedPasswordHashError for a
   * string that is not such a hash: a broken row is not a wrong password.
   */
  async verify(stored: string, password: string): Promise<boolean> {
    const phc = parsePhc(stored);
    if (phc?.id === 'scrypt') {
      const params = scryptParamsOf(phc);
      if (params) return scryptVerify(phc, params, password);
    } else if (phc?.id === 'argon2id') {
      if (this.argon2 === null) {
        throw new UnsupportedPasswordHashError(`An argon2id hash cannot be verified: @node-rs/argon2 is not installed. ${ARGON2_INSTALL_HINT}`);
      }
      // The binding parses the string again and throws on what our parser let through.
      return this.argon2.verify(stored, password).catch((error: unknown) => {
        throw new UnsupportedPasswordHashError(`An argon2id hash could not be read: ${(error as Error).message}`, { cause: error });
      });
    }
    throw new UnsupportedPasswordHashError('Not an argon2id or scrypt PHC string; was the password stored by PasswordHasher?');
  }

  /**
   * Costs what a `verify` of a wrong password costs and answers false: call it when the username
   * is unknown, so the response time does not tell which usernames exist (ASVS 6.3.8).
   */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(await this.decoyHash(), password);
    return false;
  }

  /** True when `stored` was made with another algorithm or weaker parameters than this hasher's: hash the password again after a successful login. */
  needsRehash(stored: string): boolean {
    const phc = parsePhc(stored);
    if (phc === null || phc.id !== this.algorithm) return true;
    if (phc.id === 'scrypt') {
      const { ln, r, p } = this.scryptParams;
      return !(phc.params.ln >= ln && phc.params.r >= r && phc.params.p === p);
    }
    const { memoryKiB, passes } = this.argon2Params;
    return !(phc.version === 19 && phc.params.m >= memoryKiB && phc.params.t >= passes && phc.params.p === 1);
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= this.hash(randomBytes(18).toString('base64url'));
    return this.decoy;
  }
}

function checkArgon2Options(options: PasswordHasherOptions['argon2'] = {}): Argon2Params {
  const memoryKiB = options.memoryKiB ?? ARGON2ID_MINIMUM.memoryKiB;
  const passes = options.passes ?? ARGON2ID_MINIMUM.passes;
  if (!Number.isSafeInteger(memoryKiB) || memoryKiB < ARGON2ID_MINIMUM.memoryKiB || memoryKiB > 4 * 1024 * 1024) {
    throw new PasswordHasherConfigurationError('argon2.memoryKiB', `is ${memoryKiB}`, 'Use an integer from 19456 (19 MiB, the OWASP minimum) to 4194304.');
  }
  if (!Number.isSafeInteger(passes) || passes < ARGON2ID_MINIMUM.passes || passes > 100) {
    throw new PasswordHasherConfigurationError('argon2.passes', `is ${passes}`, 'Use an integer from 2 (the OWASP minimum) to 100.');
  }
  return { memoryKiB, passes };
}

function checkScryptOptions(options: PasswordHasherOptions['scrypt'] = {}): ScryptParams {
  const ln = options.logN ?? SCRYPT_MINIMUM.ln;
  if (!Number.isSafeInteger(ln) || ln < SCRYPT_MINIMUM.ln || ln > 20) {
    throw new PasswordHasherConfigurationError('scrypt.logN', `is ${ln}`, 'Use an integer from 17 (N = 2^17, the OWASP minimum) to 20.');
  }
  return { ln, r: SCRYPT_MINIMUM.r, p: SCRYPT_MINIMUM.p };
}
