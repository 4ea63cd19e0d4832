import { Inject, Injectable, Logger, type ExecutionContext, type OnApplicationShutdown } from '@nestjs/common';
import { userIdOf, type AuthUser } from '../../core/auth-user.js';
import { InvalidSessionError, SessionAuthError, SessionStoreUnavailableError } from '../../core/errors.js';
import { refusesCrossSite } from '../../core/cross-site.js';
import type { Session } from '../../core/session.js';
import type { RequestFacts } from '../../core/session-cookie.js';
import type { SessionEndChannel } from '../../core/session-end-channel.js';
import { SessionManager } from '../../core/session-manager.js';
import type { ResolvedSessionOptions } from '../../core/session-options.js';
import { SessionSockets } from '../../core/session-sockets.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';
import { SESSION_END_CHANNEL } from './session-end.providers.js';
import {
  closeSocket,
  CROSS_SITE_CLOSE_CODE,
  firstMessage,
  handshakeFacts,
  INTERNAL_ERROR_CLOSE_CODE,
  NO_RESPONSE,
  SESSION_CLOSE_CODE,
  tokenOfFirstMessage,
  TRY_AGAIN_LATER_CLOSE_CODE,
  type HandshakeRequest,
} from './socket-handshake.js';

/** How long a handshake without a credential may take to send `{"event":"authenticate"}`. */
const FIRST_MESSAGE_TIMEOUT_MS = 5_000;
/** An optional peer: named in a variable so that neither build resolves it at compile time. */
const WEBSOCKETS_PACKAGE = '@nestjs/websockets';

interface SocketState {
  /** Resolves once the handshake is checked: the user, or null when the socket was refused. */
  ready: Promise<AuthUser | null>;
  facts: RequestFacts | null;
  user: AuthUser | null;
}

const states = new WeakMap<object, SocketState>();
/**
 * The session the auth guard opened for the socket's latest message, for the message's
 * parameters. Keyed by socket: Nest gives guards and parameter decorators different argument
 * arrays, and every message of a socket has the same session (the handshake's credential).
 */
const messageSessions = new WeakMap<object, Session>();
const logger = new Logger('SessionSockets');

/**
 * The session side of WebSocket gateways. `connect(client, request)` in `handleConnection`
 * checks the handshake's credential (the session cookie, `Authorization: Bearer`, socket.io's
 * `handshake.auth.token`, or a first message `{"event":"authenticate","data":{"token"}}`), closes
 * the socket with 4401 when there is none, and from then on closes it with 4401 when its session
 * ends: logout, revocation, rotation, eviction (on every instance, through the SessionEndChannel)
 * or expiry. The auth guards and decorators then work on the gateway's messages, each message
 * checked against the store again.
 */
@Injectable()
export class SocketSessions implements OnApplicationShutdown {
  private readonly watched = new SessionSockets();
  private subscribed = false;
  /** Notices received so far, to spot one that arrived while a handshake's session was being read. */
  private notices = 0;

  constructor(
    @Inject(SessionManager) private readonly manager: SessionManager,
    @Inject(RESOLVED_SESSION_OPTIONS) private readonly options: ResolvedSessionOptions,
    @Inject(SESSION_END_CHANNEL) private readonly channel: SessionEndChannel,
  ) {}

  /**
   * Checks a new connection: the user, or null after closing it (4401 without a valid session,
   * 4403 for a cookie handshake from another site, 1013 when the store does not answer).
   * Call it first thing in `handleConnection(client, request)`; messages wait for it.
   */
  connect(client: object, request?: HandshakeRequest): Promise<AuthUser | null> {
    const existing = states.get(client);
    if (existing) return existing.ready;
    const state: SocketState = { ready: Promise.resolve(null), facts: null, user: null };
    // Never rejects: Nest does not await handleConnection, and an unhandled rejection would end the process.
    state.ready = this.accept(client, state, request ?? (client as { request?: HandshakeRequest }).request).catch((error: unknown) => {
      logger.error(`Refused a socket: ${(error as Error).message}`);
      closeSocket(client, INTERNAL_ERROR_CLOSE_CODE, 'internal error');
      return null;
    });
    states.set(client, state);
    return state.ready;
  }

  /** For the auth guards on a gateway message: the socket's session must still be valid and accepted. */
  async authorizeMessage(context: ExecutionContext, accepts: (session: Session) => boolean): Promise<boolean> {
    const client = context.switchToWs().getClient<object>();
    const state = states.get(client);
    if (!state) {
      logger.error('A guarded gateway message came from a socket SocketSessions never saw: call socketSessions.connect(client, request) in handleConnection.');
      throw await wsException('Unauthorized');
    }
    if ((await state.ready) === null || state.facts === null) throw await wsException('Unauthorized');
    let session: Session | null;
    try {
      session = await this.open(state.facts);
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError) throw await wsException('Sessions are temporarily unavailable; retry shortly.');
      throw error;
    }
    const user = session?.authenticatedUser ?? null;
    if (session === null || user === null || userIdOf(user) !== userIdOf(state.user!)) {
      closeSocket(client, SESSION_CLOSE_CODE, 'session ended');
      throw await wsException('Unauthorized');
    }
    if (!accepts(session)) throw await wsException('Unauthorized');
    state.user = user;
    messageSessions.set(client, session);
    return true;
  }

  /** For RolesGuard on a gateway message. */
  async authorizeRoles(context: ExecutionContext, required: string[]): Promise<boolean> {
    const user = SocketSessions.userOf(context);
    if (!user) throw await wsException('Unauthorized');
    if (!required.some((role) => user.roles?.includes(role))) throw await wsException('Forbidden');
    return true;
  }

  /** The user of a gateway message's socket, for `@CurrentUser()`. */
  static userOf(context: ExecutionContext): AuthUser | undefined {
    const session = messageSessions.get(context.switchToWs().getClient<object>());
    return session?.authenticatedUser ?? states.get(context.switchToWs().getClient<object>())?.user ?? undefined;
  }

  /** The session an auth guard opened for a gateway message, for `@CurrentSession()`. */
  static sessionOf(context: ExecutionContext): Session | undefined {
    return messageSessions.get(context.switchToWs().getClient<object>());
  }

  /** How many sockets are watched for the end of their session (for tests and metrics). */
  get watchedSockets(): number {
    return this.watched.size;
  }

  async onApplicationShutdown(): Promise<void> {
    this.watched.clear();
    await this.channel.close();
  }

  private async accept(client: object, state: SocketState, request: HandshakeRequest | undefined): Promise<AuthUser | null> {
    if (request === undefined) {
      throw new SessionAuthError('SocketSessions.connect needs the handshake request: pass handleConnection\'s second argument.');
    }
    const facts = handshakeFacts(request);
    const refuse = (code: number, reason: string) => {
      closeSocket(client, code, reason);
      return null;
    };
    // Cross-site WebSocket hijacking: a page elsewhere opening a socket with the visitor's cookies.
    if (facts.cookieHeader && facts.fetch && refusesCrossSite(this.options.csrf, { ...facts.fetch, method: 'POST' })) {
      return refuse(CROSS_SITE_CLOSE_CODE, 'cross-site');
    }
    if (!facts.cookieHeader && !facts.authorization) {
      const token = (client as { handshake?: { auth?: { token?: unknown } } }).handshake?.auth?.token;
      const given = typeof token === 'string' ? token : tokenOfFirstMessage(await firstMessage(client, FIRST_MESSAGE_TIMEOUT_MS));
      if (given === null) return refuse(SESSION_CLOSE_CODE, 'unauthorized');
      facts.authorization = `Bearer ${given}`;
    }
    try {
      await this.subscribe();
      const noticesBefore = this.notices;
      const session = await this.open(facts);
      const user = session?.authenticatedUser ?? null;
      if (session === null || user === null) return refuse(SESSION_CLOSE_CODE, 'unauthorized');
      Object.assign(state, { facts, user });
      const unwatch = this.watched.watch(this.watchedSocket(client, facts, session, userIdOf(user)), this.deadlineOf(session));
      (client as { once?: (event: string, listener: () => void) => void }).once?.('close', unwatch);
      (client as { once?: (event: string, listener: () => void) => void }).once?.('disconnect', unwatch);
      // A notice that arrived while the session was being read may be about it: check once more.
      if (this.notices !== noticesBefore) this.watched.onNotice({ userId: userIdOf(user), handles: 'all' });
      return user;
    } catch (error) {
      if (error instanceof SessionStoreUnavailableError) return refuse(TRY_AGAIN_LATER_CLOSE_CODE, 'sessions unavailable');
      throw error;
    }
  }

  private async subscribe(): Promise<void> {
    if (this.subscribed) return;
    await this.channel.subscribe((notice) => {
      this.notices += 1;
      this.watched.onNotice(notice);
    });
    this.subscribed = true;
  }

  /**
   * The session of a socket's credential, as the next message would see it, or null. A bearer
   * token is checked against its session record even with `revocation: 'stateless'`: a socket
   * outlives many access tokens' worth of requests.
   */
  private async open(facts: RequestFacts): Promise<Session | null> {
    const session = await this.manager.open(facts, NO_RESPONSE);
    if (session.authenticatedUser === null) return null;
    try {
      await this.manager.load(session);
    } catch (error) {
      if (error instanceof InvalidSessionError) return null;
      throw error;
    }
    return session;
  }

  private watchedSocket(client: object, facts: RequestFacts, session: Session, userId: string) {
    return {
      userId,
      handle: session.id,
      recheck: async () => {
        const current = await this.open(facts);
        const user = current?.authenticatedUser;
        return current && user && userIdOf(user) === userId ? this.deadlineOf(current) : null;
      },
      close: (reason: string) => closeSocket(client, SESSION_CLOSE_CODE, reason),
    };
  }

  /** When the session expires unless it is used: its idle deadline (the refresh token's, for a bearer), bounded by the absolute one. */
  private deadlineOf(session: Session): number {
    const record = session.record!;
    const idle = session.via === 'bearer' ? (record.refresh?.expiresAt ?? record.absoluteExpiresAt) : record.lastSeenAt + this.options.idleTimeoutMs;
    return Math.min(idle, record.absoluteExpiresAt);
  }
}

type WsExceptionClass = new (error: string | object) => Error;
let wsExceptionClass: WsExceptionClass | undefined;

/** A WsException: gateways exist only where @nestjs/websockets is installed, so it is loaded on first use. */
export async function wsException(message: string): Promise<Error> {
  wsExceptionClass ??= ((await import(WEBSOCKETS_PACKAGE)) as { WsException: WsExceptionClass }).WsException;
  return new wsExceptionClass(message);
}
