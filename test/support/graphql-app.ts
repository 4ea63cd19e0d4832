/**
 * A Nest app with a small schema-first GraphQL API guarded by the module, on Apollo (Express)
 * or Mercurius (Fastify). Resolvers use the guards and decorators exactly as controllers do.
 */
import 'reflect-metadata';
import { Inject, Module, UseGuards, type DynamicModule, type INestApplication } from '@nestjs/common';
import { Args, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Response } from 'supertest';
import {
  AuthenticatedGuard,
  AuthService,
  CurrentSession,
  CurrentUser,
  JwtGuard,
  RequireFreshLogin,
  Roles,
  RolesGuard,
  SessionGuard,
  type AuthUser,
  type Session,
  type SessionModuleOptions,
} from '../../src/index.js';
import { http } from './http-helpers.js';
import { createTestApp, validateTestUser, type AdapterName } from './test-app.js';

const TYPE_DEFS = `
  type User { id: ID! name: String roles: [String!]! }
  type LoginResult { user: User! accessToken: String }
  type Query { me: User! bearerMe: User! cookieMe: User! note: String adminOnly: Int! freshOnly: Boolean! }
  type Mutation {
    login(username: String!, password: String!): LoginResult!
    logout: Boolean!
    setNote(text: String!): Boolean!
  }
`;

@Resolver()
class ProbeResolver {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Query('me')
  @UseGuards(AuthenticatedGuard)
  me(@CurrentUser() user: AuthUser) {
    return { ...user, roles: user.roles ?? [] };
  }

  @Query('bearerMe')
  @UseGuards(JwtGuard)
  bearerMe(@CurrentUser() user: AuthUser) {
    return { ...user, roles: user.roles ?? [] };
  }

  @Query('cookieMe')
  @UseGuards(SessionGuard)
  cookieMe(@CurrentUser() user: AuthUser) {
    return { ...user, roles: user.roles ?? [] };
  }

  @Query('note')
  @UseGuards(AuthenticatedGuard)
  note(@CurrentSession() session: Session): string | null {
    return session.get<string>('note') ?? null;
  }

  @Query('adminOnly')
  @UseGuards(AuthenticatedGuard, RolesGuard)
  @Roles('admin')
  adminOnly(): number {
    return 42;
  }

  @Query('freshOnly')
  @RequireFreshLogin('5m')
  freshOnly(): boolean {
    return true;
  }

  @Mutation('login')
  async login(@CurrentSession() session: Session, @Args('username') username: string, @Args('password') password: string) {
    const user = await validateTestUser(username, password);
    if (user === null) return Promise.reject(new Error('bad credentials'));
    const tokens = await this.auth.login(session, user);
    return { user: { ...user, roles: user.roles ?? [] }, accessToken: tokens?.accessToken ?? null };
  }

  @Mutation('logout')
  @UseGuards(AuthenticatedGuard)
  async logout(@CurrentSession() session: Session): Promise<boolean> {
    await this.auth.logout(session);
    return true;
  }

  @Mutation('setNote')
  @UseGuards(AuthenticatedGuard)
  setNote(@CurrentSession() session: Session, @Args('text') text: string): boolean {
    session.set('note', text);
    return true;
  }
}

@Module({})
class GraphqlProbeModule {}

async function graphqlModule(adapter: AdapterName): Promise<DynamicModule> {
  const driver =
    adapter === 'fastify' ? (await import('@nestjs/mercurius')).MercuriusDriver : (await import('@nestjs/apollo')).ApolloDriver;
  return {
    module: GraphqlProbeModule,
    imports: [GraphQLModule.forRoot({ driver, typeDefs: TYPE_DEFS, path: '/graphql' })],
    providers: [ProbeResolver],
  };
}

export async function createGraphqlApp(adapter: AdapterName, session: Partial<SessionModuleOptions> = {}): Promise<INestApplication> {
  return createTestApp({ adapter, session, imports: [await graphqlModule(adapter)] });
}

export interface GraphqlAnswer {
  response: Response;
  data: Record<string, unknown> | null;
  errors: Array<{ message: string; extensions?: { code?: string } }> | undefined;
}

/** POST /graphql with JSON, optional cookie and headers. */
export async function graphql(
  app: INestApplication,
  query: string,
  options: { variables?: Record<string, unknown>; cookie?: string; headers?: Record<string, string> } = {},
): Promise<GraphqlAnswer> {
  let req = http(app).post('/graphql').set('Content-Type', 'application/json');
  if (options.cookie) req = req.set('Cookie', options.cookie);
  for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
  const response = await req.send({ query, variables: options.variables ?? {} });
  const body = response.body as { data?: Record<string, unknown> | null; errors?: GraphqlAnswer['errors'] };
  return { response, data: body.data ?? null, errors: body.errors };
}

/** The codes of a GraphQL answer's errors. */
export function errorCodes(answer: GraphqlAnswer): Array<string | undefined> {
  return (answer.errors ?? []).map((error) => error.extensions?.code);
}
