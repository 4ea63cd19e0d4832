import { Injectable } from '@nestjs/common';
import type { Session } from '../../core/session.js';
import { CredentialGuard } from './credential.guard.js';

/** Only a valid bearer access token in the Authorization header (jwt and hybrid mode). */
@Injectable()
export class JwtGuard extends CredentialGuard {
  protected accepts(session: Session): boolean {
    return session.via === 'bearer';
  }
}
