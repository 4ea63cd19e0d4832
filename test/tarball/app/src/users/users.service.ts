import { Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { AuthUser } from 'nestjs-session-auth';

/** Stands in for the app's user table; a real one compares password hashes (argon2id, scrypt). */
@Injectable()
export class UsersService {
  private readonly users = new Map([['alice', { password: 'alice-password', user: { id: 'u-alice', roles: ['user'] } }]]);

  async checkPassword(username: string, password: string): Promise<AuthUser | null> {
    const account = this.users.get(username);
    if (!account || account.password.length !== password.length) return null;
    return timingSafeEqual(Buffer.from(account.password), Buffer.from(password)) ? account.user : null;
  }
}
