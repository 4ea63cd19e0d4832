import { randomToken } from '../session-token.js';
import { openSuccessor, sealSuccessor } from './refresh-successor.js';

describe('a refresh successor sealed to the previous token', () => {
  const previous = randomToken();
  const sid = `${randomToken(9)}.${randomToken()}`;
  const successor = `${sid}.${randomToken()}`;

  it('opens with the previous token for the same session', () => {
    expect(openSuccessor(previous, sid, sealSuccessor(previous, sid, successor))).toBe(successor);
  });

  it('is different each time it is sealed and never contains the successor in clear', () => {
    const first = sealSuccessor(previous, sid, successor);
    expect(sealSuccessor(previous, sid, successor)).not.toBe(first);
    expect(Buffer.from(first, 'base64url').toString('latin1')).not.toContain(successor.split('.')[2]);
  });

  it('does not open with another token, for another session, or once altered', () => {
    const sealed = sealSuccessor(previous, sid, successor);
    const altered = Buffer.from(sealed, 'base64url');
    altered[altered.length - 20] ^= 1;
    expect(openSuccessor(randomToken(), sid, sealed)).toBeNull();
    expect(openSuccessor(previous, `${randomToken(9)}.${randomToken()}`, sealed)).toBeNull();
    expect(openSuccessor(previous, sid, altered.toString('base64url'))).toBeNull();
    expect(openSuccessor(previous, sid, '')).toBeNull();
  });
});
