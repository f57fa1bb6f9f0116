// The client's behaviour, driven through a fake `fetch` (no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPortcullis, PortcullisError } from '../dist/index.js';
import { memoryStore } from '../dist/storage.js';
import { authResult, fakeServer, jwt, problem, sessionJson, userJson } from './fixtures.mjs';

let envCounter = 0;

/** A client on a fake server; each test gets its own environment id (and tab channel). */
function setup(t, { routes = {}, ...options } = {}) {
  const storage = 'storage' in options ? options.storage : 'in_app';
  const server = fakeServer({
    'POST /auth/email/start': () => ({ status: 202, body: { verification_id: 'ver_1', expires_at: '2030-01-01T00:10:00Z' } }),
    'POST /auth/email/verify': () => ({ body: authResult({ mode: storage ?? 'in_app' }) }),
    ...routes,
  });
  const environmentId = options.environmentId ?? `env_test${++envCounter}`;
  const client = createPortcullis({ environmentId, baseUrl: 'https://auth.example.com/', fetch: server.fetch, ...options, storage });
  const events = [];
  client.onSessionChange((e) => events.push(e));
  t.after(() => client.destroy());
  return { client, server, events, environmentId };
}

async function signIn(client) {
  const { verificationId } = await client.email.start('ada@example.com');
  return client.email.verify(verificationId, '123456');
}

const rejectsWith = (promise, code, status) =>
  assert.rejects(promise, (e) => e instanceof PortcullisError && e.code === code && e.status === status);

test('e-mail sign-in (in-app): snake_case bodies, no credentials on sign-in, then the token as Bearer', async (t) => {
  const { client, server, events } = setup(t, { routes: { 'GET /sessions': () => ({ body: { data: [sessionJson()] } }) } });
  assert.equal(client.getSnapshot().status, 'signed_out');
  assert.deepEqual(await client.email.start(' ada@example.com '), { verificationId: 'ver_1', expiresAt: '2030-01-01T00:10:00Z' });
  const result = await client.email.verify('ver_1', '123 456');
  assert.equal(server.calls[0].url, 'https://auth.example.com/sdk/v1/' + client.environmentId + '/auth/email/start');
  assert.deepEqual(server.calls[0].body, { email: 'ada@example.com' });
  assert.deepEqual(server.calls[1].body, { verification_id: 'ver_1', code: '123456' });
  assert.equal(server.calls[1].headers.authorization, undefined);
  assert.equal(server.calls[1].credentials, 'omit');
  assert.equal(result.session.id, 'ses_1');
  assert.equal(result.user.email, 'ada@example.com');
  assert.equal(result.token, undefined, 'the token stays in the SDK');
  assert.match(client.getToken(), /^eyJ/);
  assert.deepEqual(events.map((e) => [e.type, e.session?.id, e.user?.id, e.fromOtherTab]), [['signed_in', 'ses_1', 'usr_1', false]]);
  assert.equal(client.getSnapshot().status, 'signed_in');
  assert.equal(client.getSnapshot().lastEvent, events[0]);

  const sessions = await client.sessions();
  assert.equal(sessions[0].userId, 'usr_1');
  assert.equal(server.calls[2].headers.authorization, `Bearer ${client.getToken()}`);
});

test('a sign-in that needs MFA emits mfa_required; mfa.verify swaps the token and emits refreshed', async (t) => {
  const partial = authResult({ mfaRequired: true });
  const full = authResult({ exp: 2_000_000_100 });
  const { client, server, events } = setup(t, {
    routes: { 'POST /auth/email/verify': () => ({ body: partial }), 'POST /mfa/verify': () => ({ body: full }) },
  });
  const result = await signIn(client);
  assert.equal(result.mfa.required, true);
  assert.equal(client.getSnapshot().status, 'mfa_required');
  await client.mfa.verify({ code: '654321' });
  const verify = server.calls.at(-1);
  assert.deepEqual(verify.body, { code: '654321' });
  assert.equal(verify.headers.authorization, `Bearer ${partial.token}`);
  assert.equal(client.getToken(), full.token);
  assert.deepEqual(events.map((e) => e.type), ['mfa_required', 'refreshed']);
  assert.equal(client.getSnapshot().status, 'signed_in');
});

for (const [code, event] of [['session_revoked', 'revoked'], ['token_expired', 'expired'], ['invalid_token', 'logged_out']]) {
  test(`a 401 ${code} clears the stored session and emits ${event}`, async (t) => {
    const store = memoryStore();
    const { client, events, environmentId } = setup(t, { persistence: store, routes: { 'GET /sessions': () => problem(401, code) } });
    await signIn(client);
    assert.notEqual(store.getItem(`portcullis:${environmentId}`), null);
    await rejectsWith(client.sessions(), code, 401);
    assert.equal(client.getToken(), null);
    assert.equal(store.getItem(`portcullis:${environmentId}`), null);
    assert.deepEqual(events.map((e) => e.type), ['signed_in', event]);
    assert.equal(events[1].session, null);
    assert.equal(client.getSnapshot().status, 'signed_out');
  });
}

test('a 503, a thrown TypeError and a non-problem 502 keep the session and reject with a PortcullisError', async (t) => {
  let answer;
  const { client, events } = setup(t, { routes: { 'GET /sessions': () => answer() } });
  await signIn(client);
  const token = client.getToken();
  answer = () => ({ ...problem(503, 'unavailable'), headers: { 'content-type': 'application/problem+json', 'retry-after': '7' } });
  await assert.rejects(client.sessions(), (e) => e instanceof PortcullisError && e.code === 'unavailable' && e.status === 503 && e.retryAfter === 7);
  answer = () => {
    throw new TypeError('fetch failed');
  };
  await rejectsWith(client.sessions(), 'network_error', 0);
  answer = () => ({ status: 502, body: '<html>Bad Gateway</html>', headers: { 'content-type': 'text/html' } });
  await rejectsWith(client.sessions(), 'unexpected_response', 502);
  answer = () => ({ status: 200, body: 'not json' });
  await rejectsWith(client.sessions(), 'unexpected_response', 200);
  assert.equal(client.getToken(), token);
  assert.deepEqual(events.map((e) => e.type), ['signed_in']);
});

test('bad arguments are refused before any request (and before reading the configuration)', async (t) => {
  const { client, server } = setup(t, { storage: undefined });
  const attempts = [
    () => client.email.start(''),
    () => client.email.start('not-an-address'),
    () => client.email.verify('', '123456'),
    () => client.email.verify('ver_1', '12345'),
    () => client.mfa.verify({}),
    () => client.mfa.verify({ code: 'abcdef' }),
    () => client.mfa.verify({ recoveryCode: 'short' }),
    () => client.mfa.confirmTotp('mfa_1', '1'),
    () => client.mfa.confirmTotp('', '123456'),
    () => client.mfa.removeDevice(' '),
    () => client.revokeSession(''),
    () => client.stepUp('admin:all', { code: '123456' }),
    () => client.stepUp('credential:unlink', { code: '123456', recoveryCode: 'abcde-fghjk' }),
  ];
  for (const attempt of attempts) await rejectsWith(attempt(), 'validation_failed', 0);
  assert.equal(server.calls.length, 0);
  assert.throws(() => createPortcullis({ environmentId: '', baseUrl: 'https://x.io' }), (e) => e.code === 'validation_failed');
  assert.throws(() => createPortcullis({ environmentId: 'env_1', baseUrl: 'x.io' }), (e) => e.code === 'validation_failed');
});

test('cookie mode: credentials include everywhere, the CSRF header on POST and DELETE, never a token', async (t) => {
  const store = memoryStore();
  const { client, server, environmentId } = setup(t, {
    storage: 'cookie',
    persistence: store,
    routes: {
      'GET /session': ({ headers }) => (headers['cookie'] ? { body: {} } : problem(401, 'missing_credentials')),
      'GET /mfa/devices': () => ({ body: { data: [] } }),
      'DELETE /sessions/ses_2': () => ({ status: 204 }),
      'POST /logout': () => ({ status: 204 }),
    },
  });
  await client.ready; // The load check: no cookie known here, so 401 and signed out.
  assert.equal(client.getSnapshot().status, 'signed_out');
  await signIn(client);
  assert.equal(client.getToken(), null);
  assert.equal(client.getSnapshot().status, 'signed_in');
  const persisted = store.getItem(`portcullis:${environmentId}`);
  assert.match(persisted, /csrf_1/);
  assert.doesNotMatch(persisted, /eyJ|"token"/);
  await client.mfa.devices();
  await client.revokeSession('ses_2');
  await client.logout();
  for (const call of server.calls) {
    assert.equal(call.credentials, 'include', call.path);
    assert.equal(call.headers.authorization, undefined, call.path);
  }
  const byPath = Object.fromEntries(server.calls.map((c) => [`${c.method} ${c.path}`, c]));
  assert.equal(byPath['GET /mfa/devices'].headers['x-portcullis-csrf'], undefined);
  assert.equal(byPath['DELETE /sessions/ses_2'].headers['x-portcullis-csrf'], 'csrf_1');
  assert.equal(byPath['POST /logout'].headers['x-portcullis-csrf'], 'csrf_1');
  assert.equal(store.getItem(`portcullis:${environmentId}`), null);
  assert.equal(client.getSnapshot().status, 'signed_out');
});

test('cookie mode: a reload with stored state confirms with GET /session and takes its CSRF token', async (t) => {
  const store = memoryStore();
  const first = setup(t, { storage: 'cookie', persistence: store, checkOnLoad: false });
  await signIn(first.client);
  const user = { id: 'usr_1', environment_id: 'env_1', email: 'ada@example.com', verified_credentials: [] };
  const reloaded = setup(t, {
    storage: 'cookie',
    persistence: store,
    environmentId: first.environmentId,
    routes: { 'GET /session': () => ({ body: { session: sessionJson(), user, csrf_token: 'csrf_2' } }), 'POST /mfa/totp': () => ({ status: 201, body: { device_id: 'mfa_1', secret: 'S', otpauth_uri: 'otpauth://x', qr_svg: '<svg/>' } }) },
  });
  assert.equal(reloaded.client.getSnapshot().status, 'loading');
  await reloaded.client.ready;
  assert.equal(reloaded.client.getSnapshot().status, 'signed_in');
  assert.equal(reloaded.client.getSnapshot().user.createdAt, '2026-01-01T00:00:00Z');
  assert.deepEqual(await reloaded.client.mfa.enrollTotp(), { deviceId: 'mfa_1', secret: 'S', otpauthUri: 'otpauth://x', qrSvg: '<svg/>' });
  assert.equal(reloaded.server.calls.at(-1).headers['x-portcullis-csrf'], 'csrf_2');
});

test('a reload whose session was revoked meanwhile ends up signed out with revoked', async (t) => {
  const store = memoryStore();
  const first = setup(t, { persistence: store, checkOnLoad: false });
  await signIn(first.client);
  const reloaded = setup(t, { persistence: store, environmentId: first.environmentId, routes: { 'GET /session': () => problem(401, 'session_revoked') } });
  assert.equal(reloaded.client.getSnapshot().status, 'loading');
  await reloaded.client.ready;
  assert.equal(reloaded.client.getSnapshot().status, 'signed_out');
  assert.deepEqual(reloaded.events.map((e) => e.type), ['revoked']);
});

test('the elevated token from step-up is sent once, with the call that needs its scope', async (t) => {
  const { client, server } = setup(t, {
    routes: {
      'POST /mfa/step-up': ({ body }) => ({ body: { elevated_token: `elev_${body.scope}`, scope: body.scope, expires_at: '2100-01-01T00:00:00Z' } }),
      'DELETE /mfa/devices/mfa_1': () => ({ status: 204 }),
      'POST /mfa/recovery-codes': () => ({ body: { recovery_codes: ['abcde-fghjk'] } }),
    },
  });
  await signIn(client);
  assert.deepEqual(await client.stepUp('credential:unlink', { recoveryCode: 'ABCDE-FGHJK' }), {
    elevatedToken: 'elev_credential:unlink',
    scope: 'credential:unlink',
    expiresAt: '2100-01-01T00:00:00Z',
  });
  assert.deepEqual(server.calls.at(-1).body, { scope: 'credential:unlink', recovery_code: 'abcdefghjk' });
  assert.deepEqual(await client.mfa.regenerateRecoveryCodes(), ['abcde-fghjk']);
  assert.equal(server.calls.at(-1).headers['x-portcullis-elevated-token'], undefined, 'not for another scope');
  await client.mfa.removeDevice('mfa_1');
  assert.equal(server.calls.at(-1).headers['x-portcullis-elevated-token'], 'elev_credential:unlink');
  await client.mfa.removeDevice('mfa_1');
  assert.equal(server.calls.at(-1).headers['x-portcullis-elevated-token'], undefined, 'single use');
});

test('an expired elevated token is not sent', async (t) => {
  const { client, server } = setup(t, {
    routes: {
      'POST /mfa/step-up': () => ({ body: { elevated_token: 'elev', scope: 'credential:link', expires_at: '2000-01-01T00:00:00Z' } }),
      'POST /mfa/recovery-codes': () => ({ body: { recovery_codes: [] } }),
    },
  });
  await signIn(client);
  await client.stepUp('credential:link', { code: '123456' });
  await client.mfa.regenerateRecoveryCodes();
  assert.equal(server.calls.at(-1).headers['x-portcullis-elevated-token'], undefined);
});

test('the session ends at the JWT exp with expired, not a millisecond before', (t) => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now });
  const store = memoryStore();
  const first = setup(t, { persistence: store, checkOnLoad: false });
  const state = { mode: 'in_app', token: jwt({ exp: now / 1000 + 3600 }), session: { id: 'ses_1' }, user: { id: 'usr_1' }, mfa: null, expiresAt: now + 3600_000 };
  store.setItem(`portcullis:${first.environmentId}`, JSON.stringify(state));
  const { client, events } = setup(t, { persistence: store, checkOnLoad: false, environmentId: first.environmentId });
  assert.equal(client.getSnapshot().status, 'signed_in');
  t.mock.timers.tick(3600_000 - 1);
  assert.equal(client.getToken(), state.token);
  t.mock.timers.tick(1);
  assert.equal(client.getToken(), null);
  assert.deepEqual(events.map((e) => e.type), ['expired']);
  assert.equal(store.getItem(`portcullis:${first.environmentId}`), null);
});

test('cookie mode: the timer uses session.expires_at, re-armed past 24.8 days', async (t) => {
  const now = Date.parse('2030-01-01T00:00:00Z');
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now });
  const expiresAt = new Date(now + 30 * 86400_000).toISOString();
  const { client, events } = setup(t, {
    storage: 'cookie',
    checkOnLoad: false,
    routes: { 'POST /auth/email/verify': () => ({ body: authResult({ mode: 'cookie', expiresAt }) }) },
  });
  await signIn(client);
  t.mock.timers.tick(2 ** 31 - 1);
  t.mock.timers.tick(30 * 86400_000 - 2 ** 31);
  assert.equal(client.getSnapshot().status, 'signed_in');
  t.mock.timers.tick(1);
  assert.equal(client.getSnapshot().status, 'signed_out');
  assert.deepEqual(events.map((e) => e.type), ['signed_in', 'expired']);
});

test('a stored session already past its expiry is dropped at load, without a request', (t) => {
  const store = memoryStore();
  const state = { mode: 'in_app', token: 'a.b.c', session: { id: 's' }, user: { id: 'u' }, mfa: null, expiresAt: Date.now() - 1 };
  store.setItem('portcullis:env_stale', JSON.stringify(state));
  const { client, server } = setup(t, { persistence: store, environmentId: 'env_stale' });
  assert.equal(client.getSnapshot().status, 'signed_out');
  assert.equal(store.getItem('portcullis:env_stale'), null);
  assert.equal(server.calls.length, 0);
});

test('logging out in one tab logs out the other tabs (BroadcastChannel)', async (t) => {
  const shared = memoryStore(); // What localStorage is to two tabs.
  const a = setup(t, { persistence: shared, checkOnLoad: false, routes: { 'POST /logout': () => ({ status: 204 }) } });
  await signIn(a.client);
  const b = setup(t, { persistence: shared, checkOnLoad: false, environmentId: a.environmentId });
  assert.equal(b.client.getToken(), a.client.getToken());
  const seenByB = new Promise((resolve) => b.client.onSessionChange(resolve));
  await a.client.logout();
  const event = await seenByB;
  assert.equal(event.type, 'logged_out');
  assert.equal(event.fromOtherTab, true);
  assert.equal(b.client.getToken(), null);
  assert.equal(b.client.getSnapshot().status, 'signed_out');
  assert.deepEqual(a.events.map((e) => [e.type, e.fromOtherTab]), [['signed_in', false], ['logged_out', false]]);
});

test('a sign-in in another tab is taken over from shared storage', async (t) => {
  const shared = memoryStore();
  const a = setup(t, { persistence: shared, checkOnLoad: false });
  const b = setup(t, { persistence: shared, checkOnLoad: false, environmentId: a.environmentId });
  const seenByB = new Promise((resolve) => b.client.onSessionChange(resolve));
  await signIn(a.client);
  const event = await seenByB;
  assert.deepEqual([event.type, event.fromOtherTab, event.session.id], ['signed_in', true, 'ses_1']);
  assert.equal(b.client.getToken(), a.client.getToken());
});

test('logout: 204 ends the session; a 401 (already over) resolves; a 503 rejects and keeps it', async (t) => {
  let answer = () => problem(503, 'unavailable');
  const { client, events } = setup(t, { routes: { 'POST /logout': () => answer() } });
  await signIn(client);
  await rejectsWith(client.logout(), 'unavailable', 503);
  assert.notEqual(client.getToken(), null);
  answer = () => ({ status: 204 });
  await client.logout();
  assert.equal(client.getToken(), null);
  await signIn(client);
  answer = () => problem(401, 'session_revoked');
  await client.logout();
  assert.equal(client.getToken(), null);
  assert.deepEqual(events.map((e) => e.type), ['signed_in', 'logged_out', 'signed_in', 'revoked']);
});

test('revoking this session from the list signs out here; another one does not', async (t) => {
  const { client, events } = setup(t, { routes: { 'DELETE /sessions/ses_2': () => ({ status: 204 }), 'DELETE /sessions/ses_1': () => ({ status: 204 }) } });
  await signIn(client);
  await client.revokeSession('ses_2');
  assert.equal(client.getSnapshot().status, 'signed_in');
  await client.revokeSession('ses_1');
  assert.deepEqual(events.map((e) => e.type), ['signed_in', 'logged_out']);
});

test('storage omitted: GET /config is read lazily, once; a failed read is tried again', async (t) => {
  let configAnswer = () => ({ status: 500, body: problem(500, 'internal').body });
  const { client, server } = setup(t, {
    storage: undefined,
    routes: {
      'GET /config': () => configAnswer(),
      'POST /auth/email/verify': () => ({ body: authResult({ mode: 'cookie' }) }),
    },
  });
  assert.equal(server.calls.length, 0, 'nothing at creation');
  await rejectsWith(client.email.start('ada@example.com'), 'internal', 500);
  configAnswer = () => ({ body: { environment_id: client.environmentId, token_storage: 'cookie', mfa: { methods: ['totp'], enrollment: 'optional' } } });
  await signIn(client);
  await client.email.start('ada@example.com');
  assert.deepEqual(server.calls.map((c) => `${c.method} ${c.path}`), ['GET /config', 'GET /config', 'POST /auth/email/start', 'POST /auth/email/verify', 'POST /auth/email/start']);
  assert.equal(server.calls[1].credentials, 'omit');
  assert.equal(server.calls[2].credentials, 'include');
  assert.equal((await client.getConfig()).mfa.enrollment, 'optional');
});

test('fetch(): Bearer for the app backend in in-app mode; its 401 passes through and ends nothing', async (t) => {
  const { client, server, events } = setup(t, { routes: { 'GET /me': () => ({ status: 401, body: { error: 'nope' } }) } });
  const before = await client.fetch('https://api.example.com/me');
  assert.equal(before.status, 401);
  assert.equal(server.calls.at(-1).headers.authorization, undefined, 'signed out: nothing added');
  await signIn(client);
  const response = await client.fetch('https://api.example.com/me', { headers: { 'x-app': '1' } });
  assert.equal(response.status, 401);
  assert.deepEqual(await response.json(), { error: 'nope' }, 'the body is untouched');
  const call = server.calls.at(-1);
  assert.equal(call.url, 'https://api.example.com/me');
  assert.equal(call.headers.authorization, `Bearer ${client.getToken()}`);
  assert.equal(call.headers['x-app'], '1');
  assert.notEqual(client.getToken(), null);
  assert.deepEqual(events.map((e) => e.type), ['signed_in']);
});

test('fetch(): credentials include in cookie mode, and no Authorization', async (t) => {
  const { client, server } = setup(t, { storage: 'cookie', checkOnLoad: false, routes: { 'POST /orders': () => ({ status: 201, body: {} }) } });
  await signIn(client);
  await client.fetch('https://api.example.com/orders', { method: 'POST', body: '{}' });
  const call = server.calls.at(-1);
  assert.equal(call.credentials, 'include');
  assert.equal(call.headers.authorization, undefined);
});
