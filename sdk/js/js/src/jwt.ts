/**
 * Reading (never verifying) the payload of the session JWT: the SDK only
 * needs `exp` for its expiry timer and `scope` to tell a partial session.
 * Verification is the application backend's job, against the JWKS.
 */
import { decodeBase64urlText } from './base64url.js';

export interface JwtPayload {
  sub?: string;
  sid?: string;
  exp?: number;
  iat?: number;
  scope?: string;
  [claim: string]: unknown;
}

/** The payload, or `null` when the token is not a readable JWS compact form. */
export function decodeJwtPayload(token: string): JwtPayload | null {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === '') return null;
  try {
    const payload: unknown = JSON.parse(decodeBase64urlText(parts[1]!));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as JwtPayload) : null;
  } catch {
    return null;
  }
}

/** When the token stops being accepted, in epoch milliseconds; `null` if unknown. */
export function jwtExpiresAt(token: string): number | null {
  const exp = decodeJwtPayload(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null;
}
