// Verifies Portcullis tokens on a backend: the signature against the
// environment's published keys (found by discovery, fetched again on an
// unknown `kid` at most once per cooldown), the header `typ`, `iss`, `aud`,
// `exp`, `nbf`, the scopes, and a revocation hook.

import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import {
  asClaims,
  ELEVATED_TOKEN_TYP,
  hasScope,
  type PortcullisClaims,
  SCOPE_REQUIRES_ADDITIONAL_AUTH,
  SCOPE_USER_BASIC,
  SESSION_TOKEN_TYP,
} from './claims.js';
import { PortcullisAuthError } from './errors.js';

/** The algorithms Portcullis signs with; nothing else is accepted (no `none`, no HMAC). */
export const ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/**
 * Where a verifier learns of revocations (`followRevocations` follows the
 * server's feed). The server's rule: a token is revoked if its `sid` is
 * revoked, or its `user_epoch` is below the user's epoch, or its
 * `env_epoch` below the environment's. Consulted after the signature and
 * the claims hold; a hook that throws refuses the token with
 * `unavailable` (503).
 */
export interface RevocationCheck {
  isRevoked(claims: PortcullisClaims): boolean | Promise<boolean>;
}

export interface VerifierOptions {
  /** `{public_url}/sdk/v1/{environment_id}`, exactly as the server's discovery names it. */
  issuer: string;
  /** The environment's id (tokens of another environment are refused). */
  audience: string;
  /** The JWKS URL; default: `jwks_uri` from `{issuer}/.well-known/openid-configuration`, fetched on first use. */
  jwksUri?: string | URL;
  /** Seconds of clock skew allowed on `exp` and `nbf` (default 60). */
  clockTolerance?: number;
  /** After a fetch of the keys, how long an unknown `kid` is refused without fetching again (default 30 000 ms). */
  cooldownMs?: number;
  /** How long the discovery and JWKS requests may take (default 5 000 ms). */
  timeoutMs?: number;
  revocations?: RevocationCheck;
}

export interface VerifySessionOptions {
  /**
   * Accept a partial session (`requiresAdditionalAuth`: MFA outstanding),
   * e.g. on a route that only shows the MFA prompt. Default: refused with
   * `mfa_required` (403).
   */
  allowPartial?: boolean;
}

export interface VerifyElevatedOptions {
  /** The session the elevated token must belong to (the `sid` of the caller's session token). */
  sessionId?: string;
}

export interface Verifier {
  /**
   * A session token (header `typ: JWT`) → its claims; a `PortcullisAuthError`
   * otherwise: `missing_credentials` (no token), `invalid_token`,
   * `token_expired`, `session_revoked`, `mfa_required`, `unavailable`.
   */
  verifySession(token: string | undefined | null, options?: VerifySessionOptions): Promise<PortcullisClaims>;
  /**
   * An elevated token (header `typ: elevated+jwt`) for `scope` → its claims;
   * any refusal is `elevated_token_required` (403) as on the server, except
   * `unavailable`; the reason is the error's `cause`. Portcullis spends an
   * elevated token when it is used there; this check does not spend it.
   */
  verifyElevated(token: string | undefined | null, scope: string, options?: VerifyElevatedOptions): Promise<PortcullisClaims>;
}

export function createVerifier(options: VerifierOptions): Verifier {
  const { issuer, audience, clockTolerance = 60, cooldownMs = 30_000, timeoutMs = 5_000, revocations } = options;
  if (!issuer || !audience) throw new TypeError('createVerifier: `issuer` and `audience` are required');
  const keys = lazyKeys(issuer, options.jwksUri, { cooldownMs, timeoutMs });

  async function verify(token: string | undefined | null, typ: string): Promise<PortcullisClaims> {
    if (!token) throw new PortcullisAuthError('missing_credentials', 'No token was sent.');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        algorithms: [...ALGORITHMS],
        typ,
        issuer,
        audience,
        clockTolerance,
        requiredClaims: ['exp', 'nbf', 'iat', 'sub', 'sid', 'jti'],
      }));
    } catch (e) {
      throw refusal(e);
    }
    const claims = asClaims(payload as Record<string, unknown>);
    // `aud` may be an array in a JWT; Portcullis issues one string.
    if (claims.aud !== audience || claims.environment_id !== audience) {
      throw new PortcullisAuthError('invalid_token', 'The token is for another environment.');
    }
    if (revocations) {
      let revoked;
      try {
        revoked = await revocations.isRevoked(claims);
      } catch (e) {
        throw new PortcullisAuthError('unavailable', 'Revocations could not be checked.', { cause: e });
      }
      if (revoked) throw new PortcullisAuthError('session_revoked', 'The session was revoked.');
    }
    return claims;
  }

  return {
    async verifySession(token, { allowPartial = false } = {}) {
      const claims = await verify(token, SESSION_TOKEN_TYP);
      if (hasScope(claims, SCOPE_REQUIRES_ADDITIONAL_AUTH)) {
        if (!allowPartial) {
          throw new PortcullisAuthError('mfa_required', 'The sign-in is not complete: a second factor is outstanding.');
        }
      } else if (!hasScope(claims, SCOPE_USER_BASIC)) {
        throw new PortcullisAuthError('invalid_token', `The token lacks the "${SCOPE_USER_BASIC}" scope.`);
      }
      return claims;
    },

    async verifyElevated(token, scope, { sessionId } = {}) {
      if (!scope) throw new TypeError('verifyElevated: `scope` is required');
      let claims;
      try {
        claims = await verify(token, ELEVATED_TOKEN_TYP);
      } catch (e) {
        if (e instanceof PortcullisAuthError && e.code === 'unavailable') throw e;
        throw new PortcullisAuthError('elevated_token_required', `A valid elevated token for "${scope}" is required.`, { cause: e });
      }
      if (claims.scope !== scope) {
        throw new PortcullisAuthError('elevated_token_required', `The elevated token is not for "${scope}".`);
      }
      if (sessionId !== undefined && claims.sid !== sessionId) {
        throw new PortcullisAuthError('elevated_token_required', 'The elevated token belongs to another session.');
      }
      return claims;
    },
  };
}

/** A jose (or network) error as the server's code. */
function refusal(e: unknown): PortcullisAuthError {
  if (e instanceof PortcullisAuthError) return e;
  if (e instanceof errors.JWTExpired) return new PortcullisAuthError('token_expired', 'The token has expired.', { cause: e });
  if (e instanceof errors.JWKSNoMatchingKey) {
    return new PortcullisAuthError('invalid_token', "The token's signing key is not one of the environment's.", { cause: e });
  }
  const keysUnreadable =
    e instanceof errors.JWKSTimeout ||
    e instanceof errors.JWKSInvalid ||
    // jose's plain JOSEError: the JWKS answered other than 200, or not JSON.
    (e instanceof errors.JOSEError && e.constructor === errors.JOSEError) ||
    // fetch's own errors (connection refused, DNS).
    !(e instanceof errors.JOSEError);
  if (keysUnreadable) {
    // The keys could not be fetched or read: not the token's fault.
    return new PortcullisAuthError('unavailable', "The environment's keys could not be fetched.", { cause: e });
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    return new PortcullisAuthError('invalid_token', `The token's "${e.claim}" claim is not accepted.`, { cause: e });
  }
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return new PortcullisAuthError('invalid_token', "The token's algorithm is not accepted.", { cause: e });
  }
  return new PortcullisAuthError('invalid_token', 'The token is malformed or its signature does not verify.', { cause: e });
}

/**
 * The key resolver: jose's remote JWKS set (cached, fetched again on an
 * unknown `kid` only after `cooldownMs`), its URL found by discovery on
 * first use when not given. One discovery at a time; a failed one is tried
 * again by the next request.
 */
function lazyKeys(
  issuer: string,
  jwksUri: string | URL | undefined,
  { cooldownMs, timeoutMs }: { cooldownMs: number; timeoutMs: number },
): JWTVerifyGetKey {
  const remote = (url: URL) => createRemoteJWKSet(url, { cooldownDuration: cooldownMs, timeoutDuration: timeoutMs });
  if (jwksUri !== undefined) return remote(new URL(jwksUri));
  let pending: Promise<JWTVerifyGetKey> | undefined;
  return async (header, token) => {
    pending ??= discover(issuer, timeoutMs).then(remote, (e) => {
      pending = undefined;
      throw e;
    });
    return (await pending)(header, token);
  };
}

/** `jwks_uri` from `{issuer}/.well-known/openid-configuration`, whose `issuer` must be ours. */
async function discover(issuer: string, timeoutMs: number): Promise<URL> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let document: unknown;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    if (!response.ok) throw new Error(`discovery answered HTTP ${response.status}`);
    document = await response.json();
  } catch (e) {
    throw new PortcullisAuthError('unavailable', `Discovery at ${url} failed.`, { cause: e });
  }
  const found = document as { issuer?: unknown; jwks_uri?: unknown } | null;
  if (found?.issuer !== issuer || typeof found.jwks_uri !== 'string') {
    throw new PortcullisAuthError('unavailable', `Discovery at ${url} does not describe the issuer ${issuer}.`);
  }
  return new URL(found.jwks_uri);
}
