/**
 * A Nest app with a WebSocket gateway on /ws (the `ws` adapter), guarded by the module, over
 * Express or Fastify, listening on a free port. The gateway hands each connection to
 * SocketSessions, as the README recipe does.
 */
import 'reflect-metadata';
import { Inject, UseGuards, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import {
  AuthenticatedGuard,
  CurrentSession,
  CurrentUser,
  JwtGuard,
  Roles,
  RolesGuard,
  SessionModule,
  SocketSessions,
  type AuthUser,
  type HandshakeRequest,
  type Session,
  type SessionModuleOptions,
} from '../../src/index.js';
import { ProbeController, TEST_SECRET, validateTestUser, type AdapterName } from './test-app.js';

@WebSocketGateway({ path: '/ws' })
export class ProbeGateway implements OnGatewayConnection {
  constructor(@Inject(SocketSessions) private readonly sockets: SocketSessions) {}

  handleConnection(client: object, request: HandshakeRequest) {
    return this.sockets.connect(client, request);
  }

  @SubscribeMessage('whoami')
  @UseGuards(AuthenticatedGuard)
  whoami(@CurrentUser() user: AuthUser, @CurrentSession() session: Session) {
    return { event: 'whoami', data: { user, sessionId: session.id, via: session.via } };
  }

  @SubscribeMessage('bearer')
  @UseGuards(JwtGuard)
  bearer(@CurrentUser('id') id: string) {
    return { event: 'bearer', data: { id } };
  }

  @SubscribeMessage('admin')
  @UseGuards(AuthenticatedGuard, RolesGuard)
  @Roles('admin')
  admin() {
    return { event: 'admin', data: { ok: true } };
  }
}

export async function createWsApp(adapter: AdapterName, session: Partial<SessionModuleOptions> = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [SessionModule.forRoot({ secret: TEST_SECRET, validateUser: validateTestUser, userFields: ['name'], ...session, routes: true })],
    controllers: [ProbeController],
    providers: [ProbeGateway],
  }).compile();
  const app: INestApplication =
    adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter() as never) : moduleRef.createNestApplication();
  app.useWebSocketAdapter(new WsAdapter(app));
  app.useLogger(false);
  await app.listen(0, '127.0.0.1');
  return app;
}
