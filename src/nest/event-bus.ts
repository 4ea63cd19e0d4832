import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { authEventName, type AuthEvent, type AuthEventListener } from '../core/auth-events.js';

/** The part of EventEmitter2 the bridge uses; typed here so the package stays an optional peer. */
interface EventBus {
  emit(name: string, payload: unknown): boolean;
}

/** An optional peer: named in a variable so that neither build resolves it at compile time. */
const EVENT_EMITTER_PACKAGE = '@nestjs/event-emitter';

const logger = new Logger('SessionAuth');

/**
 * Every auth event also goes to the Nest event bus when the app has `@nestjs/event-emitter`
 * installed and `EventEmitterModule.forRoot()` imported, under `session-auth.<type>`
 * (AuthEventName) with the event as payload. The package is loaded only when present, so apps
 * without it need not install it; an app that has it but does not import the module gets no bus.
 * Null when there is no bus to publish to.
 */
export async function eventBusPublisher(moduleRef: ModuleRef): Promise<AuthEventListener | null> {
  let token: unknown;
  try {
    token = ((await import(EVENT_EMITTER_PACKAGE)) as { EventEmitter2?: unknown }).EventEmitter2;
  } catch {
    return null; // not installed: onAuthEvent alone
  }
  if (typeof token !== 'function') return null;
  // Looked up at the first event, when every module of the app is instantiated.
  let bus: EventBus | null | undefined;
  return (event: AuthEvent) => {
    if (bus === undefined) bus = findBus(moduleRef, token as abstract new () => EventBus);
    if (bus === null) return;
    try {
      bus.emit(authEventName(event), event);
    } catch (error) {
      // A throwing @OnEvent handler must not turn a finished login or logout into a 500.
      logger.error(`An event-bus listener threw on ${authEventName(event)}: ${(error as Error).message}`);
    }
  };
}

function findBus(moduleRef: ModuleRef, token: abstract new () => EventBus): EventBus | null {
  try {
    return moduleRef.get(token, { strict: false });
  } catch {
    return null; // installed, but EventEmitterModule is not imported
  }
}
