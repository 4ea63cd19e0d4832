import { loadArgon2 } from './argon2-loader.js';

describe('loadArgon2', () => {
  it('loads the installed binding', async () => {
    const argon2 = await loadArgon2();
    expect(typeof argon2?.hash).toBe('function');
  });

  it('answers null, so the hasher falls back to scrypt, when the package is not installed', async () => {
    await expect(loadArgon2('@node-rs/argon2-not-installed')).resolves.toBeNull();
  });
});
