import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryStore, resolveStore, stateStore } from '../dist/storage.js';
import { ElevatedTokens } from '../dist/elevated.js';
import {
  endEventFor,
  snapshotOf,
  startEventFor,
  stateFromAuthResult,
  stateFromCurrentSession,
} from '../dist/session-state.js';
import { authResult, jwt, sessionJson } from './fixtures.mjs';

test('resolveStore: Web Storage when present and readable, memory otherwise', () => {
  const local = memoryStore();
  assert.equal(resolveStore('local', { localStorage: local }), local);
  assert.notEqual(resolveStore('session', { localStorage: local }), local);
  const blocked = {
    get localStorage() {
      throw new Error('SecurityError');
    },
  };
  const fallback = resolveStore('local', blocked);
  fallback.setItem('k', 'v');
  assert.equal(fallback.getItem('k'), 'v');
  assert.equal(resolveStore(local), local);
});

test('the state store drops what it cannot read, and never persists a token in cookie mode', () => {
  const kv = memoryStore();
  const store = stateStore(kv, 'portcullis:env_1');
  kv.setItem('portcullis:env_1', '{not json');
  assert.equal(store.read(), null);
  assert.equal(kv.getItem('portcullis:env_1'), null);
  kv.setItem('portcullis:env_1', JSON.stringify({ mode: 'in_app', session: { id: 's' }, user: { id: 'u' }, expiresAt: 1 }));
  assert.equal(store.read(), null, 'in-app state without a token');

  const cookie = stateFromAuthResult(authResult({ mode: 'cookie' }), 'cookie');
  store.write({ ...cookie, token: 'eyJ.leaked.sig' });
  assert.doesNotMatch(kv.getItem('portcullis:env_1'), /eyJ|token"/);
  assert.equal(store.read().csrfToken, 'csrf_1');
  store.write(null);
  assert.equal(kv.getItem('portcullis:env_1'), null);
});

test('a store that throws (quota, blocked) does not break the SDK', () => {
  const angry = { getItem() { throw new Error('no'); }, setItem() { throw new Error('no'); }, removeItem() { throw new Error('no'); } };
  const store = stateStore(angry, 'k');
  assert.equal(store.read(), null);
  store.write(stateFromAuthResult(authResult(), 'in_app'));
  store.write(null);
});

test('an in-app auth result gives a state that expires at the JWT exp', () => {
  const token = jwt({ exp: 2_000_000_000, sid: 'ses_1' });
  const s = stateFromAuthResult(authResult({ token }), 'in_app');
  assert.equal(s.token, token);
  assert.equal(s.expiresAt, 2_000_000_000_000);
  assert.equal(s.session.userId, 'usr_1');
  assert.deepEqual(s.mfa, { required: false, enrolled: false, methods: [], availableMethods: ['totp', 'passkey'] });
});

test('a cookie-mode auth result expires at session.expires_at and holds the CSRF token', () => {
  const s = stateFromAuthResult(authResult({ mode: 'cookie', expiresAt: '2030-01-01T00:00:00Z' }), 'cookie');
  assert.equal(s.token, undefined);
  assert.equal(s.csrfToken, 'csrf_1');
  assert.equal(s.expiresAt, Date.parse('2030-01-01T00:00:00Z'));
});

test('an answer of the other mode is refused with a hint', () => {
  assert.throws(() => stateFromAuthResult(authResult({ mode: 'cookie' }), 'in_app'), (e) => e.code === 'unexpected_response' && /storage: 'cookie'/.test(e.detail));
  assert.throws(() => stateFromAuthResult(authResult(), 'cookie'), (e) => e.code === 'unexpected_response' && /storage: 'in_app'/.test(e.detail));
  assert.throws(() => stateFromAuthResult({}, 'in_app'), (e) => e.code === 'unexpected_response');
});

test('GET /session refreshes session and user, keeps what the token-built user lacks, and updates the CSRF token', () => {
  const before = stateFromAuthResult(authResult({ mode: 'cookie' }), 'cookie');
  const user = { id: 'usr_1', environment_id: 'env_1', email: 'ada@example.com', verified_credentials: [] };
  const after = stateFromCurrentSession({ session: sessionJson({ expiresAt: '2031-01-01T00:00:00Z' }), user, csrf_token: 'csrf_2' }, before, 'cookie');
  assert.equal(after.csrfToken, 'csrf_2');
  assert.equal(after.user.createdAt, '2026-01-01T00:00:00Z');
  assert.equal(after.expiresAt, Date.parse('2031-01-01T00:00:00Z'));
  assert.deepEqual(after.mfa, before.mfa);
  // A cookie the page did not know about: a complete session, MFA status unknown.
  const found = stateFromCurrentSession({ session: sessionJson(), user, csrf_token: 'csrf_3' }, null, 'cookie');
  assert.equal(found.csrfToken, 'csrf_3');
  assert.equal(found.mfa, null);
  assert.equal(stateFromCurrentSession({ session: sessionJson(), user }, null, 'in_app'), null);
});

test('401 codes map to events; the status follows the state', () => {
  assert.equal(endEventFor('session_revoked'), 'revoked');
  assert.equal(endEventFor('token_expired'), 'expired');
  assert.equal(endEventFor('invalid_token'), 'logged_out');
  assert.equal(endEventFor('missing_credentials'), 'logged_out');
  assert.equal(endEventFor('invalid_api_token'), null);
  const partial = stateFromAuthResult(authResult({ mfaRequired: true }), 'in_app');
  assert.equal(startEventFor(partial, 'signed_in'), 'mfa_required');
  assert.equal(startEventFor(partial, 'refreshed'), 'refreshed');
  assert.equal(snapshotOf(partial, false, null).status, 'mfa_required');
  assert.equal(snapshotOf(partial, true, null).status, 'loading');
  assert.equal(snapshotOf(null, false, null).status, 'signed_out');
  assert.equal(snapshotOf(stateFromAuthResult(authResult(), 'in_app'), false, null).status, 'signed_in');
});

test('elevated tokens are single use, per scope, and not given out once expired', () => {
  const kept = new ElevatedTokens();
  kept.keep('credential:unlink', 'elev_1', 1000);
  assert.equal(kept.take('credential:link', 0), null);
  assert.equal(kept.take('credential:unlink', 0), 'elev_1');
  assert.equal(kept.take('credential:unlink', 0), null);
  kept.keep('credential:unlink', 'elev_2', 1000);
  assert.equal(kept.take('credential:unlink', 1000), null);
});
