import { createHash } from 'node:crypto';
import { InvalidSessionError } from './errors.js';
import {
  newSessionToken,
  randomSlotTag,
  randomToken,
  refOf,
  SessionCookieCodec,
  UserSlotTags,
  type SessionToken,
} from './session-token.js';

const KEY_A = 'a'.repeat(16) + '-first-secret-of-32-chars+';
const KEY_B = 'b'.repeat(16) + '-second-secret-of-32-chars';
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function reasonOf(codec: SessionCookieCodec, value: string): string {
  try {
    codec.decode(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSessionError);
    return (error as InvalidSessionError).reason;
  }
  return 'accepted';
}

function sampleToken(): SessionToken {
  return newSessionToken(randomSlotTag());
}

describe('session tokens', () => {
  it('are 43 base64url characters (256 bits) and unique', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const token = randomToken();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(2000);
    expect(Buffer.from(randomToken(), 'base64url')).toHaveLength(32);
  });

  it('get a fresh token for every new session, even with the same tag', () => {
    const tag = new UserSlotTags(['x'.repeat(32)]).current('u-1').tag;
    const a = newSessionToken(tag);
    const b = newSessionToken(tag);
    expect(a.tag).toBe(tag);
    expect(b.tag).toBe(tag);
    expect(a.token).not.toBe(b.token);
  });

  it('random slot tags are 12 base64url characters', () => {
    expect(randomSlotTag()).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(randomSlotTag()).not.toBe(randomSlotTag());
  });
});

describe('UserSlotTags', () => {
  const SECRET_A = 'slot-tag-spec-secret-a-0123456789abcdef';
  const SECRET_B = 'slot-tag-spec-secret-b-0123456789abcdef';

  it('is stable for a user, 12 characters, and differs between users', () => {
    const tags = new UserSlotTags([SECRET_A]);
    const tag = tags.current('u-alice').tag;
    expect(tag).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(new UserSlotTags([SECRET_A]).current('u-alice').tag).toBe(tag);
    expect(tags.current('u-bob').tag).not.toBe(tag);
  });

  it('is keyed: the plain hash of the id, or another secret, gives another tag', () => {
    const tag = new UserSlotTags([SECRET_A]).current('u-alice').tag;
    expect(new UserSlotTags([SECRET_B]).current('u-alice').tag).not.toBe(tag);
    expect(createHash('sha256').update('user:u-alice').digest('base64url').slice(0, 12)).not.toBe(tag);
  });

  it('does not reveal the user id', () => {
    expect(new UserSlotTags([SECRET_A]).current('alice-the-user').tag).not.toContain('alice');
  });

  it('puts new sessions under the first secret and finds a user under every secret, current first', () => {
    const rotated = new UserSlotTags([SECRET_B, SECRET_A]);
    expect(rotated.current('u-1')).toEqual(new UserSlotTags([SECRET_B]).current('u-1'));
    expect(rotated.all('u-1')).toEqual([new UserSlotTags([SECRET_B]).current('u-1'), new UserSlotTags([SECRET_A]).current('u-1')]);
    expect(new UserSlotTags([SECRET_A, SECRET_A]).all('u-1')).toHaveLength(1);
  });
});

describe('refOf', () => {
  it('keeps the tag and uses the SHA-256 digest of the token, not the token itself', () => {
    const token = sampleToken();
    const ref = refOf(token);
    expect(ref.tag).toBe(token.tag);
    expect(ref.digest).toBe(createHash('sha256').update(token.token).digest('base64url'));
    expect(ref.digest).not.toBe(token.token);
    expect(ref.digest).not.toContain(token.token);
    expect(refOf(token)).toEqual(ref);
    expect(refOf(sampleToken()).digest).not.toBe(ref.digest);
  });
});

describe('SessionCookieCodec', () => {
  const codec = new SessionCookieCodec([KEY_A]);

  it('encodes tag.token.signature and decodes it back to the same token', () => {
    const token = sampleToken();
    const value = codec.encode(token);
    const parts = value.split('.');
    expect(parts).toHaveLength(3);
    expect(parts[0]).toBe(token.tag);
    expect(parts[1]).toBe(token.token);
    expect(parts[2]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codec.decode(value)).toEqual({ tag: token.tag, token: token.token });
  });

  it('rejects every value with any single character changed, anywhere', () => {
    const value = codec.encode(sampleToken());
    const accepted: string[] = [];
    for (let position = 0; position < value.length; position++) {
      for (const replacement of `${BASE64URL_ALPHABET}.=+/ `) {
        if (replacement === value[position]) continue;
        const tampered = value.slice(0, position) + replacement + value.slice(position + 1);
        const reason = reasonOf(codec, tampered);
        if (reason !== 'malformed' && reason !== 'bad-signature') accepted.push(`${position}:${replacement} -> ${reason}`);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('rejects a signature whose last character differs only in its unused low bits', () => {
    const value = codec.encode(sampleToken());
    const last = BASE64URL_ALPHABET.indexOf(value[value.length - 1]);
    // The 43rd character of an unpadded 32-byte base64url string carries 4 data bits and 2 unused bits.
    const sibling = BASE64URL_ALPHABET[last ^ 1];
    expect(Buffer.from(value.slice(-43, -1) + sibling, 'base64url')).toEqual(Buffer.from(value.slice(-43), 'base64url'));
    expect(reasonOf(codec, value.slice(0, -1) + sibling)).toMatch(/^(malformed|bad-signature)$/);
  });

  it('rejects a changed token or tag as a bad signature', () => {
    const token = sampleToken();
    const value = codec.encode(token);
    const otherToken = codec.encode(sampleToken()).split('.')[1];
    expect(reasonOf(codec, `${token.tag}.${otherToken}.${value.split('.')[2]}`)).toBe('bad-signature');
    expect(reasonOf(codec, `${randomSlotTag()}.${token.token}.${value.split('.')[2]}`)).toBe('bad-signature');
  });

  it('rejects a value signed with another key', () => {
    const value = new SessionCookieCodec([KEY_B]).encode(sampleToken());
    expect(reasonOf(codec, value)).toBe('bad-signature');
  });

  it('rotates keys: the first key signs, every key verifies', () => {
    const oldCodec = new SessionCookieCodec([KEY_A]);
    const rotated = new SessionCookieCodec([KEY_B, KEY_A]);
    const newOnly = new SessionCookieCodec([KEY_B]);
    const token = sampleToken();

    expect(rotated.decode(oldCodec.encode(token))).toEqual(token);

    const reissued = rotated.encode(token);
    expect(reissued).not.toBe(oldCodec.encode(token));
    expect(newOnly.decode(reissued)).toEqual(token);
    expect(reasonOf(oldCodec, reissued)).toBe('bad-signature');
  });

  it.each([
    ['no dots', () => 'a'.repeat(100)],
    ['two segments', (v: string) => v.split('.').slice(0, 2).join('.')],
    ['four segments', (v: string) => `${v}.extra`],
    ['a leading dot', (v: string) => `.${v}`],
    ['a trailing dot', (v: string) => `${v}.`],
    ['an empty string', () => ''],
    ['only dots', () => '..'],
    ['a short tag', (v: string) => v.slice(1)],
    ['a longer token', (v: string) => v.replace('.', '.A')],
    ['a padded signature', (v: string) => `${v}=`],
    ['overlong input', (v: string) => v + 'A'.repeat(100_000)],
    ['an overlong segment', (v: string) => `${v.split('.')[0]}.${'A'.repeat(10_000)}.${v.split('.')[2]}`],
  ])('rejects a value with %s as malformed', (_label, build) => {
    const value = (build as (v: string) => string)(codec.encode(sampleToken()));
    expect(reasonOf(codec, value)).toBe('malformed');
  });

  it('rejects a value with a missing signature as malformed', () => {
    const token = sampleToken();
    expect(reasonOf(codec, `${token.tag}.${token.token}`)).toBe('malformed');
    expect(reasonOf(codec, `${token.tag}.${token.token}.`)).toBe('malformed');
  });
});
