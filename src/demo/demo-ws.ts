import { Inject, Module, UseGuards, type DynamicModule, type INestApplication } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { AuthUser } from '../core/auth-user.js';
import { CurrentUser } from '../nest/decorators.js';
import { AuthenticatedGuard } from '../nest/guards/authenticated.guard.js';
import type { HandshakeRequest } from '../nest/websockets/socket-handshake.js';
import { SocketSessions } from '../nest/websockets/socket-sessions.js';

/**
 * WEBSOCKETS=1: a gateway on ws://host/ws through @nestjs/platform-ws. The handshake's session
 * cookie (or bearer token, or a first `{"event":"authenticate","data":{"token"}}` message) is
 * checked at connection and at every message; without one the socket is closed with 4401, and
 * it is closed with 4401 too when its session ends (logout, revocation, expiry).
 */
@WebSocketGateway({ path: '/ws' })
class DemoGateway implements OnGatewayConnection {
  constructor(@Inject(SocketSessions) private readonly sockets: SocketSessions) {}

  handleConnection(client: object, request: HandshakeRequest): Promise<AuthUser | null> {
    return this.sockets.connect(client, request);
  }

  @SubscribeMessage('whoami')
  @UseGuards(AuthenticatedGuard)
  whoami(@CurrentUser() user: AuthUser): { event: 'whoami'; data: { user: AuthUser } } {
    return { event: 'whoami', data: { user } };
  }
}

@Module({})
class DemoWsModule {}

export function demoWsModule(): DynamicModule {
  return { module: DemoWsModule, providers: [DemoGateway] };
}

/** The `ws` adapter (plain WebSockets, not socket.io), on Express's or Fastify's HTTP server. */
export async function useDemoWebSockets(app: INestApplication): Promise<INestApplication> {
  const { WsAdapter } = await import('@nestjs/platform-ws');
  return app.useWebSocketAdapter(new WsAdapter(app));
}
