import { SessionConfigurationError } from './errors.js';

/** A length of time: milliseconds as a number, or a string such as `'500ms'`, `'30m'`, `'12h'`, `'7d'`. */
export type Duration = number | string;

const MS_PER_UNIT: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

/**
 * Parses a duration option once, at boot. Strict on purpose: `'30 minutes'` or `'1.5h'` are
 * rejected with the option's name rather than guessed at.
 */
export function parseDuration(option: string, value: Duration): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new SessionConfigurationError(
      option,
      `is ${value}`,
      'Give a positive whole number of milliseconds, or a string such as "30m".',
    );
  }
  const match = typeof value === 'string' ? DURATION_PATTERN.exec(value.trim()) : null;
  const ms = match ? Number(match[1]) * MS_PER_UNIT[match[2]] : 0;
  if (ms > 0 && Number.isSafeInteger(ms)) return ms;
  throw new SessionConfigurationError(
    option,
    `is ${JSON.stringify(value)}, which is not a duration`,
    'Use a positive number of milliseconds or a string like "500ms", "30s", "30m", "12h" or "7d".',
  );
}
