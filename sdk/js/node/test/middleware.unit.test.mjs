// The guards: portcullisExpress behind a plain node:http server (the
// adapter an Express app is: `(req, res, next)`), portcullisFastify with a
// reply shaped as Fastify's.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { createVerifier, portcullisExpress, portcullisFastify, tokenFromHeaders } from '../dist/index.js';
import { claims, ENV, makeKey, sign, signElevated, startIssuer } from './fixtures.mjs';

let key, issuer, verifier;
before(async () => {
  key = await makeKey('ES256');
  issuer = await startIssuer([key]);
  verifier = createVerifier({ issuer: issuer.issuer, audience: ENV });
});
after(() => issuer.close());

/** An app whose one route answers `req.portcullis` after the guard: Express's calling convention on node:http. */
async function app(guard) {
  const server = createServer((req, res) =>
    guard(req, res, (error) => {
      if (error) {
        res.writeHead(500).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ session: req.portcullis, elevated: req.portcullisElevated ?? null }));
    }));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    get: (headers = {}) => fetch(`http://127.0.0.1:${server.address().port}/api/me`, { headers }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

async function expectProblem(response, status, code, token) {
  assert.equal(response.status, status);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const text = await response.text();
  if (token) assert.ok(!text.includes(token), 'the token is not echoed');
  const body = JSON.parse(text);
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  return response;
}

test('Express-style: a bearer token or the session cookie passes and sets req.portcullis', async () => {
  const server = await app(portcullisExpress(verifier));
  try {
    const token = await sign(key, claims(issuer));
    const byBearer = await server.get({ authorization: `Bearer ${token}` });
    assert.equal(byBearer.status, 200);
    assert.equal((await byBearer.json()).session.sub, 'usr_1');
    const byCookie = await server.get({ cookie: `theme=dark; portcullis_session=${token}; other=1` });
    assert.equal(byCookie.status, 200);
    assert.equal((await byCookie.json()).session.sid, 'ses_1');
  } finally {
    await server.close();
  }
});

test('Express-style: refusals are answered as problem+json (401 with a challenge, 403), never echoing the token', async () => {
  const server = await app(portcullisExpress(verifier));
  try {
    const missing = await expectProblem(await server.get(), 401, 'missing_credentials');
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    const expired = await sign(key, claims(issuer, { exp: Math.floor(Date.now() / 1000) - 600 }));
    const refused = await expectProblem(await server.get({ authorization: `Bearer ${expired}` }), 401, 'token_expired', expired);
    assert.match(refused.headers.get('www-authenticate'), /error="invalid_token"/);
    const partial = await sign(key, claims(issuer, { scope: 'requiresAdditionalAuth' }));
    await expectProblem(await server.get({ authorization: `Bearer ${partial}` }), 403, 'mfa_required', partial);
    const elevated = await signElevated(key, issuer, 'wallet:sign');
    await expectProblem(await server.get({ authorization: `Bearer ${elevated}` }), 401, 'invalid_token', elevated);
    await expectProblem(await server.get({ authorization: 'Basic dXNlcjpwYXNz' }), 401, 'missing_credentials');
  } finally {
    await server.close();
  }
});

test('Express-style options: allowPartial, no cookie, elevatedScope bound to the session', async () => {
  const partialServer = await app(portcullisExpress(verifier, { allowPartial: true, cookie: false }));
  const elevatedServer = await app(portcullisExpress(verifier, { elevatedScope: 'wallet:export' }));
  try {
    const partial = await sign(key, claims(issuer, { scope: 'requiresAdditionalAuth' }));
    assert.equal((await partialServer.get({ authorization: `Bearer ${partial}` })).status, 200);
    await expectProblem(await partialServer.get({ cookie: `portcullis_session=${partial}` }), 401, 'missing_credentials');

    const session = await sign(key, claims(issuer));
    await expectProblem(await elevatedServer.get({ authorization: `Bearer ${session}` }), 403, 'elevated_token_required');
    const ofOtherSession = await signElevated(key, issuer, 'wallet:export', { sid: 'ses_other' });
    await expectProblem(await elevatedServer.get({ authorization: `Bearer ${session}`, 'x-portcullis-elevated-token': ofOtherSession }),
      403, 'elevated_token_required', ofOtherSession);
    const otherScope = await signElevated(key, issuer, 'wallet:sign');
    await expectProblem(await elevatedServer.get({ authorization: `Bearer ${session}`, 'x-portcullis-elevated-token': otherScope }),
      403, 'elevated_token_required');
    const good = await signElevated(key, issuer, 'wallet:export');
    const passed = await elevatedServer.get({ authorization: `Bearer ${session}`, 'x-portcullis-elevated-token': good });
    assert.equal(passed.status, 200);
    assert.equal((await passed.json()).elevated.scope, 'wallet:export');
  } finally {
    await partialServer.close();
    await elevatedServer.close();
  }
});

test('Express-style: an error that is not a refusal goes to next(error)', async () => {
  const broken = { verifySession: async () => { throw new Error('bug'); }, verifyElevated: async () => ({}) };
  const server = await app(portcullisExpress(broken));
  try {
    assert.equal((await server.get({ authorization: 'Bearer x' })).status, 500);
  } finally {
    await server.close();
  }
});

/** A reply with Fastify's chaining methods, recording what was sent. */
function fakeReply() {
  const reply = {
    sent: undefined,
    statusCode: 200,
    headerValues: {},
    code(status) { this.statusCode = status; return this; },
    headers(values) { Object.assign(this.headerValues, values); return this; },
    send(payload) { this.sent = payload; return this; },
  };
  return reply;
}

test('Fastify preHandler: sets request.portcullis, or answers the refusal and returns the reply', async () => {
  const hook = portcullisFastify(verifier);
  const token = await sign(key, claims(issuer));
  const request = { headers: { authorization: `Bearer ${token}` } };
  const reply = fakeReply();
  assert.equal(await hook(request, reply), undefined);
  assert.equal(request.portcullis.sub, 'usr_1');
  assert.equal(reply.sent, undefined);

  const refusedReply = fakeReply();
  const refusedRequest = { headers: { cookie: 'portcullis_session=a.b.c' } };
  assert.equal(await hook(refusedRequest, refusedReply), refusedReply);
  assert.equal(refusedReply.statusCode, 401);
  assert.equal(refusedReply.headerValues['content-type'], 'application/problem+json');
  assert.equal(JSON.parse(refusedReply.sent).code, 'invalid_token');
  assert.equal(refusedRequest.portcullis, undefined);

  const broken = portcullisFastify({ verifySession: async () => { throw new TypeError('bug'); } });
  await assert.rejects(broken({ headers: {} }, fakeReply()), TypeError);
});

test('tokenFromHeaders: bearer first, then the cookie (URL-decoded)', () => {
  assert.equal(tokenFromHeaders({ authorization: 'bearer  abc' }), 'abc');
  assert.equal(tokenFromHeaders({ authorization: 'Bearer abc', cookie: 'portcullis_session=def' }), 'abc');
  assert.equal(tokenFromHeaders({ cookie: 'a=1;portcullis_session=d%2Eef' }), 'd.ef');
  assert.equal(tokenFromHeaders({ cookie: 'xportcullis_session=1' }), undefined);
  assert.equal(tokenFromHeaders({ cookie: 'portcullis_session=def' }, false), undefined);
  assert.equal(tokenFromHeaders({ authorization: 'Bearer a b' }), undefined);
});
