import { Body, Controller, Get, Put, UseGuards } from '@nestjs/common';
import { AuthenticatedGuard, AuthService, CurrentSession, CurrentUser, Session, type AuthUser } from 'nestjs-session-auth';

@Controller('profile')
@UseGuards(AuthenticatedGuard)
export class ProfileController {
  constructor(private readonly auth: AuthService) {}

  @Get()
  me(@CurrentUser() user: AuthUser) {
    return { id: user.id };
  }

  @Put('note')
  setNote(@CurrentSession() session: Session, @Body() body: { note: string }) {
    session.set('note', body.note);
    return { note: body.note };
  }

  @Get('note')
  note(@CurrentSession() session: Session) {
    return { note: session.get<string>('note') ?? null };
  }

  @Get('sessions')
  sessions(@CurrentSession() session: Session) {
    return this.auth.listSessions(session);
  }
}
