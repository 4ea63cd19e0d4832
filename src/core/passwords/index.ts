export { ARGON2ID_MINIMUM, PasswordHasher, type PasswordAlgorithm, type PasswordHasherOptions } from './password-hasher.js';
export { PasswordHasherConfigurationError, UnsupportedPasswordHashError } from './password-errors.js';
export { SCRYPT_MINIMUM } from './scrypt-hash.js';
