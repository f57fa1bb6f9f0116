// createVerifier against a real local HTTP server serving discovery and
// the JWKS, with keys made here: what passes, every forgery refused, keys
// picked up after a rotation, and the JWKS never flooded.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { exportSPKI } from 'jose';
import { createVerifier, PortcullisAuthError } from '../dist/index.js';
import { b64url, claims, ENV, makeKey, refused, sign, signElevated, startIssuer } from './fixtures.mjs';

let rsa, ec, ed, issuer;
before(async () => {
  [rsa, ec, ed] = await Promise.all([makeKey('RS256'), makeKey('ES256'), makeKey('EdDSA')]);
  issuer = await startIssuer([rsa, ec, ed]);
});
after(() => issuer.close());

const verifierFor = (options = {}) => createVerifier({ issuer: issuer.issuer, audience: ENV, ...options });

test('a valid token passes, with its typed claims; discovery and the JWKS are fetched once', async () => {
  const { discovery, jwks } = issuer.requests;
  const verifier = verifierFor();
  const token = await sign(rsa, claims(issuer));
  const verified = await verifier.verifySession(token);
  assert.equal(verified.sub, 'usr_1');
  assert.equal(verified.sid, 'ses_1');
  assert.equal(verified.environment_id, ENV);
  assert.equal(verified.email, 'ada@example.test');
  assert.deepEqual(verified.amr, ['otp']);
  await verifier.verifySession(await sign(rsa, claims(issuer, { sub: 'usr_2' })));
  assert.equal(issuer.requests.discovery - discovery, 1);
  assert.equal(issuer.requests.jwks - jwks, 1);
});

test('ES256 and EdDSA tokens pass', async () => {
  const verifier = verifierFor();
  for (const key of [ec, ed]) {
    assert.equal((await verifier.verifySession(await sign(key, claims(issuer)))).sub, 'usr_1', key.alg);
  }
});

test('jwksUri given: no discovery', async () => {
  const { discovery } = issuer.requests;
  const verifier = verifierFor({ jwksUri: issuer.jwksUri });
  await verifier.verifySession(await sign(rsa, claims(issuer)));
  assert.equal(issuer.requests.discovery, discovery);
});

test('no token: missing_credentials (401)', async () => {
  const verifier = verifierFor();
  await refused(assert, verifier.verifySession(undefined), 'missing_credentials', 401);
  await refused(assert, verifier.verifySession(''), 'missing_credentials', 401);
});

test('alg "none" is refused', async () => {
  const verifier = verifierFor();
  const token = `${b64url({ alg: 'none', typ: 'JWT', kid: rsa.kid })}.${b64url(claims(issuer))}.`;
  await refused(assert, verifier.verifySession(token), 'invalid_token', 401);
});

test('HS256 signed with the RSA public key (algorithm confusion) is refused', async () => {
  const verifier = verifierFor();
  const pem = await exportSPKI(rsa.publicKey);
  for (const secret of [pem, JSON.stringify(rsa.jwk), rsa.jwk.n]) {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT', kid: rsa.kid })}.${b64url(claims(issuer))}`;
    const mac = createHmac('sha256', secret).update(input).digest('base64url');
    await refused(assert, verifier.verifySession(`${input}.${mac}`), 'invalid_token', 401);
  }
});

test('a key that is not the environment\'s is refused: an unknown kid, or another environment\'s key under a known kid', async () => {
  const verifier = verifierFor();
  const other = await makeKey('RS256', 'key_of_another_environment');
  await refused(assert, verifier.verifySession(await sign(other, claims(issuer))), 'invalid_token', 401);
  const impostor = await makeKey('RS256', rsa.kid);
  await refused(assert, verifier.verifySession(await sign(impostor, claims(issuer))), 'invalid_token', 401);
  // A published key's kid with another published key's algorithm.
  await refused(assert, verifier.verifySession(await sign(ec, claims(issuer), { kid: rsa.kid })), 'invalid_token', 401);
});

test('wrong iss, wrong aud, another environment\'s id: refused', async () => {
  const verifier = verifierFor();
  for (const overrides of [
    { iss: `${issuer.base}/sdk/v1/env_other` },
    { iss: `${issuer.issuer}/` },
    { aud: 'env_other' },
    { aud: [ENV, 'env_other'] },
    { environment_id: 'env_other' },
  ]) {
    await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer, overrides))), 'invalid_token', 401);
  }
});

test('expiry: token_expired past exp and the tolerance; within the tolerance it passes', async () => {
  const now = Math.floor(Date.now() / 1000);
  const verifier = verifierFor();
  await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer, { exp: now - 120 }))), 'token_expired', 401);
  assert.ok(await verifier.verifySession(await sign(rsa, claims(issuer, { exp: now - 30 }))));
  const strict = verifierFor({ clockTolerance: 0 });
  await refused(assert, strict.verifySession(await sign(rsa, claims(issuer, { exp: now - 2 }))), 'token_expired', 401);
});

test('nbf in the future: refused beyond the tolerance, accepted within it', async () => {
  const now = Math.floor(Date.now() / 1000);
  const verifier = verifierFor();
  await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer, { nbf: now + 120 }))), 'invalid_token', 401);
  assert.ok(await verifier.verifySession(await sign(rsa, claims(issuer, { nbf: now + 30 }))));
  const strict = verifierFor({ clockTolerance: 0 });
  await refused(assert, strict.verifySession(await sign(rsa, claims(issuer, { nbf: now + 30 }))), 'invalid_token', 401);
});

test('a tampered payload is refused', async () => {
  const verifier = verifierFor();
  const [header, , signature] = (await sign(rsa, claims(issuer))).split('.');
  const forged = `${header}.${b64url(claims(issuer, { sub: 'usr_admin' }))}.${signature}`;
  await refused(assert, verifier.verifySession(forged), 'invalid_token', 401);
  await refused(assert, verifier.verifySession('not.a.jwt'), 'invalid_token', 401);
  await refused(assert, verifier.verifySession('garbage'), 'invalid_token', 401);
});

test('typ and required claims are checked', async () => {
  const verifier = verifierFor();
  await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer), { typ: undefined })), 'invalid_token');
  await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer), { typ: 'at+jwt' })), 'invalid_token');
  for (const name of ['sid', 'sub', 'exp', 'nbf', 'scope', 'env_epoch', 'user_epoch', 'amr']) {
    await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer, { [name]: undefined }))), 'invalid_token', 401);
  }
  await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer, { user_epoch: '1' }))), 'invalid_token');
});

test('partial sessions: mfa_required (403) unless allowPartial; no user:basic at all is refused', async () => {
  const verifier = verifierFor();
  const partial = await sign(rsa, claims(issuer, { scope: 'requiresAdditionalAuth' }));
  await refused(assert, verifier.verifySession(partial), 'mfa_required', 403);
  assert.equal((await verifier.verifySession(partial, { allowPartial: true })).scope, 'requiresAdditionalAuth');
  const both = await sign(rsa, claims(issuer, { scope: 'user:basic requiresAdditionalAuth' }));
  await refused(assert, verifier.verifySession(both), 'mfa_required', 403);
  const none = await sign(rsa, claims(issuer, { scope: 'credential:link' }));
  await refused(assert, verifier.verifySession(none), 'invalid_token', 401);
  await refused(assert, verifier.verifySession(none, { allowPartial: true }), 'invalid_token', 401);
  // Scopes are whole words.
  await refused(assert, verifier.verifySession(await sign(rsa, claims(issuer, { scope: 'user:basics' }))), 'invalid_token');
});

test('elevated tokens: only for their scope and session; an elevated token is no session, a session token no elevated one', async () => {
  const verifier = verifierFor();
  const elevated = await signElevated(rsa, issuer, 'credential:link');
  const session = await sign(rsa, claims(issuer));
  assert.equal((await verifier.verifyElevated(elevated, 'credential:link')).scope, 'credential:link');
  assert.equal((await verifier.verifyElevated(elevated, 'credential:link', { sessionId: 'ses_1' })).sid, 'ses_1');
  await refused(assert, verifier.verifyElevated(elevated, 'wallet:export'), 'elevated_token_required', 403);
  await refused(assert, verifier.verifyElevated(elevated, 'credential:link', { sessionId: 'ses_2' }), 'elevated_token_required', 403);
  await refused(assert, verifier.verifySession(elevated), 'invalid_token', 401);
  await refused(assert, verifier.verifyElevated(session, 'user:basic'), 'elevated_token_required', 403);
  await refused(assert, verifier.verifyElevated(undefined, 'credential:link'), 'elevated_token_required', 403);
  const expired = await signElevated(rsa, issuer, 'credential:link', { exp: Math.floor(Date.now() / 1000) - 120 });
  await assert.rejects(verifier.verifyElevated(expired, 'credential:link'), (e) => {
    assert.equal(e.code, 'elevated_token_required');
    assert.equal(e.cause.code, 'token_expired', 'the reason is the cause');
    return true;
  });
});

test('the revocation hook is asked after the signature holds, with the claims', async () => {
  const asked = [];
  let answer = false;
  const verifier = verifierFor({
    revocations: {
      isRevoked: async (c) => {
        asked.push(c.sid);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  });
  const token = await sign(rsa, claims(issuer));
  await verifier.verifySession(token);
  assert.deepEqual(asked, ['ses_1']);
  answer = true;
  await refused(assert, verifier.verifySession(token), 'session_revoked', 401);
  await refused(assert, verifier.verifyElevated(await signElevated(rsa, issuer, 'wallet:sign'), 'wallet:sign'), 'elevated_token_required', 403);
  answer = new Error('feed down');
  await refused(assert, verifier.verifySession(token), 'unavailable', 503);
  await refused(assert, verifier.verifyElevated(await signElevated(rsa, issuer, 'wallet:sign'), 'wallet:sign'), 'unavailable', 503);
  asked.length = 0;
  await refused(assert, verifier.verifySession(`${token}x`), 'invalid_token');
  assert.deepEqual(asked, [], 'not asked for a bad signature');
});

test('a new kid is picked up without a restart once the cooldown has passed', async () => {
  const verifier = verifierFor({ cooldownMs: 200 });
  await verifier.verifySession(await sign(rsa, claims(issuer)));
  const next = await makeKey('ES256');
  issuer.keys = [...issuer.keys, next];
  try {
    const token = await sign(next, claims(issuer));
    // Within the cooldown after the last fetch, the new kid is not looked for.
    await refused(assert, verifier.verifySession(token), 'invalid_token');
    await delay(250);
    const jwks = issuer.requests.jwks;
    assert.equal((await verifier.verifySession(token)).sub, 'usr_1');
    assert.equal(issuer.requests.jwks - jwks, 1, 'one fetch for the new kid');
    await verifier.verifySession(await sign(rsa, claims(issuer)));
    await verifier.verifySession(token);
    assert.equal(issuer.requests.jwks - jwks, 1, 'then the cache');
  } finally {
    issuer.keys = issuer.keys.filter((k) => k !== next);
  }
});

test('1,000 made-up kids: at most one JWKS fetch per cooldown', async () => {
  const cooldownMs = 1_500;
  // Signed before the first fetch, so that signing takes none of the cooldown.
  const forged = await Promise.all(Array.from({ length: 1_500 }, (_, i) => sign(ec, claims(issuer), { kid: `made_up_${i}` })));
  const verifier = verifierFor({ cooldownMs });
  const start = issuer.requests.jwks;
  const batch = async (tokens) => {
    const results = await Promise.allSettled(tokens.map((t) => verifier.verifySession(t)));
    for (const r of results) assert.equal(r.reason?.code, 'invalid_token');
  };
  await batch(forged.slice(0, 500));
  assert.equal(issuer.requests.jwks - start, 1, 'concurrent unknown kids share one fetch');
  await batch(forged.slice(500, 1_000));
  assert.equal(issuer.requests.jwks - start, 1, 'none within the cooldown');
  await delay(cooldownMs + 100);
  await batch(forged.slice(1_000));
  assert.equal(issuer.requests.jwks - start, 2, 'one more after it');
  // A real token still verifies from the cache.
  await verifier.verifySession(await sign(rsa, claims(issuer)));
  assert.equal(issuer.requests.jwks - start, 2);
});

test('keys out of reach: unavailable (503), and discovery is tried again later', async () => {
  const down = await startIssuer([rsa]);
  const url = down.issuer;
  await down.close();
  const verifier = createVerifier({ issuer: url, audience: ENV, timeoutMs: 1000 });
  const token = await sign(rsa, claims(down));
  await refused(assert, verifier.verifySession(token), 'unavailable', 503);
  await refused(assert, verifier.verifySession(token), 'unavailable', 503);
  const direct = createVerifier({ issuer: url, audience: ENV, jwksUri: `${url}/.well-known/jwks.json`, timeoutMs: 1000 });
  await refused(assert, direct.verifySession(token), 'unavailable', 503);
});

test('discovery that names another issuer, or a JWKS that is not one: unavailable', async () => {
  const liar = await startIssuer([rsa]);
  try {
    const real = liar.issuer;
    liar.issuer = `${liar.base}/sdk/v1/env_other`;
    const verifier = createVerifier({ issuer: real, audience: ENV });
    await refused(assert, verifier.verifySession(await sign(rsa, claims({ issuer: real }))), 'unavailable', 503);
    const wrongJwks = createVerifier({ issuer: real, audience: ENV, jwksUri: `${liar.base}/nowhere` });
    await refused(assert, wrongJwks.verifySession(await sign(rsa, claims({ issuer: real }))), 'unavailable', 503);
  } finally {
    await liar.close();
  }
});

test('no refusal carries the token', async () => {
  const verifier = verifierFor();
  const now = Math.floor(Date.now() / 1000);
  const tokens = [
    await sign(rsa, claims(issuer, { exp: now - 600 })),
    await sign(rsa, claims(issuer, { aud: 'env_other' })),
    await sign(rsa, claims(issuer, { scope: 'requiresAdditionalAuth' })),
    await sign(rsa, claims(issuer), { kid: 'nope' }),
    'a.b.c',
  ];
  for (const token of tokens) {
    for (const attempt of [() => verifier.verifySession(token), () => verifier.verifyElevated(token, 'wallet:sign')]) {
      const error = await attempt().then(() => assert.fail('accepted'), (e) => e);
      assert.ok(error instanceof PortcullisAuthError);
      for (const text of [error.message, JSON.stringify(error.toProblem()), String(error.stack)]) {
        assert.ok(!text.includes(token), `${error.code}: ${text}`);
      }
    }
  }
});
