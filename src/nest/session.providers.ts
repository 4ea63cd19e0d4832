import { Logger, type Provider } from '@nestjs/common';
import { APP_FILTER, ModuleRef } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionModuleOptions } from '../core/session-options.js';
import { SessionManager } from '../core/session-manager.js';
import { LoginThrottle } from '../core/login-throttle.js';
import { DEFAULT_STORE_OPERATION_TIMEOUT_MS } from '../core/bounded-operation.js';
import { StoreAvailability } from '../core/store-availability.js';
import { createLoginLimiters } from '../stores/login-limiters.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';
import { RedisSessionStore } from '../stores/redis/redis-session-store.js';
import { PostgresSessionStore } from '../stores/postgres/postgres-session-store.js';
import { SessionStore } from '../core/session-store.js';
import { AuthService } from './auth.service.js';
import { AuthenticatedGuard } from './guards/authenticated.guard.js';
import { JwtGuard } from './guards/jwt.guard.js';
import { NestJwsEngine } from './jws-engine.js';
import { LocalAuthGuard } from './guards/local-auth.guard.js';
import { RolesGuard } from './guards/roles.guard.js';
import { SessionGuard } from './guards/session.guard.js';
import { LocalStrategy } from './local.strategy.js';
import { CsrfTokens } from '../core/csrf-token.js';
import { CsrfGuard } from './guards/csrf.guard.js';
import { FreshLoginGuard } from './guards/fresh-login.guard.js';
import { RequestSessions } from './request-sessions.js';
import { SessionErrorFilter } from './session-error.filter.js';
import { SessionInterceptor } from './session.interceptor.js';
import { eventBusPublisher } from './event-bus.js';
import { PasswordConfirmation } from './password-confirmation.js';
import type { AuthEvent, AuthEventListener } from '../core/auth-events.js';
import { AUTH_EVENTS, CSRF_TOKENS, LOGIN_THROTTLE, OWNED_SESSION_STORE, RESOLVED_SESSION_OPTIONS, MOUNTED_ROUTES_PATH } from './session.constants.js';
import { SESSION_MODULE_OPTIONS } from './session.module-definition.js';
import { SessionObservability } from './observability.js';
import { SessionStoreHealthIndicator } from './health/session-store.health.js';
import { SESSION_END_CHANNEL, sessionEndAnnouncer, sessionEndChannelProvider } from './websockets/session-end.providers.js';
import { SocketSessions } from './websockets/socket-sessions.js';
import type { SessionEndChannel } from '../core/session-end-channel.js';

const logger = new Logger('SessionModule');
const eventLogger = new Logger('SessionAuth');

const WARNING_EVENTS = new Set<AuthEvent['type']>(['login.failed', 'refresh.reused']);

/** The default event listener: one log line per event; failures and token reuse as warnings. */
function logAuthEvent(event: AuthEvent): void {
  const line = JSON.stringify(event);
  if (WARNING_EVENTS.has(event.type)) eventLogger.warn(line);
  else eventLogger.log(line);
}

/** One line when the store stops answering, one when it answers again: not one per failed request. */
const availabilityLog = {
  unavailable: (reason: string) => logger.error(`Session store unavailable: ${reason}`),
  recovered: () => logger.log('Session store reachable again; requests are served normally.'),
};

/** The store the module built itself, which it also closes; null for a store instance the app passed in. */
async function buildStore(options: ResolvedSessionOptions): Promise<SessionStore | null> {
  const store = options.store;
  if (!('type' in store)) return null;
  if (store.type === 'postgres') {
    // Loads `pg`, and makes or checks the tables, before the app starts serving.
    const { type: _type, ...postgresOptions } = store;
    return PostgresSessionStore.connect(postgresOptions);
  }
  if (store.type === 'redis') {
    const { type: _type, ...redisOptions } = store;
    return new RedisSessionStore(redisOptions, { onWarning: (message) => logger.warn(message) });
  }
  if (process.env.NODE_ENV === 'production') {
    logger.warn(
      'Sessions are kept in memory: they are lost on restart and not shared between instances. ' +
        "Use store: { type: 'redis', url } in production.",
    );
  }
  const { type: _type, ...memoryOptions } = store;
  return new MemorySessionStore(memoryOptions);
}

export const sessionProviders: Provider[] = [
  {
    provide: RESOLVED_SESSION_OPTIONS,
    useFactory: (options: SessionModuleOptions, routesPath: string | null) => resolveSessionOptions(options, { routesPath }),
    inject: [SESSION_MODULE_OPTIONS, MOUNTED_ROUTES_PATH],
  },
  {
    provide: OWNED_SESSION_STORE,
    useFactory: buildStore,
    inject: [RESOLVED_SESSION_OPTIONS],
  },
  { provide: StoreAvailability, useFactory: () => new StoreAvailability(availabilityLog) },
  {
    provide: SessionStore,
    useFactory: (options: ResolvedSessionOptions, owned: SessionStore | null) => owned ?? (options.store as SessionStore),
    inject: [RESOLVED_SESSION_OPTIONS, OWNED_SESSION_STORE],
  },
  // Keys come from the module's options per call, never from JwtService's own configuration.
  { provide: JwtService, useValue: new JwtService({}) },
  NestJwsEngine,
  { provide: SessionObservability, useFactory: SessionObservability.create, inject: [RESOLVED_SESSION_OPTIONS] },
  sessionEndChannelProvider,
  {
    provide: AUTH_EVENTS,
    useFactory: async (
      options: ResolvedSessionOptions,
      moduleRef: ModuleRef,
      observability: SessionObservability,
      endings: SessionEndChannel,
    ): Promise<AuthEventListener> => {
      const listener = options.onAuthEvent ?? logAuthEvent;
      const publish = await eventBusPublisher(moduleRef);
      // Sockets die with their session, on every instance (SocketSessions).
      const announceSessionEnd = sessionEndAnnouncer(endings);
      // A failing listener must not turn a finished login or logout into a 500.
      return (untraced) => {
        const event = observability.record(untraced);
        try {
          listener(event);
        } catch (error) {
          eventLogger.error(`onAuthEvent threw on ${event.type}: ${(error as Error).message}`);
        }
        publish?.(event);
        announceSessionEnd(event);
      };
    },
    inject: [RESOLVED_SESSION_OPTIONS, ModuleRef, SessionObservability, SESSION_END_CHANNEL],
  },
  {
    provide: SessionManager,
    // The module's store operations report to the availability tracker; the SessionStore an app injects stays the instance it gave.
    useFactory: (
      options: ResolvedSessionOptions,
      store: SessionStore,
      engine: NestJwsEngine,
      emit: AuthEventListener,
      availability: StoreAvailability,
      observability: SessionObservability,
    ) => new SessionManager(options, observability.observe(store, availability), { engine, emit }),
    inject: [RESOLVED_SESSION_OPTIONS, SessionStore, NestJwsEngine, AUTH_EVENTS, StoreAvailability, SessionObservability],
  },
  {
    provide: LOGIN_THROTTLE,
    useFactory: (options: ResolvedSessionOptions, store: SessionStore, availability: StoreAvailability) => {
      if (!options.loginThrottle) return null;
      const described =
        'type' in options.store && (options.store.type === 'redis' || options.store.type === 'postgres') ? options.store.operationTimeoutMs : undefined;
      return new LoginThrottle(createLoginLimiters(store, options.loginThrottle), {
        operationTimeoutMs: described ?? DEFAULT_STORE_OPERATION_TIMEOUT_MS,
        availability,
      });
    },
    inject: [RESOLVED_SESSION_OPTIONS, SessionStore, StoreAvailability],
  },
  {
    provide: CSRF_TOKENS,
    useFactory: (options: ResolvedSessionOptions) => (options.csrf?.token ? new CsrfTokens(options.secrets) : null),
    inject: [RESOLVED_SESSION_OPTIONS],
  },
  RequestSessions,
  AuthService,
  PasswordConfirmation,
  LocalStrategy,
  SessionGuard,
  JwtGuard,
  AuthenticatedGuard,
  LocalAuthGuard,
  RolesGuard,
  CsrfGuard,
  FreshLoginGuard,
  SessionStoreHealthIndicator,
  SocketSessions,
  SessionInterceptor,
  { provide: APP_FILTER, useClass: SessionErrorFilter },
];

/** What an importing module can inject, including what the exported guards depend on. */
export const sessionExports = [
  RESOLVED_SESSION_OPTIONS,
  LOGIN_THROTTLE,
  AUTH_EVENTS,
  CSRF_TOKENS,
  SessionStore,
  SessionManager,
  RequestSessions,
  AuthService,
  SessionGuard,
  JwtGuard,
  AuthenticatedGuard,
  LocalAuthGuard,
  RolesGuard,
  CsrfGuard,
  FreshLoginGuard,
  SessionStoreHealthIndicator,
  SocketSessions,
];
