// The claims of a Portcullis token (API.md, "JWT"; the server's
// `domain::claims::SessionClaims`), checked for shape once the signature
// holds.

import { PortcullisAuthError } from './errors.js';

/** The scope of a complete sign-in. */
export const SCOPE_USER_BASIC = 'user:basic';
/** The scope of a partial session: the second factor is still outstanding. */
export const SCOPE_REQUIRES_ADDITIONAL_AUTH = 'requiresAdditionalAuth';

/** The header `typ` of session tokens. */
export const SESSION_TOKEN_TYP = 'JWT';
/** The header `typ` of elevated tokens (step-up, one action). */
export const ELEVATED_TOKEN_TYP = 'elevated+jwt';

/** The claims of a session token or of an elevated token. */
export interface PortcullisClaims {
  /** `{public_url}/sdk/v1/{environment_id}`. */
  iss: string;
  /** The user's id (`usr_…`). */
  sub: string;
  /** The environment's id. */
  aud: string;
  /** The session's id (`ses_…`); an elevated token carries its session's. */
  sid: string;
  environment_id: string;
  /** Seconds since the epoch. */
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  /**
   * Space-separated: `user:basic` for a complete sign-in,
   * `requiresAdditionalAuth` for a partial one, plus scopes from access
   * lists; for an elevated token, its one action (e.g. `credential:link`).
   */
  scope: string;
  /** Authentication methods (RFC 8176), e.g. `["otp"]`, `["otp", "mfa", "otp"]`. */
  amr: string[];
  /** Present when verified. */
  email?: string;
  phone_number?: string;
  wallet?: string;
  /** The environment's revocation epoch when the session began. */
  env_epoch: number;
  /** The user's revocation epoch when the session began. */
  user_epoch: number;
}

/** Whether the token's `scope` holds `scope` (whole words only). */
export function hasScope(claims: Pick<PortcullisClaims, 'scope'>, scope: string): boolean {
  return claims.scope.split(' ').includes(scope);
}

const STRINGS = ['iss', 'sub', 'aud', 'sid', 'environment_id', 'jti', 'scope'] as const;
const INTEGERS = ['iat', 'nbf', 'exp', 'env_epoch', 'user_epoch'] as const;
const OPTIONAL_STRINGS = ['email', 'phone_number', 'wallet'] as const;

/** The payload as claims, or `invalid_token` when a claim is missing or of the wrong type. */
export function asClaims(payload: Record<string, unknown>): PortcullisClaims {
  const wrong = (name: string) => new PortcullisAuthError('invalid_token', `The token's "${name}" claim is missing or malformed.`);
  for (const name of STRINGS) {
    if (typeof payload[name] !== 'string' || payload[name] === '') throw wrong(name);
  }
  for (const name of INTEGERS) {
    if (!Number.isSafeInteger(payload[name])) throw wrong(name);
  }
  for (const name of OPTIONAL_STRINGS) {
    if (payload[name] !== undefined && typeof payload[name] !== 'string') throw wrong(name);
  }
  const amr = payload['amr'];
  if (!Array.isArray(amr) || !amr.every((m) => typeof m === 'string')) throw wrong('amr');
  return payload as unknown as PortcullisClaims;
}
