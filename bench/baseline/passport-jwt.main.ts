// The NestJS documentation's JWT recipe (passport-jwt with a string secretOrKey), as the
// baseline `npm run bench` compares this library's JWT mode against. Bench code only.
import 'reflect-metadata';
import { Controller, Get, Inject, Injectable, Module, Req, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

const SECRET = process.env.JWT_SECRET ?? 'bench-jwt-secret-that-is-at-least-32-bytes';

@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), ignoreExpiration: false, secretOrKey: SECRET });
  }

  validate(payload: { sub: string; username: string }) {
    return { userId: payload.sub, username: payload.username };
  }
}

@Controller()
class BaselineController {
  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  @Get('demo/ping')
  ping() {
    return { ok: true };
  }

  @Get('token')
  token() {
    return { accessToken: this.jwt.sign({ sub: 'u-alice', username: 'alice' }) };
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('profile')
  profile(@Req() request: { user: unknown }) {
    return request.user;
  }
}

@Module({
  imports: [PassportModule, JwtModule.register({ secret: SECRET, signOptions: { expiresIn: '60m' } })],
  controllers: [BaselineController],
  providers: [JwtStrategy],
})
class BaselineModule {}

async function main() {
  const app = await NestFactory.create(BaselineModule, { logger: false });
  await app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1');
}

void main();
