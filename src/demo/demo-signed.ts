import { Controller, HttpCode, Post, UseGuards, type DynamicModule } from '@nestjs/common';
import { SignedRequestGuard } from '../nest/guards/signed-request.guard.js';
import { SignatureKeyId } from '../nest/signed-requests/signature-key-id.decorator.js';
import { SignedRequestModule } from '../nest/signed-requests/signed-request.module.js';

/**
 * `SIGNED_REQUEST_KEYS=kid1:<secret>,kid2:<secret>` (secrets of 32+ characters, no commas): the
 * keys of `POST /demo/signed`. Null when unset; a malformed value stops the demo with a message.
 */
export function readSignedRequestKeys(env: NodeJS.ProcessEnv): Record<string, string> | null {
  const text = env.SIGNED_REQUEST_KEYS;
  if (text === undefined || text === '') return null;
  const keys: Record<string, string> = {};
  for (const entry of text.split(',')) {
    const colon = entry.indexOf(':');
    const keyId = entry.slice(0, colon).trim();
    if (colon < 1 || keyId === '' || keyId in keys) {
      throw new Error(`SIGNED_REQUEST_KEYS has the entry "${entry.slice(0, 16)}…": use kid1:<secret>,kid2:<secret> with distinct key ids.`);
    }
    const secret = entry.slice(colon + 1);
    if (secret.length < 32) throw new Error(`SIGNED_REQUEST_KEYS: the secret of ${keyId} is shorter than 32 characters.`);
    keys[keyId] = secret;
  }
  return keys;
}

@Controller('demo')
export class DemoSignedController {
  /** For other services: answers which key signed the request. */
  @Post('signed')
  @HttpCode(200)
  @UseGuards(SignedRequestGuard)
  signed(@SignatureKeyId() keyId: string): { keyId: string } {
    return { keyId };
  }
}

/** The signed-request part of the demo, or nothing when no keys are configured. */
export function demoSignedRequests(keys: Record<string, string> | null): { imports: DynamicModule[]; controllers: Array<typeof DemoSignedController> } {
  return keys ? { imports: [SignedRequestModule.forRoot({ keys })], controllers: [DemoSignedController] } : { imports: [], controllers: [] };
}
