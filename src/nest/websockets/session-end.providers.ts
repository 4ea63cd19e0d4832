import { Logger, type Provider } from '@nestjs/common';
import type { AuthEventListener } from '../../core/auth-events.js';
import { DEFAULT_STORE_OPERATION_TIMEOUT_MS } from '../../core/bounded-operation.js';
import { InProcessSessionEndChannel, sessionEndNoticeOf, type SessionEndChannel } from '../../core/session-end-channel.js';
import type { ResolvedSessionOptions } from '../../core/session-options.js';
import { SessionStore } from '../../core/session-store.js';
import { RedisSessionEndChannel } from '../../stores/redis/redis-session-end-channel.js';
import { RedisSessionStore } from '../../stores/redis/redis-session-store.js';
import { RESOLVED_SESSION_OPTIONS } from '../session.constants.js';

/** The SessionEndChannel of the module (internal DI token). */
export const SESSION_END_CHANNEL = Symbol('SESSION_END_CHANNEL');

const logger = new Logger('SessionSockets');

/**
 * Redis pub/sub when the sessions are in Redis, so every instance hears of a session's end;
 * in-process otherwise (the memory store serves one instance; a store of the app's own closes
 * the sockets of the instance that ended the session, the others at their next message).
 */
export const sessionEndChannelProvider: Provider = {
  provide: SESSION_END_CHANNEL,
  useFactory: (options: ResolvedSessionOptions, store: SessionStore): SessionEndChannel => {
    if (!(store instanceof RedisSessionStore)) return new InProcessSessionEndChannel();
    const described = 'type' in options.store && options.store.type === 'redis' ? options.store.operationTimeoutMs : undefined;
    return new RedisSessionEndChannel(store.client, store.keyPrefix, described ?? DEFAULT_STORE_OPERATION_TIMEOUT_MS, (message) =>
      logger.warn(message),
    );
  },
  inject: [RESOLVED_SESSION_OPTIONS, SessionStore],
};

/** The auth-event listener that announces the sessions an event ended. */
export function sessionEndAnnouncer(channel: SessionEndChannel): AuthEventListener {
  return (event) => {
    const notice = sessionEndNoticeOf(event);
    if (notice) channel.publish(notice);
  };
}
