import { Injectable } from '@nestjs/common';
import type { Session } from '../../core/session.js';
import { CredentialGuard } from './credential.guard.js';

/**
 * Whatever credential the configured mode allows: a session cookie in session mode, a bearer
 * token in jwt mode, either in hybrid mode.
 */
@Injectable()
export class AuthenticatedGuard extends CredentialGuard {
  protected accepts(session: Session): boolean {
    return session.via !== null;
  }
}
