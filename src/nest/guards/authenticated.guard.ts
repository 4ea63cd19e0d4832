import { Injectable } from '@nestjs/common';
import { SessionGuard } from './session.guard.js';

/**
 * Accepts whatever credential the configured mode allows. In `session` mode, the only mode of
 * this version, that is a session cookie, exactly as SessionGuard; code written against this
 * guard keeps working when bearer tokens are added.
 */
@Injectable()
export class AuthenticatedGuard extends SessionGuard {}
