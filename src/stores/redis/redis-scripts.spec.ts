import { SessionStoreUnavailableError } from '../../core/errors.js';
import { repliedFields } from './redis-scripts.js';

describe('repliedFields', () => {
  it('gives the flat field list of a JSON reply, and null for no session', () => {
    expect(repliedFields(JSON.stringify(['h', 'abc', 'c', '1700000000000', '.theme', '"dark"']))).toEqual(['h', 'abc', 'c', '1700000000000', '.theme', '"dark"']);
    expect(repliedFields(null)).toBeNull();
  });

  it('takes any other answer for the store failing (503), never a crash', () => {
    for (const reply of ['not json', '{"h":"abc"}', '[1,2]', 42, ['h', 'abc']]) {
      expect(() => repliedFields(reply)).toThrow(SessionStoreUnavailableError);
    }
  });
});
