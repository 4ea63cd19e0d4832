import type { AuthUser } from '../core/auth-user.js';
import { PasswordHasher } from '../core/passwords/index.js';

/**
 * The demo's two users. Demo only: real apps check their own user table. Passwords are hashed
 * with PasswordHasher (argon2id when @node-rs/argon2 is installed, else scrypt) when the demo
 * starts, and an unknown username costs a dummy verify, so response times do not reveal which
 * usernames exist.
 */
const DEMO_ACCOUNTS = [
  { username: 'alice', password: 'alice-demo-password', user: { id: 'u-alice', username: 'alice', roles: ['user'] } },
  { username: 'admin', password: 'admin-demo-password', user: { id: 'u-admin', username: 'admin', roles: ['admin'] } },
];

interface StoredAccount {
  hash: string;
  user: AuthUser;
}

export class DemoUsers {
  private constructor(
    private readonly hasher: PasswordHasher,
    private readonly accounts: Map<string, StoredAccount>,
  ) {}

  static async create(hasher?: PasswordHasher): Promise<DemoUsers> {
    const chosen = hasher ?? (await PasswordHasher.create());
    const accounts = new Map<string, StoredAccount>();
    for (const account of DEMO_ACCOUNTS) {
      accounts.set(account.username, { hash: await chosen.hash(account.password), user: account.user });
    }
    return new DemoUsers(chosen, accounts);
  }

  get count(): number {
    return this.accounts.size;
  }

  async validate(username: string, password: string): Promise<AuthUser | null> {
    const account = this.accounts.get(username);
    if (!account) return this.hasher.verifyDummy(password).then(() => null);
    return (await this.hasher.verify(account.hash, password)) ? account.user : null;
  }
}
