/** The two calls we use of @node-rs/argon2, written out so the package's types are not needed without it. */
export interface Argon2 {
  hash(password: string, options: { algorithm: number; memoryCost: number; timeCost: number; parallelism: number }): Promise<string>;
  verify(hashed: string, password: string): Promise<boolean>;
}

export const ARGON2_PACKAGE = '@node-rs/argon2';
export const ARGON2_INSTALL_HINT = `Install the optional peer dependency for argon2id: npm install ${ARGON2_PACKAGE}`;

/**
 * The argon2 binding, loaded only when the app has installed it (an optional peer, like
 * terminus's health indicators): null when it is not there, so the hasher can fall back to scrypt.
 * A binding that is installed but fails to load is not hidden.
 */
export async function loadArgon2(specifier = ARGON2_PACKAGE): Promise<Argon2 | null> {
  try {
    const binding = (await import(specifier)) as Argon2;
    return { hash: binding.hash, verify: binding.verify };
  } catch (error) {
    if (isNotInstalled(error, specifier)) return null;
    throw error;
  }
}

/** The package itself is missing, not something it imports. */
function isNotInstalled(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${specifier}'`);
}
