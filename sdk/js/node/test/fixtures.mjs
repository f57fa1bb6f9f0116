// A stand-in for a Portcullis environment: keys made here, a real local
// HTTP server serving discovery and the JWKS (counting requests), and
// tokens signed as the server signs them.

import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export const ENV = 'env_test';

/** A signing key: `alg`, `kid`, the private key and the public JWK. */
export async function makeKey(alg = 'RS256', kid = `key_${alg}_${Math.random().toString(36).slice(2)}`) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk };
}

/**
 * Starts the environment's well-known endpoints on 127.0.0.1. `keys` is
 * what the JWKS publishes (change it to rotate). `requests` counts
 * `discovery` and `jwks` fetches.
 */
export async function startIssuer(keys) {
  const issuer = {
    keys,
    requests: { discovery: 0, jwks: 0 },
    base: '',
    issuer: '',
    jwksUri: '',
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === `/sdk/v1/${ENV}/.well-known/openid-configuration`) {
      issuer.requests.discovery++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri }));
    } else if (path === `/sdk/v1/${ENV}/.well-known/jwks.json`) {
      issuer.requests.jwks++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: issuer.keys.map((k) => k.jwk) }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer.base = `http://127.0.0.1:${server.address().port}`;
  issuer.issuer = `${issuer.base}/sdk/v1/${ENV}`;
  issuer.jwksUri = `${issuer.issuer}/.well-known/jwks.json`;
  issuer.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(resolve);
  });
  return issuer;
}

/** Session claims as the server issues them, `overrides` applied (a value `undefined` removes the claim). */
export function claims(issuer, overrides = {}) {
  const now = Math.floor(Date.now() / 1000);
  const all = {
    iss: issuer.issuer,
    sub: 'usr_1',
    aud: ENV,
    sid: 'ses_1',
    environment_id: ENV,
    iat: now,
    nbf: now,
    exp: now + 7200,
    jti: `jti_${Math.random().toString(36).slice(2)}`,
    scope: 'user:basic',
    amr: ['otp'],
    email: 'ada@example.test',
    env_epoch: 0,
    user_epoch: 0,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
}

/** A signed token: `key`'s alg and kid unless `header` says otherwise. */
export function sign(key, payload, header = {}) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

/** An elevated token for `scope`, bound to `sid`, as the step-up issues it. */
export function signElevated(key, issuer, scope, overrides = {}) {
  const now = Math.floor(Date.now() / 1000);
  return sign(key, claims(issuer, { scope, amr: ['mfa', 'otp'], exp: now + 300, ...overrides }), { typ: 'elevated+jwt' });
}

/** base64url of a JSON value or a buffer. */
export const b64url = (value) =>
  Buffer.from(Buffer.isBuffer(value) ? value : JSON.stringify(value)).toString('base64url');

/** Asserts that `promise` rejects with a PortcullisAuthError of this code (and status). */
export async function refused(assert, promise, code, status) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.name, 'PortcullisAuthError', `${e.name}: ${e.message}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    if (status !== undefined) assert.equal(e.status, status);
    return true;
  });
}
