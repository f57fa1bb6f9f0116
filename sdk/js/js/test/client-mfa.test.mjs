// MFA ceremonies and background checks of the client, through a fake `fetch`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPortcullis } from '../dist/index.js';
import { encodeBase64url } from '../dist/base64url.js';
import { authResult, fakeServer, problem, sessionJson, userJson } from './fixtures.mjs';

let envCounter = 0;
const buf = (...values) => new Uint8Array(values).buffer;

function setup(t, routes, options = {}) {
  const server = fakeServer({ 'POST /auth/email/verify': () => ({ body: authResult() }), ...routes });
  const client = createPortcullis({ environmentId: `env_mfa${++envCounter}`, baseUrl: 'https://auth.example.com', storage: 'in_app', fetch: server.fetch, ...options });
  const events = [];
  client.onSessionChange((e) => events.push(e.type));
  t.after(() => client.destroy());
  return { client, server, events };
}

const fakeWebAuthn = () => {
  const seen = {};
  return {
    seen,
    create: async (options) => {
      seen.create = options;
      return { id: 'AQI', rawId: buf(1, 2), type: 'public-key', response: { clientDataJSON: buf(1), attestationObject: buf(2) } };
    },
    get: async (options) => {
      seen.get = options;
      return { id: 'AQI', rawId: buf(1, 2), type: 'public-key', response: { clientDataJSON: buf(1), authenticatorData: buf(3), signature: buf(4), userHandle: null } };
    },
  };
};

test('mfa.verify({passkey: true}) asks for a challenge, runs the browser ceremony and sends the assertion', async (t) => {
  const webauthn = fakeWebAuthn();
  const { client, server, events } = setup(
    t,
    {
      'POST /auth/email/verify': () => ({ body: authResult({ mfaRequired: true }) }),
      'POST /mfa/passkey/challenge': () => ({ body: { challenge_id: 'chl_1', options: { publicKey: { challenge: encodeBase64url(buf(9)), rpId: 'app.example.com', allowCredentials: [{ type: 'public-key', id: 'AQI' }], userVerification: 'preferred' } } } }),
      'POST /mfa/verify': () => ({ body: authResult({ exp: 2_000_000_500 }) }),
    },
    { webauthn },
  );
  await client.email.verify('ver_1', '123456');
  await client.mfa.verify({ passkey: true });
  assert.deepEqual([...new Uint8Array(webauthn.seen.get.publicKey.challenge)], [9]);
  assert.deepEqual(server.calls.at(-1).body, {
    assertion: {
      challenge_id: 'chl_1',
      credential: { id: 'AQI', rawId: 'AQI', type: 'public-key', response: { clientDataJSON: 'AQ', authenticatorData: 'Aw', signature: 'BA', userHandle: null }, extensions: {} },
    },
  });
  assert.deepEqual(events, ['mfa_required', 'refreshed']);
});

test('stepUp with a passkey uses the webauthn option too', async (t) => {
  const webauthn = fakeWebAuthn();
  const { client, server } = setup(
    t,
    {
      'POST /mfa/passkey/challenge': () => ({ body: { challenge_id: 'chl_2', options: { publicKey: { challenge: 'AA', rpId: 'x', allowCredentials: [], userVerification: 'required' } } } }),
      'POST /mfa/step-up': () => ({ body: { elevated_token: 'e', scope: 'wallet:sign', expires_at: '2100-01-01T00:00:00Z' } }),
    },
    { webauthn },
  );
  await client.email.verify('ver_1', '123456');
  await client.stepUp('wallet:sign', { passkey: true });
  assert.equal(server.calls.at(-1).body.scope, 'wallet:sign');
  assert.equal(server.calls.at(-1).body.assertion.challenge_id, 'chl_2');
});

test('registerPasskey: options as buffers, the credential back as JSON, the credential:link token sent, a completed session taken over', async (t) => {
  const webauthn = fakeWebAuthn();
  const full = authResult({ exp: 2_000_000_900 });
  const { client, server, events } = setup(
    t,
    {
      'POST /auth/email/verify': () => ({ body: authResult({ mfaRequired: true }) }),
      'POST /mfa/step-up': () => ({ body: { elevated_token: 'elev_link', scope: 'credential:link', expires_at: '2100-01-01T00:00:00Z' } }),
      'POST /mfa/passkey/register/start': () => ({
        body: { challenge_id: 'chl_3', options: { publicKey: { rp: { id: 'x', name: 'X' }, user: { id: 'AQID', name: 'a', displayName: 'a' }, challenge: 'BAU', pubKeyCredParams: [] } } },
      }),
      'POST /mfa/passkey/register/finish': () => ({
        body: { device: { id: 'mfa_2', kind: 'passkey', name: 'Laptop', confirmed: true, created_at: 'x', last_used_at: null }, recovery_codes: ['abcde-fghjk'], auth: full },
      }),
    },
    { webauthn },
  );
  await client.email.verify('ver_1', '123456');
  await client.stepUp('credential:link', { code: '123456' });
  const confirmed = await client.mfa.registerPasskey(' Laptop ');
  assert.deepEqual([...new Uint8Array(webauthn.seen.create.publicKey.user.id)], [1, 2, 3]);
  const finish = server.calls.at(-1);
  assert.equal(finish.headers['x-portcullis-elevated-token'], 'elev_link');
  assert.deepEqual(finish.body, {
    challenge_id: 'chl_3',
    name: 'Laptop',
    credential: { id: 'AQI', rawId: 'AQI', type: 'public-key', response: { clientDataJSON: 'AQ', attestationObject: 'Ag' }, extensions: {} },
  });
  assert.equal(confirmed.device.lastUsedAt, null);
  assert.deepEqual(confirmed.recoveryCodes, ['abcde-fghjk']);
  assert.equal(confirmed.auth.mfa.required, false);
  assert.equal(client.getToken(), full.token);
  assert.deepEqual(events, ['mfa_required', 'refreshed']);
});

test('confirmTotp without a completed session changes nothing about the session', async (t) => {
  const { client, server, events } = setup(t, {
    'POST /mfa/totp/mfa_1/confirm': () => ({ body: { device: { id: 'mfa_1', kind: 'totp', name: 'Authenticator', confirmed: true, created_at: 'x', last_used_at: null } } }),
  });
  await client.email.verify('ver_1', '123456');
  const token = client.getToken();
  const confirmed = await client.mfa.confirmTotp('mfa_1', '111 222');
  assert.deepEqual(server.calls.at(-1).body, { code: '111222' });
  assert.equal(confirmed.recoveryCodes, undefined);
  assert.equal(confirmed.auth, undefined);
  assert.equal(client.getToken(), token);
  assert.deepEqual(events, ['signed_in']);
});

test('a 401 answering a request of an earlier session does not end the new one', async (t) => {
  let release;
  const gate = new Promise((r) => (release = r));
  let n = 0;
  const { client, events } = setup(t, {
    'POST /auth/email/verify': () => ({ body: authResult({ sessionId: `ses_${++n}`, exp: 2_000_000_000 + n }) }),
    'GET /sessions': async () => (await gate, problem(401, 'session_revoked')),
  });
  await client.email.verify('ver_1', '123456');
  const stale = client.sessions();
  await client.email.verify('ver_2', '123456');
  release();
  await assert.rejects(stale, (e) => e.code === 'session_revoked');
  assert.equal(client.getSnapshot().session.id, 'ses_2');
  assert.deepEqual(events, ['signed_in', 'signed_in']);
});

test('when the page becomes visible again the SDK asks GET /session, and only when signed in', async (t) => {
  const listeners = {};
  const doc = { visibilityState: 'hidden', addEventListener: (type, l) => (listeners[type] = l), removeEventListener: (type) => delete listeners[type] };
  globalThis.document = doc;
  t.after(() => delete globalThis.document);
  let answer = () => ({ body: { session: sessionJson(), user: userJson() } });
  const { client, server, events } = setup(t, { 'GET /session': () => answer() });
  const sessionCalls = () => server.calls.filter((c) => c.path === '/session').length;
  doc.visibilityState = 'visible';
  listeners.visibilitychange();
  assert.equal(sessionCalls(), 0, 'signed out: no check');
  await client.email.verify('ver_1', '123456');
  answer = () => problem(401, 'session_revoked');
  const revoked = new Promise((resolve) => client.onSessionChange(resolve));
  listeners.visibilitychange();
  assert.equal((await revoked).type, 'revoked');
  assert.equal(sessionCalls(), 1);
  assert.deepEqual(events, ['signed_in', 'revoked']);
  client.destroy();
  assert.equal(listeners.visibilitychange, undefined, 'destroy removes the listener');
});

test('pollIntervalMs checks the session on an interval while signed in', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const { client, server } = setup(t, { 'GET /session': () => ({ body: { session: sessionJson(), user: userJson() } }) }, { pollIntervalMs: 60_000 });
  t.mock.timers.tick(60_000);
  await new Promise(setImmediate);
  assert.equal(server.calls.length, 0);
  await client.email.verify('ver_1', '123456');
  t.mock.timers.tick(120_000);
  await new Promise(setImmediate); // let the checks' promises reach fetch (not a sleep)
  assert.equal(server.calls.filter((c) => c.path === '/session').length, 2);
});
