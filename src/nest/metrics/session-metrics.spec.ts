import { SessionConfigurationError } from '../../core/errors.js';
import { loadPromClient } from './session-metrics.js';

describe('loadPromClient', () => {
  it('loads the installed prom-client', async () => {
    expect(typeof (await loadPromClient()).Counter).toBe('function');
  });

  it('fails at boot with an install hint naming the option when the package is missing', async () => {
    const failure = loadPromClient('prom-client-not-installed');
    await expect(failure).rejects.toBeInstanceOf(SessionConfigurationError);
    await expect(failure).rejects.toThrow(/SessionModule option `metrics` needs the prom-client package.*npm install prom-client/s);
  });
});
