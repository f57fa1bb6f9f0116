import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBase64url, decodeBase64urlText, encodeBase64url } from '../dist/base64url.js';
import { decodeJwtPayload, jwtExpiresAt } from '../dist/jwt.js';
import { camelize } from '../dist/camel.js';

const bytes = (buffer) => [...new Uint8Array(buffer)];

test('base64url round-trips every byte value, without padding and with the URL alphabet', () => {
  const all = new Uint8Array(256).map((_, i) => i);
  const text = encodeBase64url(all);
  assert.doesNotMatch(text, /[+/=]/);
  assert.deepEqual(bytes(decodeBase64url(text)), [...all]);
  for (let n = 0; n < 5; n++) {
    const part = all.slice(250 - n);
    assert.deepEqual(bytes(decodeBase64url(encodeBase64url(part))), [...part]);
  }
});

test('base64url encodes a view of a larger buffer as just the view', () => {
  const buffer = new Uint8Array([1, 2, 3, 4, 5]);
  assert.equal(encodeBase64url(buffer.subarray(1, 3)), encodeBase64url(new Uint8Array([2, 3])));
  assert.equal(encodeBase64url(new Uint8Array([0xfb, 0xff]).buffer), '-_8');
});

test('base64url decoding accepts padding and plain base64, and refuses garbage', () => {
  assert.deepEqual(bytes(decodeBase64url('-_8=')), [0xfb, 0xff]);
  assert.deepEqual(bytes(decodeBase64url('+/8')), [0xfb, 0xff]);
  assert.equal(decodeBase64urlText('aMOpbGxv'), 'héllo');
  assert.throws(() => decodeBase64url('a*b'), TypeError);
  assert.throws(() => decodeBase64url('abcde'), TypeError);
});

const jwt = (payload) =>
  [{ alg: 'RS256', typ: 'JWT' }, payload].map((p) => encodeBase64url(new TextEncoder().encode(JSON.stringify(p)))).join('.') + '.c2ln';

test('the JWT payload is decoded without verification, and exp read as milliseconds', () => {
  const token = jwt({ sub: 'usr_1', sid: 'ses_1', exp: 1767225600, scope: 'user:basic', email: 'é@x.io' });
  assert.deepEqual(decodeJwtPayload(token), { sub: 'usr_1', sid: 'ses_1', exp: 1767225600, scope: 'user:basic', email: 'é@x.io' });
  assert.equal(jwtExpiresAt(token), 1767225600000);
});

test('what is not a JWT decodes to null', () => {
  for (const token of ['', 'abc', 'a.b', 'a..c', 'a.!!!.c', `a.${encodeBase64url(new TextEncoder().encode('[1]'))}.c`, 'a.b.c.d']) {
    assert.equal(decodeJwtPayload(token), null, token);
  }
  assert.equal(jwtExpiresAt(jwt({ sub: 'x' })), null);
  assert.equal(jwtExpiresAt(jwt({ exp: '1767225600' })), null);
});

test('snake_case keys become camelCase, deeply, and values stay', () => {
  assert.deepEqual(camelize({ verification_id: 'v_1', expires_at: 'x', revoked_by: { kind: 'user' }, list: [{ user_id: 'u', amr: ['otp'] }], qr_svg: '<svg a_b="1"/>' }), {
    verificationId: 'v_1',
    expiresAt: 'x',
    revokedBy: { kind: 'user' },
    list: [{ userId: 'u', amr: ['otp'] }],
    qrSvg: '<svg a_b="1"/>',
  });
  assert.equal(camelize(null), null);
});
