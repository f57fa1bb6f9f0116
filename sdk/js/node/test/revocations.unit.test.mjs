// The revocation index alone (src/revocations.ts): the server's rule in
// each scope, epochs that never fall, expired sessions forgotten, and the
// shape a feed page must have.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFeedPage, RevocationIndex } from '../dist/index.js';

const claims = (sid, sub, userEpoch, envEpoch) => ({ sid, sub, user_epoch: userEpoch, env_epoch: envEpoch });

function page({ sessions = [], users = [], env = 0, cursor = '1', more = false } = {}) {
  return {
    sessions: sessions.map(([session_id, expires_at]) => ({ session_id, user_id: 'usr_x', expires_at })),
    users: users.map(([user_id, epoch]) => ({ user_id, epoch })),
    environment_epoch: env,
    next_cursor: cursor,
    has_more: more,
  };
}

test('a revoked session is refused, and only that one', () => {
  const index = new RevocationIndex();
  assert.equal(index.isRevoked(claims('ses_1', 'usr_1', 0, 0)), false, 'an empty index revokes nothing');
  index.apply(page({ sessions: [['ses_1', '2099-12-03T17:20:48Z']] }));
  assert.equal(index.isRevoked(claims('ses_1', 'usr_1', 0, 0)), true);
  assert.equal(index.isRevoked(claims('ses_2', 'usr_1', 0, 0)), false);
});

test("a user's epoch refuses the sessions issued before it, not after", () => {
  const index = new RevocationIndex();
  index.apply(page({ users: [['usr_2', 2]] }));
  assert.equal(index.isRevoked(claims('ses_3', 'usr_2', 1, 0)), true, 'issued before');
  assert.equal(index.isRevoked(claims('ses_4', 'usr_2', 2, 0)), false, 'issued after');
  assert.equal(index.isRevoked(claims('ses_5', 'usr_3', 0, 0)), false, 'another user');
});

test("the environment's epoch refuses every session issued before it", () => {
  const index = new RevocationIndex();
  index.apply(page({ env: 3 }));
  assert.equal(index.isRevoked(claims('ses_5', 'usr_9', 0, 2)), true);
  assert.equal(index.isRevoked(claims('ses_5', 'usr_9', 0, 3)), false);
  assert.equal(index.environmentEpoch, 3);
});

test('epochs never fall', () => {
  const index = new RevocationIndex();
  index.apply(page({ users: [['usr_2', 2]], env: 3 }));
  index.apply(page({ users: [['usr_2', 1]], env: 1 }));
  assert.equal(index.isRevoked(claims('ses_3', 'usr_2', 1, 5)), true, "the user's epoch stays 2");
  assert.equal(index.isRevoked(claims('ses_3', 'usr_9', 0, 2)), true, "the environment's epoch stays 3");
  index.apply(page({ users: [['usr_2', 4]] }));
  assert.equal(index.isRevoked(claims('ses_3', 'usr_2', 3, 5)), true, 'and they rise');
});

test('sessions are forgotten at their expires_at', () => {
  const index = new RevocationIndex();
  index.apply(
    page({
      sessions: [
        ['ses_1', '1970-01-01T00:01:40Z'],
        ['ses_2', '1970-01-01T00:03:20.5Z'],
      ],
    }),
  );
  index.forgetExpired(99_999);
  assert.equal(index.sessionCount, 2, 'not before');
  index.forgetExpired(100_000);
  assert.equal(index.sessionCount, 1);
  assert.equal(index.isRevoked(claims('ses_1', 'u', 0, 0)), false);
  assert.equal(index.isRevoked(claims('ses_2', 'u', 0, 0)), true);
  index.forgetExpired(200_500);
  assert.equal(index.sessionCount, 0);
});

test('a session whose expires_at cannot be read is kept', () => {
  const index = new RevocationIndex();
  index.apply(page({ sessions: [['ses_1', 'not a time']] }));
  index.forgetExpired(Number.MAX_SAFE_INTEGER);
  assert.equal(index.isRevoked(claims('ses_1', 'u', 0, 0)), true);
});

test('RFC 3339 times with an offset are read as such', () => {
  const index = new RevocationIndex();
  index.apply(page({ sessions: [['ses_1', '1970-01-01T01:01:40+01:00']] }));
  index.forgetExpired(99_999);
  assert.equal(index.sessionCount, 1);
  index.forgetExpired(100_000);
  assert.equal(index.sessionCount, 0);
});

test('a feed page is checked for shape', () => {
  const good = page({ sessions: [['ses_1', '2099-01-01T00:00:00Z']], users: [['usr_1', 1]], env: 2, cursor: '42' });
  assert.deepEqual(parseFeedPage(good), good);
  const bad = [
    null,
    'text',
    { ...good, sessions: undefined },
    { ...good, sessions: [{ session_id: 1, expires_at: 'x' }] },
    { ...good, users: [{ user_id: 'usr_1', epoch: '1' }] },
    { ...good, users: [null] },
    { ...good, environment_epoch: 1.5 },
    { ...good, next_cursor: 42 },
    { ...good, has_more: 'false' },
  ];
  for (const value of bad) assert.throws(() => parseFeedPage(value), TypeError, JSON.stringify(value));
});
