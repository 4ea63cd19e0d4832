/**
 * A refused signed request is a security event (`signed-request.rejected`) when the app has a
 * SessionModule: its listener (and so the Nest event bus) sees the reason, never the signature.
 */
import type { INestApplication } from '@nestjs/common';
import type { AuthEvent } from '../src/index.js';
import { createSignedApp, send, signedHeaders, type SignedCall } from './support/signed-app.js';
import { ADAPTERS, type AdapterName } from './support/test-app.js';

const STATUS: SignedCall = { method: 'GET', target: '/m2m/status' };

describe.each(ADAPTERS)('signed-request.rejected over %s', (adapter: AdapterName) => {
  let app: INestApplication;
  const events: AuthEvent[] = [];

  beforeAll(async () => {
    app = await createSignedApp({ adapter, sessionStore: { type: 'memory' }, onAuthEvent: (event) => events.push(event) });
  });
  afterAll(() => app.close());
  beforeEach(() => events.splice(0));

  it('is emitted with the reason for a bad signature and for a replay, and not for an accepted request', async () => {
    const headers = signedHeaders(STATUS);
    await send(app, STATUS, headers).expect(200);
    expect(events.filter((event) => event.type === 'signed-request.rejected')).toEqual([]);

    await send(app, STATUS, headers).expect(401);
    await send(app, STATUS, { ...headers, signature: 'sig1=:AAAA:' }).expect(401);

    const rejected = events.filter((event) => event.type === 'signed-request.rejected');
    expect(rejected.map((event) => event.reason)).toEqual(['replayed', 'bad-signature']);
    expect(JSON.stringify(rejected)).not.toContain(headers.signature.slice(6, -1));
  });
});
