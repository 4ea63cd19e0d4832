import { Module, UseGuards, type DynamicModule } from '@nestjs/common';
import { Args, GraphQLModule, Mutation, Query, Resolver } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';
import type { AuthUser } from '../core/auth-user.js';
import type { Session } from '../core/session.js';
import { CurrentSession, CurrentUser, Roles } from '../nest/decorators.js';
import { AuthenticatedGuard } from '../nest/guards/authenticated.guard.js';
import { RolesGuard } from '../nest/guards/roles.guard.js';
import type { DemoConfig } from './demo-config.js';
import { DemoUsers } from './demo-users.js';

/** GRAPHQL=1: POST /graphql, schema-first, on Apollo (Express) or Mercurius (Fastify). */
const TYPE_DEFS = /* GraphQL */ `
  type User { id: ID! roles: [String!]! }
  type AdminStats { users: Int! }
  type Query {
    me: User!
    "The JSON text of a session value, null when the key is unset."
    sessionValue(key: String!): String
    adminStats: AdminStats!
  }
  type Mutation {
    "Stores the JSON-parsed value under the key."
    setSessionValue(key: String!, value: String!): Boolean!
  }
`;

@Resolver()
class DemoResolver {
  constructor(private readonly users: DemoUsers) {}

  @Query('me')
  @UseGuards(AuthenticatedGuard)
  me(@CurrentUser() user: AuthUser): { id: string; roles: string[] } {
    return { id: String(user.id), roles: user.roles ?? [] };
  }

  @Query('sessionValue')
  sessionValue(@CurrentSession() session: Session, @Args('key') key: string): string | null {
    const value = session.get(key);
    return value === undefined ? null : JSON.stringify(value);
  }

  @Mutation('setSessionValue')
  setSessionValue(@CurrentSession() session: Session, @Args('key') key: string, @Args('value') value: string): boolean {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new GraphQLError('value must be JSON text, e.g. "\\"blue\\"" or "42".', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    session.set(key, parsed);
    return true;
  }

  @Query('adminStats')
  @UseGuards(AuthenticatedGuard, RolesGuard)
  @Roles('admin')
  adminStats(): { users: number } {
    return { users: this.users.count };
  }
}

@Module({})
class DemoGraphqlModule {}

/** Loaded by demo-app.ts only when GRAPHQL=1, so the demo needs no GraphQL package otherwise. */
export async function demoGraphqlModule(adapter: DemoConfig['adapter'], users: DemoUsers): Promise<DynamicModule> {
  const driver =
    adapter === 'fastify' ? (await import('@nestjs/mercurius')).MercuriusDriver : (await import('@nestjs/apollo')).ApolloDriver;
  return {
    module: DemoGraphqlModule,
    imports: [GraphQLModule.forRoot({ driver, typeDefs: TYPE_DEFS, path: '/graphql' })],
    providers: [DemoResolver, { provide: DemoUsers, useValue: users }],
  };
}
