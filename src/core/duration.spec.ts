import { parseDuration } from './duration.js';
import { SessionConfigurationError } from './errors.js';

function rejection(option: string, value: unknown): SessionConfigurationError {
  try {
    parseDuration(option, value as never);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigurationError);
    return error as SessionConfigurationError;
  }
  throw new Error(`parseDuration accepted ${String(value)}`);
}

describe('parseDuration', () => {
  it('returns a positive whole number of milliseconds unchanged', () => {
    expect(parseDuration('idleTimeout', 1)).toBe(1);
    expect(parseDuration('idleTimeout', 1_800_000)).toBe(1_800_000);
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 604_800_000],
    ['1ms', 1],
  ])('reads %s as %d milliseconds', (text, ms) => {
    expect(parseDuration('idleTimeout', text)).toBe(ms);
  });

  it.each([['1.5h'], ['30 minutes'], ['30'], ['m'], ['30M'], ['-5m'], ['0s'], ['0ms'], [''], ['5w'], ['1e3ms'], ['99999999999999999d']])(
    'rejects the string %j naming the option',
    (text) => {
      const error = rejection('absoluteTimeout', text);
      expect(error.option).toBe('absoluteTimeout');
      expect(error.message).toContain('`absoluteTimeout`');
      expect(error.message).toContain(JSON.stringify(text));
    },
  );

  it.each([[0], [-1], [-60_000], [Number.NaN], [1.5], [Number.POSITIVE_INFINITY], [2 ** 60]])(
    'rejects the number %p naming the option',
    (value) => {
      const error = rejection('touchInterval', value);
      expect(error.option).toBe('touchInterval');
      expect(error.message).toContain('`touchInterval`');
    },
  );

  it('rejects values that are neither numbers nor strings, naming the option', () => {
    for (const value of [null, undefined, {}, ['30m'], true]) {
      expect(rejection('idleTimeout', value).option).toBe('idleTimeout');
    }
  });
});
