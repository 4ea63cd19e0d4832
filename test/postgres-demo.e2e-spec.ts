/**
 * The demo on PostgreSQL: DATABASE_URL picks the PostgreSQL store, migrating its tables at boot;
 * giving REDIS_URL too is a start-up error that says so. The demo's locked counter shows the
 * session lock working on PostgreSQL: concurrent increments lose nothing.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { readDemoConfig } from '../src/demo/demo-config.js';
import { DemoModule } from '../src/demo/demo.module.js';
import { DemoUsers } from '../src/demo/demo-users.js';
import { sessionCookieFrom, startApp, TEST_SECRET } from './support/test-app.js';
import { startPostgresServer, type PostgresServerHandle } from './support/postgres-server.js';

describe('readDemoConfig with DATABASE_URL', () => {
  it('uses the PostgreSQL store with migrate: true', () => {
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, DATABASE_URL: 'postgres://demo@db.invalid/demo' });
    expect(config.session.store).toEqual({ type: 'postgres', connectionString: 'postgres://demo@db.invalid/demo', migrate: true });
  });

  it('refuses REDIS_URL and DATABASE_URL together, naming both', () => {
    expect(() => readDemoConfig({ SESSION_SECRET: TEST_SECRET, DATABASE_URL: 'postgres://db.invalid/x', REDIS_URL: 'redis://redis.invalid' })).toThrow(
      /REDIS_URL and DATABASE_URL are both set.*only one/,
    );
  });
});

describe('the demo booted on a private PostgreSQL', () => {
  let server: PostgresServerHandle;
  let app: INestApplication;

  beforeAll(async () => {
    // Private whatever DATABASE_URL says: the demo migrates into its default schema.
    server = await startPostgresServer({ private: true });
    const config = readDemoConfig({ SESSION_SECRET: TEST_SECRET, DATABASE_URL: server.connectionString });
    const moduleRef = await Test.createTestingModule({ imports: [DemoModule.register(config, await DemoUsers.create())] }).compile();
    app = await startApp(moduleRef, 'express');
  });

  afterAll(async () => {
    await app?.close();
    await server?.dispose();
  });

  it('logs in, and 50 concurrent locked increments of one counter end at exactly 50', async () => {
    const login = await request(app.getHttpServer()).post('/auth/login').send({ username: 'alice', password: 'alice-demo-password' });
    expect(login.status).toBe(200);
    const cookie = sessionCookieFrom(login);
    const answers = await Promise.all(Array.from({ length: 50 }, () => request(app.getHttpServer()).post('/demo/counter').set('Cookie', cookie)));
    expect(answers.filter((res) => res.status !== 200 && res.status !== 201).map((res) => res.status)).toEqual([]);
    const session = await request(app.getHttpServer()).get('/demo/session').set('Cookie', cookie);
    expect(session.body.counter).toBe(50);
  });
});
