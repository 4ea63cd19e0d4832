import { Module } from '@nestjs/common';
import { SessionModule } from 'nestjs-session-auth';
import { ProfileModule } from './profile/profile.module';
import { UsersModule } from './users/users.module';
import { UsersService } from './users/users.service';

@Module({
  imports: [
    SessionModule.forRootAsync({
      routes: true,
      imports: [UsersModule],
      inject: [UsersService],
      useFactory: (users: UsersService) => ({
        secret: process.env.SESSION_SECRET ?? 'test-only-secret-of-at-least-32-characters',
        store: { type: 'memory' },
        // AUTH_MODE=jwt: the tarball test's bearer-token run (login, bearer requests, refresh, logout).
        ...(process.env.AUTH_MODE === 'jwt'
          ? { mode: 'jwt' as const, jwt: { keys: [{ kid: 'tarball', alg: 'HS256' as const, secret: 'test-only-jwt-secret-of-32-bytes-or-more' }] } }
          : {}),
        validateUser: (username, password) => users.checkPassword(username, password),
      }),
    }),
    ProfileModule,
  ],
})
export class AppModule {}
