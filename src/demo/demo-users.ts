import { randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto';
import type { AuthUser } from '../core/auth-user.js';

/**
 * The demo's two users. Demo only: real apps check their own user table. Passwords are hashed
 * with scrypt at the OWASP parameters (N=2^17, r=8, p=1) when the demo starts, and an unknown
 * username still costs one hash so response times do not reveal which usernames exist.
 */
const DEMO_ACCOUNTS = [
  { username: 'alice', password: 'alice-demo-password', user: { id: 'u-alice', username: 'alice', roles: ['user'] } },
  { username: 'admin', password: 'admin-demo-password', user: { id: 'u-admin', username: 'admin', roles: ['admin'] } },
];

const SCRYPT: ScryptOptions = { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 };
const KEY_LENGTH = 32;

interface StoredAccount {
  salt: Buffer;
  hash: Buffer;
  user: AuthUser;
}

function hash(password: BinaryLike, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, SCRYPT, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export class DemoUsers {
  private constructor(
    private readonly accounts: Map<string, StoredAccount>,
    private readonly decoy: StoredAccount,
  ) {}

  static async create(): Promise<DemoUsers> {
    const accounts = new Map<string, StoredAccount>();
    for (const account of DEMO_ACCOUNTS) {
      const salt = randomBytes(16);
      accounts.set(account.username, { salt, hash: await hash(account.password, salt), user: account.user });
    }
    const decoySalt = randomBytes(16);
    const decoy = { salt: decoySalt, hash: await hash(randomBytes(16), decoySalt), user: { id: 'decoy' } };
    return new DemoUsers(accounts, decoy);
  }

  get count(): number {
    return this.accounts.size;
  }

  async validate(username: string, password: string): Promise<AuthUser | null> {
    const account = this.accounts.get(username);
    const candidate = await hash(password, (account ?? this.decoy).salt);
    const matches = timingSafeEqual(candidate, (account ?? this.decoy).hash);
    return account && matches ? account.user : null;
  }
}
