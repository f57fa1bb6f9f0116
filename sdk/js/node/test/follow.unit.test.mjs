// followRevocations against a local HTTP server that plays the feed and
// its stream, answering as each test scripts it (the server's real feed is
// in follow.test.mjs): paging, the stream's events split anywhere, 410 and
// `resync` starting over with the whole state, polling when the stream is
// refused or silent, staleness on an injected clock, close().

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { eventually } from '../../../../tests/browser/harness/wait.mjs';
import { followRevocations } from '../dist/index.js';

const ENV = 'env_feed';
const TOKEN = 'pat_secret_token_value';
const FUTURE = '2099-01-01T00:00:00Z';
const claims = (sid, sub = 'usr_1', userEpoch = 0, envEpoch = 0) => ({
  sid,
  sub,
  user_epoch: userEpoch,
  env_epoch: envEpoch,
});

function page({ sessions = [], users = [], env = 0, cursor, more = false }) {
  return {
    sessions: sessions.map((id) =>
      Array.isArray(id) ? { session_id: id[0], expires_at: id[1] } : { session_id: id, expires_at: FUTURE },
    ),
    users: users.map(([user_id, epoch]) => ({ user_id, epoch })),
    environment_epoch: env,
    next_cursor: cursor,
    has_more: more,
  };
}

const event = (p) => `event: revocations\nid: ${p.next_cursor}\ndata: ${JSON.stringify(p)}\n\n`;

/**
 * The feed on 127.0.0.1: `onFeed(after, req)` answers `GET …/revocations`
 * with `[status, body]`; `onStream(lastEventId, res)` takes the stream's
 * response. `requests` lists what came: `{ kind, after, lastEventId, auth, limit }`.
 */
async function startFeed({ onFeed, onStream }) {
  const requests = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const base = `/api/v1/environments/${ENV}/revocations`;
    const auth = req.headers.authorization;
    const lastEventId = req.headers['last-event-id'];
    if (url.pathname === base) {
      const after = url.searchParams.get('after') ?? undefined;
      requests.push({ kind: 'feed', after, auth, limit: url.searchParams.get('limit') });
      const [status, body] = onFeed(after, req);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
    } else if (url.pathname === `${base}/stream`) {
      requests.push({ kind: 'stream', lastEventId, auth, accept: req.headers.accept });
      onStream(lastEventId, res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    count: (kind) => requests.filter((r) => r.kind === kind).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

const sse = (res) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });

/** Follows `feed` with short intervals; errors are collected in `errors`. */
function follow(feed, options = {}) {
  const errors = [];
  const follower = followRevocations({
    portcullisUrl: `${feed.url}/`,
    environmentId: ENV,
    apiToken: TOKEN,
    pollIntervalMs: 50,
    httpTimeoutMs: 2_000,
    onError: (e) => errors.push(e),
    ...options,
  });
  return { follower, errors };
}

const revoked = (follower, sid, ...rest) => follower.isRevoked(claims(sid, ...rest));

test('reads the whole state over pages, then applies the stream from its cursor', async (t) => {
  let stream;
  const feed = await startFeed({
    onFeed: (after) =>
      after === undefined
        ? [200, page({ sessions: ['ses_1'], cursor: '2', more: true })]
        : [200, page({ users: [['usr_2', 3]], env: 1, cursor: '4' })],
    onStream: (_, res) => {
      stream = res;
      sse(res);
      res.write(': heartbeat\n\n');
    },
  });
  const { follower, errors } = follow(feed);
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await follower.synced();
  assert.equal(revoked(follower, 'ses_1'), true);
  assert.equal(revoked(follower, 'ses_9', 'usr_2', 2, 1), true, "the user's epoch from the second page");
  assert.equal(revoked(follower, 'ses_9', 'usr_2', 3, 0), true, "the environment's epoch");
  assert.equal(revoked(follower, 'ses_9', 'usr_2', 3, 1), false);
  assert.ok(follower.isFresh());
  assert.deepEqual(
    feed.requests.slice(0, 2).map(({ kind, after, limit }) => ({ kind, after, limit })),
    [
      { kind: 'feed', after: undefined, limit: '1000' },
      { kind: 'feed', after: '2', limit: '1000' },
    ],
  );

  await eventually('the stream is open', () => stream);
  const opened = feed.requests.find((r) => r.kind === 'stream');
  assert.equal(opened.lastEventId, '4');
  assert.equal(opened.accept, 'text/event-stream');
  assert.ok(feed.requests.every((r) => r.auth === `Bearer ${TOKEN}`));

  // An event split anywhere, CRLF line ends, a CRLF cut between two chunks.
  const text = event(page({ sessions: ['ses_2'], cursor: '5' })).replaceAll('\n', '\r\n');
  for (const cut of [3, 17, 40, text.indexOf('\r\n') + 1, text.length - 1]) {
    stream.write(text.slice(0, cut));
    stream.write(text.slice(cut));
  }
  await eventually('the event is applied', () => revoked(follower, 'ses_2'));
  // A multi-line data field.
  const p = page({ sessions: ['ses_3'], cursor: '6' });
  stream.write(
    `event: revocations\nid: 6\ndata: {"sessions":${JSON.stringify(p.sessions)},\ndata: "users":[],"environment_epoch":1,"next_cursor":"6","has_more":false}\n\n`,
  );
  await eventually('the multi-line event is applied', () => revoked(follower, 'ses_3'));
  assert.deepEqual(errors, []);
  assert.equal(feed.count('stream'), 1, 'one stream all along');
});

test('a 410 starts over without a cursor, and the whole state replaces the index', async (t) => {
  let starts = 0;
  const feed = await startFeed({
    onFeed: (after) => {
      if (after === undefined) {
        starts++;
        return [
          200,
          starts === 1 ? page({ sessions: ['ses_old'], cursor: '5' }) : page({ sessions: ['ses_new'], cursor: '90' }),
        ];
      }
      return after === '6' ? [410, { code: 'cursor_expired' }] : [200, page({ cursor: after })];
    },
    onStream: (lastEventId, res) => {
      sse(res);
      // The first stream brings one event and ends (the server shut down); later ones stay open.
      if (lastEventId === '5') res.end(event(page({ sessions: ['ses_mid'], cursor: '6' })));
    },
  });
  const { follower, errors } = follow(feed);
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await follower.synced();
  await eventually('started over', () => starts === 2 && revoked(follower, 'ses_new'));
  assert.equal(revoked(follower, 'ses_old'), false, 'the old state is gone');
  assert.equal(revoked(follower, 'ses_mid'), false);
  await eventually('the stream is open from the new cursor', () => feed.requests.find((r) => r.lastEventId === '90'));
  assert.deepEqual(errors, [], 'a start over is no failure');
});

test('a 410 on the stream, and a resync event, start over too', async (t) => {
  let starts = 0;
  let streams = 0;
  const feed = await startFeed({
    onFeed: (after) => {
      if (after === undefined) starts++;
      return [200, page({ env: starts, cursor: `${starts}` })];
    },
    onStream: (_, res) => {
      streams++;
      if (streams === 1) return res.writeHead(410).end('{}');
      sse(res);
      if (streams === 2) res.write('event: resync\ndata: {"reason":"behind"}\n\n');
    },
  });
  const { follower } = follow(feed);
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await eventually('three starts', () => starts === 3 && streams === 3);
  assert.equal(revoked(follower, 'ses_1', 'usr_1', 0, 2), true, 'the epoch of the third start');
});

test('with the stream refused, the feed is polled from the cursor', async (t) => {
  let state = page({ cursor: '1' });
  const feed = await startFeed({
    onFeed: (after) => [200, after === '1' ? state : page({ cursor: '1' })],
    onStream: (_, res) => res.writeHead(404).end(),
  });
  const { follower, errors } = follow(feed);
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await follower.synced();
  state = page({ sessions: ['ses_polled'], cursor: '2' });
  await eventually('a poll brings the revocation', () => revoked(follower, 'ses_polled'));
  assert.match(errors[0]?.message ?? '', /the stream answered HTTP 404/);
});

test('a silent stream is taken for dead; the feed is polled and the stream opened again', async (t) => {
  const feed = await startFeed({
    onFeed: (after) => [200, page({ cursor: after ?? '1' })],
    onStream: (_, res) => sse(res), // never a byte
  });
  const { follower, errors } = follow(feed, { streamIdleTimeoutMs: 100 });
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await eventually('the stream opened again', () => feed.count('stream') >= 2);
  assert.match(errors[0].message, /the stream went silent|did not answer/);
});

test('errors never carry the API token', async (t) => {
  const feed = await startFeed({ onFeed: () => [401, { code: 'invalid_api_token' }], onStream: () => {} });
  const { follower, errors } = follow(feed);
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await eventually('two failures', () => errors.length >= 2);
  assert.match(errors[0].message, /the feed answered HTTP 401/);
  for (const e of errors) assert.ok(!JSON.stringify([e.message, String(e.cause), e.stack]).includes(TOKEN));
  // Out of reach: the address is named, the token is not.
  const gone = followRevocations({
    portcullisUrl: 'http://127.0.0.1:1',
    environmentId: ENV,
    apiToken: TOKEN,
    onError: (e) => errors.push(e),
  });
  await eventually('a connection error', () => errors.find((e) => e.message !== errors[0].message));
  await gone.close();
  for (const e of errors) assert.ok(!`${e.message} ${e.cause?.message}`.includes(TOKEN));
});

test('stale on the injected clock: fail_closed refuses with unavailable, fail_open answers on what it knows', async (t) => {
  const feed = await startFeed({
    onFeed: () => [200, page({ sessions: ['ses_1'], cursor: '1' })],
    onStream: (_, res) => sse(res),
  });
  let clock = 1_000_000;
  const now = () => clock;
  const closed = follow(feed, { now, staleAfterMs: 60_000 }).follower;
  const open = follow(feed, { now, staleAfterMs: 60_000, policy: 'fail_open' }).follower;
  t.after(async () => {
    await closed.close();
    await open.close();
    await feed.close();
  });
  await Promise.all([closed.synced(), open.synced()]);
  assert.equal(closed.lastHeard(), 1_000_000);
  assert.equal(revoked(closed, 'ses_1'), true);
  clock += 60_000;
  assert.ok(closed.isFresh(), 'at the bound');
  clock += 1;
  assert.equal(closed.isFresh(), false);
  assert.throws(
    () => revoked(closed, 'ses_2'),
    (e) => e.code === 'unavailable' && e.status === 503,
  );
  assert.equal(revoked(open, 'ses_2'), false);
  assert.equal(revoked(open, 'ses_1'), true);
  clock -= 120_000;
  assert.ok(closed.isFresh(), 'a clock gone back is not staleness');
});

test('before the first sync: fail_closed refuses, fail_open accepts; synced() rejects on close', async () => {
  const closed = followRevocations({
    portcullisUrl: 'http://127.0.0.1:1',
    environmentId: ENV,
    apiToken: TOKEN,
    onError() {},
  });
  const open = followRevocations({
    portcullisUrl: 'http://127.0.0.1:1',
    environmentId: ENV,
    apiToken: TOKEN,
    policy: 'fail_open',
    onError() {},
  });
  assert.throws(
    () => revoked(closed, 'ses_1'),
    (e) => e.code === 'unavailable',
  );
  assert.equal(revoked(open, 'ses_1'), false);
  assert.equal(closed.lastHeard(), undefined);
  const synced = closed.synced();
  await closed.close();
  await open[Symbol.asyncDispose]();
  await assert.rejects(synced, /closed before it synced/);
});

test('expired sessions are forgotten on the injected clock', async (t) => {
  let clock = Date.parse('2030-01-01T00:00:00Z');
  let cursor = 1;
  const feed = await startFeed({
    onFeed: (after) =>
      after === undefined
        ? [200, page({ sessions: [['ses_1', '2030-01-01T00:01:00Z']], cursor: '1' })]
        : [200, page({ cursor: `${++cursor}` })],
    onStream: (_, res) => res.writeHead(503).end(),
  });
  const { follower } = follow(feed, { now: () => clock, staleAfterMs: Infinity });
  t.after(async () => {
    await follower.close();
    await feed.close();
  });
  await follower.synced();
  assert.equal(revoked(follower, 'ses_1'), true);
  clock += 120_000;
  await eventually('forgotten at the next poll', () => !revoked(follower, 'ses_1'));
});

test('close() ends the loop at once, whatever it is waiting on', async () => {
  const feed = await startFeed({ onFeed: () => [200, page({ cursor: '1' })], onStream: (_, res) => sse(res) });
  const streaming = follow(feed).follower;
  const polling = follow(feed, { pollIntervalMs: 3_600_000, portcullisUrl: 'http://127.0.0.1:1' }).follower;
  await streaming.synced();
  await eventually('the stream is open', () => feed.count('stream') === 1);
  const started = Date.now();
  await Promise.all([streaming.close(), polling.close()]);
  assert.ok(Date.now() - started < 1_000, `closed in ${Date.now() - started} ms`);
  await streaming.close(); // twice is fine
  await feed.close();
});

test('options are checked; the token is not named', () => {
  assert.throws(() => followRevocations({ portcullisUrl: 'http://x', environmentId: ENV }), TypeError);
  assert.throws(
    () => followRevocations({ portcullisUrl: 'http://x', environmentId: ENV, apiToken: TOKEN, policy: 'open' }),
    (e) => e instanceof TypeError && !e.message.includes(TOKEN),
  );
});
