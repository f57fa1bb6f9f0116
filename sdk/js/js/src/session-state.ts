/**
 * The session state's transitions as pure functions: from a sign-in's
 * answer, from `GET /session`, and what a 401 means for it.
 */
import { camelize } from './camel.js';
import { unexpectedResponse } from './errors.js';
import { jwtExpiresAt } from './jwt.js';
import type { SessionState } from './storage.js';
import type {
  AuthResult,
  MfaStatus,
  Session,
  SessionEvent,
  SessionEventType,
  SessionSnapshot,
  TokenStorage,
  User,
} from './types.js';

/** The server's auth result (API.md), plus `csrf_token` in cookie mode. */
export interface AuthResultJson {
  token?: string | null;
  csrf_token?: string | null;
  session: unknown;
  user: unknown;
  mfa: unknown;
}

/** `GET /session`'s answer; `csrf_token` in cookie mode. */
export interface CurrentSessionJson {
  session: unknown;
  user: unknown;
  csrf_token?: string | null;
}

function expiryOf(session: Session, token: string | undefined): number {
  const at = (token === undefined ? null : jwtExpiresAt(token)) ?? Date.parse(session.expiresAt);
  if (Number.isNaN(at)) throw unexpectedResponse(200, 'The session has no readable expiry.');
  return at;
}

/** The state a sign-in (or a completed MFA step) leaves; refuses an answer of the other mode. */
export function stateFromAuthResult(json: AuthResultJson, mode: TokenStorage): SessionState {
  if (typeof json !== 'object' || json === null || typeof (json.session as Session | undefined)?.id !== 'string') {
    throw unexpectedResponse(200, 'The sign-in answer has no session.');
  }
  const session = camelize<Session>(json.session);
  const user = camelize<User>(json.user);
  const mfa = camelize<MfaStatus>(json.mfa);
  if (mode === 'in_app') {
    if (typeof json.token !== 'string') {
      throw unexpectedResponse(200, "The server answered without a token: this environment uses cookie storage (storage: 'cookie').");
    }
    return { mode, token: json.token, session, user, mfa, expiresAt: expiryOf(session, json.token) };
  }
  if (typeof json.token === 'string') {
    throw unexpectedResponse(200, "The server answered with a token: this environment uses in-app storage (storage: 'in_app').");
  }
  if (typeof json.csrf_token !== 'string') throw unexpectedResponse(200, 'The cookie-mode answer has no csrf_token.');
  return { mode, csrfToken: json.csrf_token, session, user, mfa, expiresAt: expiryOf(session, undefined) };
}

/**
 * The state after `GET /session` answered 200: the server's session and
 * user over what was known (the answer's user, built from the token, lacks
 * `createdAt`). With no prior state (cookie mode, a cookie this page did not
 * know of) the session is complete, since a partial one gets 403.
 */
export function stateFromCurrentSession(
  json: CurrentSessionJson,
  previous: SessionState | null,
  mode: TokenStorage,
): SessionState | null {
  const session = camelize<Session>(json.session);
  const user = camelize<User>(json.user);
  const csrfToken = typeof json.csrf_token === 'string' ? json.csrf_token : previous?.csrfToken;
  if (previous) {
    const expiresAt = previous.mode === 'cookie' ? expiryOf(session, undefined) : previous.expiresAt;
    return { ...previous, session, user: { ...previous.user, ...user }, csrfToken, expiresAt };
  }
  if (mode !== 'cookie' || csrfToken === undefined) return null;
  return { mode, csrfToken, session, user, mfa: null, expiresAt: expiryOf(session, undefined) };
}

/** What a 401 with this code means for a session the SDK holds; `null`: nothing. */
export function endEventFor(code: string): SessionEventType | null {
  switch (code) {
    case 'session_revoked':
      return 'revoked';
    case 'token_expired':
      return 'expired';
    case 'invalid_token':
    case 'missing_credentials':
      return 'logged_out';
    default:
      return null;
  }
}

export function isEndEvent(type: SessionEventType): boolean {
  return type === 'logged_out' || type === 'revoked' || type === 'expired';
}

/** `signed_in` becomes `mfa_required` when the session still needs its second factor. */
export function startEventFor(state: SessionState, type: 'signed_in' | 'refreshed'): SessionEventType {
  return type === 'signed_in' && state.mfa?.required ? 'mfa_required' : type;
}

export function eventOf(type: SessionEventType, state: SessionState | null, fromOtherTab = false): SessionEvent {
  return { type, session: state?.session ?? null, user: state?.user ?? null, mfa: state?.mfa ?? null, fromOtherTab };
}

export function snapshotOf(state: SessionState | null, loading: boolean, lastEvent: SessionEvent | null): SessionSnapshot {
  const status = loading ? 'loading' : state === null ? 'signed_out' : state.mfa?.required ? 'mfa_required' : 'signed_in';
  return { status, session: state?.session ?? null, user: state?.user ?? null, mfa: state?.mfa ?? null, lastEvent };
}

/** The auth result as the application sees it: no token, no CSRF token. */
export function publicAuthResult(state: SessionState): AuthResult {
  return { session: state.session, user: state.user, mfa: state.mfa! };
}
