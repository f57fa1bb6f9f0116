import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBase64url } from '../dist/base64url.js';
import { assertionToJSON, registrationToJSON, toCreationOptions, toRequestOptions } from '../dist/webauthn.js';
import { createPasskey, getAssertion } from '../dist/passkeys.js';

const buf = (...values) => new Uint8Array(values).buffer;
const bytes = (buffer) => [...new Uint8Array(buffer)];

// As webauthn-rs 0.6 serialises a CreationChallengeResponse.
const creation = {
  publicKey: {
    rp: { name: 'Portcullis', id: 'app.example.com' },
    user: { id: encodeBase64url(buf(1, 2, 3)), name: 'ada@example.com', displayName: 'ada@example.com' },
    challenge: encodeBase64url(buf(250, 251, 252, 253)),
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    timeout: 60000,
    excludeCredentials: [{ type: 'public-key', id: encodeBase64url(buf(9, 8)), transports: ['usb'] }],
    authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
    attestation: 'none',
    extensions: { credProps: true },
  },
};

const request = {
  publicKey: {
    challenge: encodeBase64url(buf(7, 7, 7)),
    timeout: 60000,
    rpId: 'app.example.com',
    allowCredentials: [{ type: 'public-key', id: encodeBase64url(buf(9, 8)) }],
    userVerification: 'preferred',
    extensions: { uvm: true, hmacGetSecret: { output1: 'AAAA' } },
  },
};

test('creation options: challenge, user id and excluded ids become buffers; the rest is kept', () => {
  const o = toCreationOptions(creation);
  assert.ok(o.challenge instanceof ArrayBuffer);
  assert.deepEqual(bytes(o.challenge), [250, 251, 252, 253]);
  assert.deepEqual(bytes(o.user.id), [1, 2, 3]);
  assert.equal(o.user.name, 'ada@example.com');
  assert.deepEqual(bytes(o.excludeCredentials[0].id), [9, 8]);
  assert.deepEqual(o.excludeCredentials[0].transports, ['usb']);
  assert.deepEqual(o.pubKeyCredParams, [{ type: 'public-key', alg: -7 }]);
  assert.equal(o.rp.id, 'app.example.com');
  assert.deepEqual(o.extensions, { credProps: true });
});

test('request options: challenge and allowed ids become buffers; binary extensions are dropped', () => {
  const o = toRequestOptions(request);
  assert.deepEqual(bytes(o.challenge), [7, 7, 7]);
  assert.deepEqual(bytes(o.allowCredentials[0].id), [9, 8]);
  assert.equal(o.rpId, 'app.example.com');
  assert.equal(o.userVerification, 'preferred');
  assert.deepEqual(o.extensions, { uvm: true });
});

const registration = {
  id: '-_8',
  rawId: buf(0xfb, 0xff),
  type: 'public-key',
  response: { clientDataJSON: buf(123, 125), attestationObject: buf(1), getTransports: () => ['internal'] },
  getClientExtensionResults: () => ({ credProps: { rk: false }, prf: { enabled: true } }),
};

test('a registration credential serialises as webauthn-rs RegisterPublicKeyCredential, unpadded base64url', () => {
  assert.deepEqual(registrationToJSON(registration), {
    id: '-_8',
    rawId: '-_8',
    type: 'public-key',
    response: { clientDataJSON: 'e30', attestationObject: 'AQ', transports: ['internal'] },
    extensions: { credProps: { rk: false } },
  });
  assert.throws(() => registrationToJSON({ ...registration, response: { clientDataJSON: buf(1) } }), TypeError);
});

const assertion = {
  id: 'AQI',
  rawId: buf(1, 2),
  type: 'public-key',
  response: { clientDataJSON: buf(123, 125), authenticatorData: buf(5), signature: buf(6, 7), userHandle: buf(1, 2, 3) },
};

test('an assertion serialises as webauthn-rs PublicKeyCredential; a missing user handle is null', () => {
  assert.deepEqual(assertionToJSON(assertion), {
    id: 'AQI',
    rawId: 'AQI',
    type: 'public-key',
    response: { clientDataJSON: 'e30', authenticatorData: 'BQ', signature: 'Bgc', userHandle: 'AQID' },
    extensions: {},
  });
  const noHandle = assertionToJSON({ ...assertion, response: { ...assertion.response, userHandle: null } });
  assert.equal(noHandle.response.userHandle, null);
});

test('the ceremonies hand the browser buffers and turn its refusal into passkey_failed', async () => {
  let seen;
  const container = {
    create: async (o) => ((seen = o), registration),
    get: async () => {
      throw Object.assign(new Error('The operation either timed out or was not allowed.'), { name: 'NotAllowedError' });
    },
  };
  const json = await createPasskey(container, creation);
  assert.equal(json.rawId, '-_8');
  assert.ok(seen.publicKey.challenge instanceof ArrayBuffer);
  await assert.rejects(getAssertion(container, request), (e) => e.code === 'passkey_failed' && e.status === 0 && /NotAllowedError/.test(e.detail));
  await assert.rejects(getAssertion(undefined, request), (e) => e.code === 'passkeys_unsupported');
  await assert.rejects(getAssertion({ get: async () => null }, request), (e) => e.code === 'passkey_failed');
});
