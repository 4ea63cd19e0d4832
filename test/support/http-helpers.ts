/**
 * Small HTTP helpers shared by the session e2e suites: the adapter × store matrix, store
 * options with a unique Redis key prefix per app, login, and Set-Cookie parsing.
 */
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request, { type Response } from 'supertest';
import type { SessionStoreOption } from '../../src/index.js';
import { ADAPTERS, TEST_USERS, type AdapterName } from './test-app.js';

export type StoreKind = 'memory' | 'redis';
export const STORES: StoreKind[] = ['memory', 'redis'];

/** Every suite runs over both adapters and both stores. */
export const MATRIX: Array<[AdapterName, StoreKind]> = ADAPTERS.flatMap((adapter) =>
  STORES.map((store): [AdapterName, StoreKind] => [adapter, store]),
);

/** A key prefix no other app in the run uses, so apps sharing one Redis server never see each other. */
export function uniqueKeyPrefix(label = 'e2e'): string {
  return `${label}-${randomBytes(6).toString('hex')}:`;
}

/** The store option for one app: memory, or the suite's private Redis under a fresh prefix. */
export function storeOption(kind: StoreKind, redisUrl: string | undefined, keyPrefix = uniqueKeyPrefix()): SessionStoreOption {
  if (kind === 'memory') return { type: 'memory' };
  if (redisUrl === undefined) throw new Error('the Redis variant needs the suite’s redis server (startRedisServer in beforeAll)');
  return { type: 'redis', url: redisUrl, keyPrefix };
}

export function http(app: INestApplication) {
  return request(app.getHttpServer());
}

/** Every Set-Cookie header of a response. */
export function setCookies(response: Response): string[] {
  const raw = response.headers['set-cookie'] as unknown;
  if (Array.isArray(raw)) return raw as string[];
  return typeof raw === 'string' ? [raw] : [];
}

export interface ParsedSetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case; flag attributes map to true. */
  attributes: Map<string, string | true>;
  raw: string;
}

export function parseSetCookie(raw: string): ParsedSetCookie {
  const [pair, ...rest] = raw.split(';');
  const eq = pair.indexOf('=');
  const attributes = new Map<string, string | true>();
  for (const part of rest) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at < 0) attributes.set(trimmed.toLowerCase(), true);
    else attributes.set(trimmed.slice(0, at).toLowerCase(), trimmed.slice(at + 1));
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, raw };
}

/** The single Set-Cookie of the given name, parsed; fails the test when it is missing or repeated. */
export function sessionSetCookie(response: Response, name = 'sid'): ParsedSetCookie {
  const matches = setCookies(response)
    .map(parseSetCookie)
    .filter((cookie) => cookie.name === name);
  if (matches.length !== 1) {
    throw new Error(`expected one ${name} Set-Cookie, got ${JSON.stringify(setCookies(response))}`);
  }
  return matches[0];
}

/** `name=value` of a cookie pair, split at the first `=`. */
export function cookieValue(pair: string): string {
  return pair.slice(pair.indexOf('=') + 1);
}

export interface LoginResult {
  response: Response;
  /** `sid=<value>`, ready for a Cookie header. */
  cookie: string;
}

export async function login(
  app: INestApplication,
  username: keyof typeof TEST_USERS & string,
  options: { cookie?: string; userAgent?: string; cookieName?: string; headers?: Record<string, string> } = {},
): Promise<LoginResult> {
  let req = http(app).post('/auth/login').send({ username, password: TEST_USERS[username].password });
  if (options.cookie) req = req.set('Cookie', options.cookie);
  if (options.userAgent) req = req.set('User-Agent', options.userAgent);
  for (const [name, value] of Object.entries(options.headers ?? {})) req = req.set(name, value);
  const response = await req;
  if (response.status !== 200) throw new Error(`login of ${username} answered ${response.status}: ${response.text}`);
  const parsed = sessionSetCookie(response, options.cookieName ?? 'sid');
  return { response, cookie: `${parsed.name}=${parsed.value}` };
}

/** Status of GET /auth/me with the given Cookie header (none when undefined). */
export async function meStatus(app: INestApplication, cookie?: string, headers: Record<string, string> = {}): Promise<number> {
  let req = http(app).get('/auth/me');
  if (cookie !== undefined) req = req.set('Cookie', cookie);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  return (await req).status;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
