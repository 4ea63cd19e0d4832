// ESM only: an app loads it with import() or, from CommonJS, with require() (require(esm)).
import { AuthService, SessionModule } from 'nestjs-session-auth';

export const fromLib = { AuthService, SessionModule };
