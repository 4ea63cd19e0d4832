/**
 * Headless Chromium for the browser suites: Debian's `chromium` package (/usr/bin/chromium, or
 * CHROMIUM_BIN) driven through playwright-core, which downloads no browser of its own. Each
 * launch gets a fresh profile (Playwright makes a new temporary user data directory per
 * launch and removes it on close), and the flags keep Chromium from calling home, so a run
 * depends on nothing but the app under test.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_BIN = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`No Chromium at ${CHROMIUM_BIN}: install Debian's package (apt-get install -y chromium), as .ci/run does, or set CHROMIUM_BIN.`);
  }
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: FLAGS, timeout: 60_000 });
}
