import { scryptSync } from 'node:crypto';
import { PasswordHasher, PasswordHasherConfigurationError, UnsupportedPasswordHashError } from './index.js';
import { parsePhc } from './phc.js';

let argon2id: PasswordHasher;
let scrypt: PasswordHasher;

beforeAll(async () => {
  argon2id = await PasswordHasher.create();
  scrypt = await PasswordHasher.create({ algorithm: 'scrypt' });
});

describe('PasswordHasher with @node-rs/argon2 installed', () => {
  it('defaults to argon2id at the OWASP parameters (m = 19 MiB, t = 2, p = 1), in a PHC string', async () => {
    expect(argon2id.algorithm).toBe('argon2id');
    const stored = await argon2id.hash('correct horse');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    await expect(argon2id.verify(stored, 'correct horse')).resolves.toBe(true);
    await expect(argon2id.verify(stored, 'correct horsf')).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await argon2id.hash('same')).not.toBe(await argon2id.hash('same'));
  });

  it('needs no rehash for its own hashes, and does for a weaker one', async () => {
    const stored = await argon2id.hash('pw');
    expect(argon2id.needsRehash(stored)).toBe(false);
    const stronger = await PasswordHasher.create({ argon2: { memoryKiB: 32_768, passes: 3 } });
    expect(stronger.needsRehash(stored)).toBe(true);
    expect(stronger.needsRehash(await stronger.hash('pw'))).toBe(false);
  });
});

describe('PasswordHasher forced to scrypt', () => {
  it('hashes with scrypt N = 2^17, r = 8, p = 1 in the PHC format, and the key is what those parameters derive', async () => {
    const stored = await scrypt.hash('correct horse');
    expect(stored).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const phc = parsePhc(stored)!;
    const expected = scryptSync('correct horse', phc.salt, 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 256 * 1024 * 1024 });
    expect(phc.hash.equals(expected)).toBe(true);
    await expect(scrypt.verify(stored, 'correct horse')).resolves.toBe(true);
    await expect(scrypt.verify(stored, 'Correct horse')).resolves.toBe(false);
  });

  it('asks for a rehash of a scrypt hash below its cost', async () => {
    const weak = '$scrypt$ln=16,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$' + 'A'.repeat(43);
    expect(scrypt.needsRehash(weak)).toBe(true);
    expect(scrypt.needsRehash(await scrypt.hash('pw'))).toBe(false);
  });
});

describe('moving between algorithms', () => {
  it('verifies a scrypt hash once the app has argon2, and asks for a rehash', async () => {
    const stored = await scrypt.hash('pw');
    await expect(argon2id.verify(stored, 'pw')).resolves.toBe(true);
    expect(argon2id.needsRehash(stored)).toBe(true);
  });

  it('verifies an argon2id hash when scrypt is chosen but the binding is there, and asks for a rehash', async () => {
    const stored = await argon2id.hash('pw');
    await expect(scrypt.verify(stored, 'pw')).resolves.toBe(true);
    expect(scrypt.needsRehash(stored)).toBe(true);
  });
});

describe('verifyDummy', () => {
  it.each([['argon2id'], ['scrypt']] as const)('answers false after doing the work of a verify (%s)', async (algorithm) => {
    const hasher = algorithm === 'scrypt' ? scrypt : argon2id;
    await expect(hasher.verifyDummy('anything')).resolves.toBe(false);
  });
});

describe('bad input and options', () => {
  it.each([[''], ['plain'], ['$md5$abc'], ['$scrypt$ln=99,r=8,p=1$c2FsdA$aGFzaA'], ['$scrypt$ln=17$c2FsdA'], ['$argon2id$v=19$m=19456,t=2,p=1$!!$??']])(
    'refuses to verify %j as a hash, with UnsupportedPasswordHashError',
    async (stored) => {
      await expect(argon2id.verify(stored, 'pw')).rejects.toThrow(UnsupportedPasswordHashError);
      expect(argon2id.needsRehash(stored)).toBe(true);
    },
  );

  it.each([
    [{ argon2: { memoryKiB: 4096 } }, 'argon2.memoryKiB'],
    [{ argon2: { passes: 1 } }, 'argon2.passes'],
    [{ scrypt: { logN: 14 } }, 'scrypt.logN'],
    [{ algorithm: 'bcrypt' }, 'algorithm'],
  ])('refuses %j below the OWASP minimum or unknown, naming %s', async (options, option) => {
    const attempt = PasswordHasher.create(options as never);
    await expect(attempt).rejects.toThrow(PasswordHasherConfigurationError);
    await expect(attempt).rejects.toMatchObject({ option });
  });
});
