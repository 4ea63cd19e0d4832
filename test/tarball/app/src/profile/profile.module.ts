import { Module } from '@nestjs/common';
import { ProfileController } from './profile.controller';

/** A feature module: it does not import SessionModule, and the root module does not set isGlobal. */
@Module({ controllers: [ProfileController] })
export class ProfileModule {}
