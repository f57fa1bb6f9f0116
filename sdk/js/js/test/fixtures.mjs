// Server answers as the Rust views serialise them (crates/portcullis/src/http/views).
import { encodeBase64url } from '../dist/base64url.js';

const b64json = (value) => encodeBase64url(new TextEncoder().encode(JSON.stringify(value)));

export const jwt = (payload) => `${b64json({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64json(payload)}.c2lnbmF0dXJl`;

export const sessionJson = ({ id = 'ses_1', expiresAt = '2030-01-01T00:00:00Z' } = {}) => ({
  id,
  user_id: 'usr_1',
  environment_id: 'env_1',
  created_at: '2026-01-01T00:00:00Z',
  expires_at: expiresAt,
  last_active_at: null,
  ip_address: '127.0.0.1',
  user_agent: 'test',
  revoked_at: null,
  revoked_by: null,
  amr: ['otp'],
});

export const userJson = () => ({
  id: 'usr_1',
  environment_id: 'env_1',
  email: 'ada@example.com',
  created_at: '2026-01-01T00:00:00Z',
  verified_credentials: [{ kind: 'email', value: 'ada@example.com' }],
});

/** An auth result; in-app mode carries a token expiring at `exp` (seconds). */
export function authResult({ mode = 'in_app', token, exp = 2_000_000_000, sessionId = 'ses_1', mfaRequired = false, expiresAt, csrf = 'csrf_1' } = {}) {
  const scope = mfaRequired ? 'requiresAdditionalAuth' : 'user:basic';
  return {
    ...(mode === 'in_app' ? { token: token ?? jwt({ sub: 'usr_1', sid: sessionId, exp, scope }) } : { csrf_token: csrf }),
    session: sessionJson({ id: sessionId, expiresAt: expiresAt ?? new Date(exp * 1000).toISOString() }),
    user: userJson(),
    mfa: { required: mfaRequired, enrolled: mfaRequired, methods: mfaRequired ? ['totp'] : [], available_methods: ['totp', 'passkey'] },
  };
}

export const problem = (status, code, extra = {}) => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...(extra.headers ?? {}) },
  body: { type: `https://portcullis.dev/problems/${code}`, title: code, status, code, detail: `${code} detail` },
});

/**
 * A fake `fetch`: `routes` maps `METHOD /path` (under /sdk/v1/{env}) to a
 * handler returning `{status, body, headers}` or throwing (a network error).
 * Every call is recorded with its headers, body and credentials.
 */
export function fakeServer(routes) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const path = new URL(url).pathname.replace(/^\/sdk\/v1\/[^/]+/, '');
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const call = { method: init.method ?? 'GET', path, url: String(url), headers, credentials: init.credentials, body: init.body ? JSON.parse(init.body) : undefined };
    calls.push(call);
    const handler = routes[`${call.method} ${path}`];
    if (!handler) return new Response(JSON.stringify(problem(404, 'not_found').body), { status: 404, headers: { 'content-type': 'application/problem+json' } });
    const answer = await handler(call);
    const status = answer.status ?? 200;
    const body = answer.body === undefined ? null : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    return new Response(status === 204 ? null : body, { status, headers: { 'content-type': 'application/json', ...(answer.headers ?? {}) } });
  };
  return { fetch, calls, routes };
}
