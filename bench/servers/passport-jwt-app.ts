import { Controller, Get, HttpCode, Inject, Injectable, Module, Post, Req, UseGuards } from '@nestjs/common';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { OpenController } from './open.controller.js';

/** The recipe's `jwtConstants.secret`: a plain string, as the NestJS docs write it. */
const jwtConstants = { secret: 'bench-jwt-secret-that-is-at-least-32-bytes' };

/** The NestJS docs' JwtStrategy (Passport recipe, "Implementing Passport JWT"), unchanged. */
@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), ignoreExpiration: false, secretOrKey: jwtConstants.secret });
  }

  validate(payload: { sub: string; username: string }): { userId: string; username: string } {
    return { userId: payload.sub, username: payload.username };
  }
}

@Injectable()
class JwtAuthGuard extends AuthGuard('jwt') {}

@Controller()
class PassportJwtController {
  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  /** Stands in for the recipe's LocalAuthGuard login: the bench measures the guarded route only. */
  @Post('login')
  @HttpCode(200)
  login(@Req() request: { body?: { username?: string } }): { access_token: string } {
    const username = request.body?.username ?? 'anonymous';
    return { access_token: this.jwt.sign({ sub: username, username }) };
  }

  @UseGuards(JwtAuthGuard)
  @Get('guarded')
  guarded(@Req() request: { user: unknown }): unknown {
    return request.user;
  }
}

@Module({
  imports: [PassportModule, JwtModule.register({ secret: jwtConstants.secret, signOptions: { expiresIn: '60m' } })],
  controllers: [OpenController, PassportJwtController],
  providers: [JwtStrategy],
})
export class PassportJwtBenchApp {}
