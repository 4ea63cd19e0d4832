/**
 * A small app for signed-request scenarios: SignedRequestModule, optionally next to a
 * SessionModule whose store it shares, over Express or Fastify, created with `rawBody: true`.
 */
import 'reflect-metadata';
import { All, Body, Controller, Get, Param, UseGuards, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  SessionModule,
  SignatureKeyId,
  signRequest,
  SignedRequestGuard,
  SignedRequestModule,
  type SessionStoreOption,
  type SignedRequestOptions,
  type AuthEventListener,
} from '../../src/index.js';
import { TEST_SECRET, validateTestUser, type AdapterName } from './test-app.js';

export const SIGNING_KEYS = {
  kid1: 'kid1-signing-secret-that-is-long-enough-0123',
  kid2: 'kid2-signing-secret-that-is-long-enough-4567',
};

@Controller('m2m')
@UseGuards(SignedRequestGuard)
class MachineController {
  @All('orders/:id')
  order(@SignatureKeyId() keyId: string, @Param('id') id: string, @Body() body: unknown) {
    return { keyId, id, body: body ?? null };
  }

  @Get('status')
  status(@SignatureKeyId() keyId: string) {
    return { keyId };
  }
}

export interface SignedAppOptions {
  adapter: AdapterName;
  /** A SessionModule with this store beside the signed-request module; none when undefined. */
  sessionStore?: SessionStoreOption;
  signed?: Partial<SignedRequestOptions>;
  /** Create the app with `rawBody: true`. Default: true. */
  rawBody?: boolean;
  /** The SessionModule's event listener (with `sessionStore`). */
  onAuthEvent?: AuthEventListener;
}

export async function createSignedApp(options: SignedAppOptions): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(options.sessionStore ? [SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, store: options.sessionStore, ...(options.onAuthEvent && { onAuthEvent: options.onAuthEvent }) })] : []),
      SignedRequestModule.forRoot({ keys: SIGNING_KEYS, ...options.signed }),
    ],
    controllers: [MachineController],
  }).compile();
  const rawBody = options.rawBody ?? true;
  const app =
    options.adapter === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter() as never, { rawBody })
      : moduleRef.createNestApplication({ rawBody });
  app.useLogger(false);
  // Listening once lets supertest send many concurrent requests to one server.
  await app.listen(0, '127.0.0.1');
  return app;
}

export interface SignedCall {
  method: 'GET' | 'POST' | 'PUT';
  target: string;
  body?: string;
  keyId?: keyof typeof SIGNING_KEYS | string;
  secret?: string;
  created?: number;
}

/** The headers a client sends for `call`, signed with kid1 unless told otherwise. */
export function signedHeaders(call: SignedCall): Record<string, string> {
  const keyId = call.keyId ?? 'kid1';
  const secret = call.secret ?? SIGNING_KEYS[keyId as keyof typeof SIGNING_KEYS] ?? SIGNING_KEYS.kid1;
  return signRequest({ keyId, secret, method: call.method, target: call.target, body: call.body, created: call.created });
}

/** Sends `call` with the given headers (a body as JSON text, byte for byte). */
export function send(app: INestApplication, call: SignedCall, headers: Record<string, string>) {
  const agent = request(app.getHttpServer());
  let pending = call.method === 'GET' ? agent.get(call.target) : call.method === 'PUT' ? agent.put(call.target) : agent.post(call.target);
  pending = pending.set(headers);
  if (call.body !== undefined) pending = pending.set('Content-Type', 'application/json').send(call.body);
  return pending;
}
