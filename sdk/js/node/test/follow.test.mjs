// followRevocations against a real Portcullis server (the browser tests'
// harness, no browser): revocations of a session, a user and the
// environment reach a verifier through the stream; with the stream refused
// (a proxy answers 404) they come by polling; with the line cut (a TCP
// forwarder), the stale policy applies on an injected clock, and once the
// line is back the follower resumes from its cursor and misses nothing.
// Needs the server binary: PORTCULLIS_BIN, default target/debug/portcullis
// (scripts/test-node-verifier).

import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import { createConnection, createServer as createTcpServer } from 'node:net';
import { after, before, test } from 'node:test';
import { startServer } from '../../../../tests/browser/harness/server.mjs';
import { startMailSink } from '../../../../tests/browser/harness/mail.mjs';
import { eventually } from '../../../../tests/browser/harness/wait.mjs';
import { createVerifier, followRevocations } from '../dist/index.js';

/** How long a revocation may take to reach the verifier: moments by the stream, a few polls otherwise. */
const REACHES_WITHIN_MS = 5_000;

let mail, server, issuer, apiToken;
before(async () => {
  mail = await startMailSink();
  server = await startServer({ mail });
  issuer = (await server.sdk('GET', '/.well-known/openid-configuration')).expect(200).issuer;
  // What the docs ask for: a viewer token, limited to the environment.
  ({ secret: apiToken } = (
    await server.api('POST', '/tokens', {
      note: 'follows the revocations',
      role: 'viewer',
      environment_id: server.sandbox,
    })
  ).expect(201));
});
after(async () => {
  await server?.stop();
  await mail?.close();
});

let users = 0;
const freshEmail = (what) => `${what}-${++users}@example.test`;
const env = () => server.sandbox;

/** A follower of the sandbox's feed at `url`, closed after the test; its errors land in `errors`. */
async function follow(t, url, options = {}) {
  const errors = [];
  const follower = followRevocations({
    portcullisUrl: url,
    environmentId: env(),
    apiToken,
    onError: (e) => errors.push(e),
    ...options,
  });
  t.after(() => follower.close());
  await follower.synced();
  return { follower, errors };
}

/** A verifier of the sandbox's tokens that asks `following.follower`; it keeps `following` for failure messages. */
const verifierWith = (following, jwksBase = server.base) =>
  Object.assign(
    createVerifier({
      issuer,
      audience: env(),
      jwksUri: `${jwksBase}/sdk/v1/${env()}/.well-known/jwks.json`,
      revocations: following.follower,
    }),
    { following },
  );

/** Signs in `email` (or a new address made from `what`): `{ token, sid, user }`. */
async function signIn(what, email = freshEmail(what)) {
  const answer = await server.signInUserAnswer(email);
  return { token: answer.token, sid: answer.session.id, user: answer.user.id };
}

const codeOf = (promise) =>
  promise.then(
    () => 'accepted',
    (e) => e.code ?? e.message,
  );

/** Waits until `verifier` refuses `token` with `code`; if it does not, says what the follower was at. */
async function until(verifier, token, code = 'session_revoked') {
  let last;
  try {
    await eventually(
      `the verifier refuses the token with ${code}`,
      async () => (last = await codeOf(verifier.verifySession(token))) === code,
      { timeout: REACHES_WITHIN_MS },
    );
  } catch (e) {
    const { follower, errors } = verifier.following;
    const heard = follower.lastHeard();
    e.message +=
      ` (last answer: ${last}; the follower: fresh ${follower.isFresh()},` +
      ` last heard ${heard === undefined ? 'never' : `${Date.now() - heard} ms ago`},` +
      ` errors: ${JSON.stringify(errors.map((error) => error.message))})`;
    throw e;
  }
}

test('a session, a user and the environment revoked are refused through the stream; others stay accepted', async (t) => {
  // Polling an hour apart: only the stream can bring the news in time.
  const { follower, errors } = await follow(t, server.base, { pollIntervalMs: 3_600_000 });
  assert.ok(follower.isFresh());
  const verifier = verifierWith({ follower, errors });

  // One session.
  const ada = await signIn('ada');
  const bob = await signIn('bob');
  assert.equal((await verifier.verifySession(ada.token)).sid, ada.sid);
  (await server.api('POST', `/environments/${env()}/sessions/${ada.sid}/revoke`)).expect(200);
  await until(verifier, ada.token);
  assert.equal(await codeOf(verifier.verifySession(bob.token)), 'accepted', 'another session');

  // A user: every session issued before.
  const carolEmail = freshEmail('carol');
  const carol = await signIn('carol', carolEmail);
  const carolAgain = await signIn('carol', carolEmail);
  assert.equal(carolAgain.user, carol.user);
  (await server.api('POST', `/environments/${env()}/users/${carol.user}/sessions/revoke`)).expect(200);
  await until(verifier, carol.token);
  await until(verifier, carolAgain.token);
  const carolAfter = (await signIn('carol', carolEmail)).token;
  assert.equal(await codeOf(verifier.verifySession(carolAfter)), 'accepted', 'issued after');
  assert.equal(await codeOf(verifier.verifySession(bob.token)), 'accepted', 'another user');

  // The environment: every session issued before.
  (await server.api('POST', `/environments/${env()}/sessions/revoke`)).expect(200);
  await until(verifier, bob.token);
  await until(verifier, carolAfter);
  const dan = await signIn('dan');
  assert.equal(await codeOf(verifier.verifySession(dan.token)), 'accepted', 'issued after');
  assert.deepEqual(errors, [], 'the stream never failed');
});

test('with the stream refused, revocations come by polling', async (t) => {
  // A proxy to the server that answers 404 for the stream.
  const seen = { stream: 0, polls: 0 };
  const proxy = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.endsWith('/revocations/stream')) {
      seen.stream++;
      return res.writeHead(404).end();
    }
    if (path.endsWith('/revocations') && req.url.includes('after=')) seen.polls++;
    const target = new URL(req.url, server.base);
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise((resolve) => {
        proxy.closeAllConnections();
        proxy.close(resolve);
      }),
  );
  const { follower, errors } = await follow(t, `http://127.0.0.1:${proxy.address().port}`, { pollIntervalMs: 200 });
  const verifier = verifierWith({ follower, errors });

  const erin = await signIn('erin');
  const fay = await signIn('fay');
  assert.equal(await codeOf(verifier.verifySession(erin.token)), 'accepted');
  (await server.api('POST', `/environments/${env()}/sessions/${erin.sid}/revoke`)).expect(200);
  await until(verifier, erin.token);
  assert.equal(await codeOf(verifier.verifySession(fay.token)), 'accepted');
  assert.ok(seen.stream >= 1 && seen.polls >= 1, JSON.stringify(seen));
  assert.match(errors[0]?.message ?? '', /the stream answered HTTP 404/);
});

/** A TCP forwarder to the server that the test can cut (close every connection, refuse new ones) and restore. */
async function startLine(t) {
  const target = new URL(server.base);
  const sockets = new Set();
  const requests = []; // request lines, in order, with `+last-event-id` when the header is there
  let down = false;
  const line = createTcpServer((client) => {
    if (down) return client.destroy();
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.on('data', (chunk) => {
      for (const head of chunk.toString('latin1').split(/\r\n\r\n/)) {
        const start = /^(GET|POST) \S+/.exec(head);
        if (start) requests.push(/^last-event-id:/im.test(head) ? `${start[0]} +last-event-id` : start[0]);
      }
    });
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((resolve) => line.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => line.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${line.address().port}`,
    requests,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      down = false;
    },
  };
}

test('with the line cut: the policy applies past the bound; back, the follower resumes from its cursor and misses nothing', async (t) => {
  const line = await startLine(t);
  let offset = 0;
  const now = () => Date.now() + offset;
  const STALE_AFTER_MS = 60_000;
  const options = { now, staleAfterMs: STALE_AFTER_MS, pollIntervalMs: 100 };
  const closed = await follow(t, line.url, options);
  const open = await follow(t, line.url, { ...options, policy: 'fail_open' });
  // The keys come through the line too: once cached, they verify without it.
  const closedVerifier = verifierWith(closed, line.url);
  const openVerifier = verifierWith(open, line.url);
  const gil = await signIn('gil');
  const hal = await signIn('hal');
  for (const verifier of [closedVerifier, openVerifier]) {
    for (const { token } of [gil, hal]) assert.equal(await codeOf(verifier.verifySession(token)), 'accepted');
  }

  line.cut();
  assert.equal(await codeOf(closedVerifier.verifySession(gil.token)), 'accepted', 'cached keys, a fresh state');
  // A revocation the followers cannot hear yet.
  (await server.api('POST', `/environments/${env()}/sessions/${hal.sid}/revoke`)).expect(200);
  offset = STALE_AFTER_MS + 1_000;
  await until(closedVerifier, gil.token, 'unavailable');
  assert.equal(closed.follower.isFresh(), false);
  assert.equal(await codeOf(closedVerifier.verifySession(hal.token)), 'unavailable');
  assert.equal(await codeOf(openVerifier.verifySession(hal.token)), 'accepted', 'fail open: what it knew');
  assert.equal(await codeOf(openVerifier.verifySession(gil.token)), 'accepted');

  // Back: each follower reads the feed from its cursor (not the whole state again), and refuses what was revoked meanwhile.
  const requestsBefore = line.requests.length;
  line.restore();
  await eventually('the followers hear the feed again', () => closed.follower.isFresh() && open.follower.isFresh(), {
    timeout: REACHES_WITHIN_MS,
  });
  await until(closedVerifier, hal.token);
  await until(openVerifier, hal.token);
  assert.equal(await codeOf(closedVerifier.verifySession(gil.token)), 'accepted', 'still valid');
  const resumed = line.requests.slice(requestsBefore).filter((r) => r.includes('/revocations'));
  assert.ok(resumed.length > 0, 'requests after the line is back');
  assert.ok(
    resumed.every((r) => /[?&]after=\w/.test(r) || r.endsWith('/revocations/stream +last-event-id')),
    `every request resumes from a cursor: ${resumed.join(', ')}`,
  );
  for (const e of [...closed.errors, ...open.errors]) {
    assert.ok(!`${e.message} ${e.cause?.message}`.includes(apiToken), 'no error carries the API token');
  }
});
