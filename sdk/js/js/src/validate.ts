/**
 * Arguments checked before any request, so a typo costs no round-trip and
 * no rate-limit budget. The rules follow the server's (domain/email.rs,
 * domain/mfa.rs); the server checks again.
 */
import { validationError } from './errors.js';

/** The actions an elevated token can be asked for (API.md, step-up). */
export const STEP_UP_SCOPES = ['credential:link', 'credential:unlink', 'wallet:sign', 'wallet:export'] as const;
export type StepUpScope = (typeof STEP_UP_SCOPES)[number];

/** A second factor: a TOTP code, a recovery code, or the user's passkey. */
export type SecondFactor = { code: string } | { recoveryCode: string } | { passkey: true };

const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;
const DOMAIN_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const RECOVERY_ALPHABET = /^[abcdefghjkmnpqrstuvwxyz23456789]{10}$/;

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw validationError(field, 'must not be empty');
  return value.trim();
}

/** The address, trimmed; refused when the server would refuse it. */
export function checkEmail(value: unknown, field = 'email'): string {
  const email = requireString(value, field);
  const lower = email.toLowerCase();
  const at = lower.lastIndexOf('@');
  const local = lower.slice(0, at);
  const labels = lower.slice(at + 1).split('.');
  const ok =
    lower.length <= 254 &&
    at > 0 &&
    LOCAL_PART.test(local) &&
    !local.startsWith('.') &&
    !local.endsWith('.') &&
    !local.includes('..') &&
    labels.length >= 2 &&
    labels.every((l) => DOMAIN_LABEL.test(l));
  if (!ok) throw validationError(field, 'must be an e-mail address');
  return email;
}

/** A 6-digit code (e-mail OTP or TOTP) as typed: spaces are dropped. */
export function checkSixDigitCode(value: unknown, field = 'code'): string {
  const code = requireString(value, field).replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) throw validationError(field, 'must be 6 digits');
  return code;
}

/** A recovery code as typed (`abcde-fghjk`): case, spaces and dashes do not matter. */
export function checkRecoveryCode(value: unknown, field = 'recovery_code'): string {
  const code = requireString(value, field).replace(/[\s-]+/g, '').toLowerCase();
  if (!RECOVERY_ALPHABET.test(code)) throw validationError(field, 'must be a recovery code (10 letters and digits)');
  return code;
}

/** An id for a path segment: not empty. */
export function checkId(value: unknown, field: string): string {
  return requireString(value, field);
}

export function checkScope(value: unknown): StepUpScope {
  if (!STEP_UP_SCOPES.includes(value as StepUpScope)) {
    throw validationError('scope', `must be one of ${STEP_UP_SCOPES.join(', ')}`);
  }
  return value as StepUpScope;
}

/** Exactly one factor, its value checked; `passkey` is resolved by the caller. */
export function checkFactor(
  value: unknown,
): { code: string } | { recovery_code: string } | { passkey: true } {
  const f = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const given = ['code', 'recoveryCode', 'passkey'].filter((k) => f[k] !== undefined);
  if (given.length !== 1) {
    throw validationError('factor', 'must be exactly one of {code}, {recoveryCode} or {passkey: true}');
  }
  if (f.code !== undefined) return { code: checkSixDigitCode(f.code) };
  if (f.recoveryCode !== undefined) return { recovery_code: checkRecoveryCode(f.recoveryCode, 'recoveryCode') };
  if (f.passkey !== true) throw validationError('passkey', 'must be true');
  return { passkey: true };
}
