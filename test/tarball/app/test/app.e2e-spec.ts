import { INestApplication } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { SessionTesting } from 'nestjs-session-auth/testing';
import request from 'supertest';
import { AppModule } from './../src/app.module';

describe.each(['express', 'fastify'])('AppModule over %s (e2e)', (adapter) => {
  let app: INestApplication;

  beforeEach(async () => {
    const moduleFixture = await Test.createTestingModule({ imports: [AppModule] }).compile();
    if (adapter === 'fastify') {
      app = moduleFixture.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
      await app.init();
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    } else {
      app = moduleFixture.createNestApplication();
      await app.init();
    }
  });

  afterEach(async () => {
    await app.close();
  });

  it('logs in, reads the profile, keeps session data, lists sessions and logs out', async () => {
    const server = app.getHttpServer();
    await request(server).get('/profile').expect(401);

    const login = await request(server).post('/auth/login').send({ username: 'alice', password: 'alice-password' }).expect(200);
    const cookie = login.get('Set-Cookie')![0].split(';')[0];

    await request(server).get('/profile').set('Cookie', cookie).expect(200, { id: 'u-alice' });
    await request(server).put('/profile/note').set('Cookie', cookie).send({ note: 'hello' }).expect(200);
    await request(server).get('/profile/note').set('Cookie', cookie).expect(200, { note: 'hello' });
    const sessions = await request(server).get('/auth/sessions').set('Cookie', cookie).expect(200);
    expect(sessions.body).toHaveLength(1);

    await request(server).post('/auth/logout').set('Cookie', cookie).expect(204);
    await request(server).get('/profile').set('Cookie', cookie).expect(401);
  });

  it('starts logged in through SessionTesting (nestjs-session-auth/testing), without the login route', async () => {
    const { cookie, sessionId } = await SessionTesting.from(app).login({ id: 'u-kit', roles: ['user'] }, { data: { note: 'seeded' } });
    const server = app.getHttpServer();
    await request(server).get('/profile').set('Cookie', cookie!).expect(200, { id: 'u-kit' });
    await request(server).get('/profile/note').set('Cookie', cookie!).expect(200, { note: 'seeded' });
    const sessions = await request(server).get('/auth/sessions').set('Cookie', cookie!).expect(200);
    expect(sessions.body.map((session: { id: string }) => session.id)).toEqual([sessionId]);
  });

  it('answers 401 for a wrong password', async () => {
    await request(app.getHttpServer()).post('/auth/login').send({ username: 'alice', password: 'wrong' }).expect(401);
  });
});
