import { Injectable } from '@nestjs/common';
import type { Session } from '../../core/session.js';
import { CredentialGuard } from './credential.guard.js';

/** Only a valid, logged-in session cookie (session and hybrid mode). */
@Injectable()
export class SessionGuard extends CredentialGuard {
  protected accepts(session: Session): boolean {
    return session.via === 'cookie';
  }
}
