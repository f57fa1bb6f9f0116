// @portcullis/node against a real Portcullis server (the browser tests'
// harness: `portcullis init` + `serve`, mail to a local SMTP sink): real
// tokens verify, partial and elevated ones are told apart, and a change of
// the environment's token algorithm (a new key, a new kid) is picked up by
// the same verifier. Needs the server binary: PORTCULLIS_BIN, default
// target/debug/portcullis (scripts/test-node-verifier).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import * as OTPAuth from 'otpauth';
import { startServer } from '../../../../tests/browser/harness/server.mjs';
import { startMailSink } from '../../../../tests/browser/harness/mail.mjs';
import { createVerifier } from '../dist/index.js';

/** Short, so that a new kid is looked for soon after the last fetch of the keys. */
const COOLDOWN_MS = 1_000;

let mail, server, issuer, verifier;
before(async () => {
  mail = await startMailSink();
  server = await startServer({ mail });
  issuer = (await server.sdk('GET', '/.well-known/openid-configuration')).expect(200).issuer;
  assert.equal(issuer, `${server.base}/sdk/v1/${server.sandbox}`, 'the harness serves at its public URL');
  verifier = createVerifier({ issuer, audience: server.sandbox, cooldownMs: COOLDOWN_MS });
});
after(async () => {
  await server?.stop();
  await mail?.close();
});

let users = 0;
const freshEmail = (what) => `${what}-${++users}@example.test`;
const headerOf = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
const setSandbox = async (patch) =>
  (await server.api('PATCH', `/environments/${server.sandbox}/settings/security`, patch)).expect(200);

async function refused(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    return true;
  });
}

test('a real session token verifies, with the server\'s claims', async () => {
  const email = freshEmail('ada');
  const answer = await server.signInUserAnswer(email);
  const claims = await verifier.verifySession(answer.token);
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, server.sandbox);
  assert.equal(claims.environment_id, server.sandbox);
  assert.equal(claims.sub, answer.user.id);
  assert.equal(claims.sid, answer.session.id);
  assert.equal(claims.email, email);
  assert.ok(claims.scope.split(' ').includes('user:basic'));
  assert.equal(typeof claims.env_epoch, 'number');
  assert.equal(typeof claims.user_epoch, 'number');
  await refused(verifier.verifySession(`${answer.token.slice(0, -4)}AAAA`), 'invalid_token');
});

test('a token of another environment is refused', async () => {
  const token = await server.signInUser(freshEmail('live'), { env: server.live });
  await refused(verifier.verifySession(token), 'invalid_token');
});

test('a partial session (MFA enrolment required) is refused unless allowPartial', async () => {
  await setSandbox({ mfa: { enrollment: 'required' } });
  try {
    const token = await server.signInUser(freshEmail('partial'));
    await refused(verifier.verifySession(token), 'mfa_required');
    assert.equal((await verifier.verifySession(token, { allowPartial: true })).scope, 'requiresAdditionalAuth');
  } finally {
    await setSandbox({ mfa: { enrollment: 'optional' } });
  }
});

test('an elevated token verifies for its scope and session, and is refused as a session', async () => {
  const token = await server.signInUser(freshEmail('elevated'));
  const session = await verifier.verifySession(token);
  const enrolment = (await server.sdk('POST', '/mfa/totp', {}, { token })).expect(201);
  const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' })
    .generate();
  const confirmed = (await server.sdk('POST', `/mfa/totp/${enrolment.device_id}/confirm`, { code }, { token })).expect(200);
  const [recoveryCode] = confirmed.recovery_codes;
  const { elevated_token: elevated } = (await server.sdk('POST', '/mfa/step-up',
    { scope: 'credential:link', recovery_code: recoveryCode }, { token })).expect(200);
  assert.equal(headerOf(elevated).typ, 'elevated+jwt');

  const claims = await verifier.verifyElevated(elevated, 'credential:link', { sessionId: session.sid });
  assert.equal(claims.scope, 'credential:link');
  await refused(verifier.verifySession(elevated), 'invalid_token');
  await refused(verifier.verifyElevated(elevated, 'wallet:export'), 'elevated_token_required');
  await refused(verifier.verifyElevated(elevated, 'credential:link', { sessionId: 'ses_other' }), 'elevated_token_required');
  await refused(verifier.verifyElevated(token, 'credential:link'), 'elevated_token_required');
});

test('after token_algorithm changes to ES256, a token under the new kid verifies with the same verifier', async () => {
  const before = await server.signInUser(freshEmail('before'));
  await verifier.verifySession(before);
  const { kid: oldKid } = headerOf(before);
  const to = headerOf(before).alg === 'ES256' ? 'EdDSA' : 'ES256';
  await setSandbox({ token_algorithm: to });
  try {
    const afterChange = await server.signInUser(freshEmail('after'));
    const header = headerOf(afterChange);
    assert.equal(header.alg, to);
    assert.notEqual(header.kid, oldKid);
    // The verifier fetched the keys just now; it looks for a new kid once the cooldown has passed.
    await delay(COOLDOWN_MS + 100);
    assert.ok(await verifier.verifySession(afterChange));
    assert.ok(await verifier.verifySession(before), 'the retired key still verifies what it signed');
  } finally {
    await setSandbox({ token_algorithm: 'RS256' });
  }
});
