/**
 * The demo's page in a real browser (headless Chromium through playwright-core), in session,
 * hybrid and jwt mode over Express and Fastify, on the suite's own redis-server: sign in through
 * the form, see the user and the session list, find the session cookie invisible to page script
 * (HttpOnly) and the tokens in no web storage, sign in a second device (another browser context,
 * its own cookie jar), revoke it from the first, see it signed out on its next action, sign out.
 * A screenshot of the sessions page goes to test-artifacts/browser/ (ignored by git).
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createDemoApp } from '../../src/demo/demo-app.js';
import { readDemoConfig } from '../../src/demo/demo-config.js';
import { DemoUsers } from '../../src/demo/demo-users.js';
import type { AuthMode } from '../../src/index.js';
import { uniqueKeyPrefix } from '../support/http-helpers.js';
import { startRedisServer, type RedisServerHandle } from '../support/redis-server.js';
import { TEST_SECRET, type AdapterName } from '../support/test-app.js';
import { launchChromium } from './chromium.js';

/** What the functions run in the page touch of its globals: this program compiles without the DOM lib. */
declare const document: {
  cookie: string;
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};
declare const localStorage: { length: number };
declare const sessionStorage: { length: number };

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-artifacts', 'browser');
const JWT_SECRET = 'browser-e2e-jwt-secret-that-is-long-enough-0123';
const ALICE = { username: 'alice', password: 'alice-demo-password' };
/** Bounds for conditions the page reaches in milliseconds; generous for a machine shared by several suites. */
const CONDITION_TIMEOUT_MS = 20_000;

const CASES: Array<[AuthMode, AdapterName]> = [
  ['session', 'express'],
  ['session', 'fastify'],
  ['hybrid', 'express'],
  ['hybrid', 'fastify'],
  ['jwt', 'express'],
  ['jwt', 'fastify'],
];

let redis: RedisServerHandle;
let browser: Browser;
let users: DemoUsers;

beforeAll(async () => {
  [redis, browser, users] = await Promise.all([startRedisServer(), launchChromium(), DemoUsers.create()]);
  mkdirSync(ARTIFACTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await redis?.stop();
});

interface Device {
  context: BrowserContext;
  page: Page;
}

describe.each(CASES)('the demo page in Chromium, %s mode over %s', (mode, adapter) => {
  let app: INestApplication;
  let base: string;
  const contexts: BrowserContext[] = [];

  beforeEach(async () => {
    const config = readDemoConfig({
      ADAPTER: adapter,
      AUTH_MODE: mode,
      SESSION_SECRET: TEST_SECRET,
      JWT_SECRET,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniqueKeyPrefix('browser'),
    });
    app = await createDemoApp(config, users, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await app?.close();
  });

  /** A device: a browser context of its own (cookies, storage), on the demo's page. */
  async function openDevice(name: string): Promise<Device> {
    const context = await browser.newContext({ userAgent: `${name} (browser e2e)` });
    contexts.push(context);
    context.setDefaultTimeout(CONDITION_TIMEOUT_MS);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.locator('#signed-out').waitFor({ state: 'visible' });
    return { context, page };
  }

  async function signIn({ page }: Device): Promise<void> {
    await page.fill('#username', ALICE.username);
    await page.fill('#password', ALICE.password);
    await page.click('#login-button');
    await page.locator('#status', { hasText: `Signed in as ${ALICE.username}.` }).waitFor();
    // render() fills the page after the sign-in: the user, then the session list.
    await page.waitForFunction(() => (document.querySelector('#me')?.textContent ?? '') !== '' && document.querySelectorAll('#sessions tr').length > 0, undefined, {
      timeout: CONDITION_TIMEOUT_MS,
    });
  }

  async function sessionRowsAre(page: Page, count: number): Promise<void> {
    await page.waitForFunction((expected) => document.querySelectorAll('#sessions tr').length === expected, count, { timeout: CONDITION_TIMEOUT_MS });
  }

  it('signs in, lists and revokes sessions across devices, keeps credentials out of page script, signs out', async () => {
    const laptop = await openDevice('Laptop');
    await signIn(laptop);
    expect(JSON.parse((await laptop.page.textContent('#me'))!)).toMatchObject({ id: 'u-alice', roles: ['user'] });
    expect(await laptop.page.textContent('#credential')).toContain(mode === 'session' ? 'HttpOnly session cookie' : 'bearer access token');
    await sessionRowsAre(laptop.page, 1);
    expect(await laptop.page.locator('#sessions tr[data-current="true"]').textContent()).toContain('Laptop (browser e2e)');

    // The browser holds the session cookie (session, hybrid), but page script cannot read it, and
    // the bearer tokens (jwt, hybrid) are in no storage a script or a later visit could read.
    const jar = await laptop.context.cookies();
    const sid = jar.find((cookie) => cookie.name === 'sid');
    if (mode === 'jwt') expect(sid).toBeUndefined();
    else expect(sid).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    const visible = await laptop.page.evaluate(() => ({ cookie: document.cookie, stored: localStorage.length + sessionStorage.length }));
    expect(visible).toEqual({ cookie: '', stored: 0 });

    const phone = await openDevice('Phone');
    await signIn(phone);
    await sessionRowsAre(phone.page, 2);

    await laptop.page.click('#refresh-sessions');
    await sessionRowsAre(laptop.page, 2);
    const screenshot = join(ARTIFACTS, `demo-sessions-${mode}-${adapter}.png`);
    await laptop.page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot of the sessions page: ${screenshot}`);

    await laptop.page.locator('#sessions tr', { hasText: 'Phone (browser e2e)' }).getByRole('button', { name: 'Revoke' }).click();
    await laptop.page.locator('#status', { hasText: 'Session revoked.' }).waitFor();
    await sessionRowsAre(laptop.page, 1);

    // The phone learns it on its next action: its credential is refused, the page shows sign-in.
    await phone.page.click('#refresh-sessions');
    await phone.page.locator('#signed-out').waitFor({ state: 'visible' });
    expect(await phone.page.textContent('#status')).toContain('ended on another device');
    expect(await phone.page.evaluate(async () => (await fetch('/auth/me')).status)).toBe(401);

    // The laptop is unaffected.
    await laptop.page.click('#refresh-sessions');
    await sessionRowsAre(laptop.page, 1);
    expect(await laptop.page.locator('#signed-in').isVisible()).toBe(true);

    await laptop.page.click('#logout');
    await laptop.page.locator('#signed-out').waitFor({ state: 'visible' });
    expect(await laptop.page.textContent('#status')).toBe('Signed out.');
    expect((await laptop.context.cookies()).find((cookie) => cookie.name === 'sid')).toBeUndefined();
    expect(await laptop.page.evaluate(async () => (await fetch('/auth/me')).status)).toBe(401);
  }, 120_000);
});
