/** What the method groups (e-mail sign-in, MFA) need from the client. */
import type { WebAuthnContainer } from './passkeys.js';
import type { AuthResultJson } from './session-state.js';
import type { AuthResult } from './types.js';
import type { StepUpScope } from './validate.js';

export interface CallOptions {
  body?: unknown;
  /** Send the session's credentials (default true; sign-in steps: false). */
  auth?: boolean;
  /** Send the kept elevated token for this scope, if any. */
  elevated?: StepUpScope;
}

export interface Core {
  call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, options?: CallOptions): Promise<T>;
  /** Takes over a new token or session from an auth result, and announces it. */
  adopt(json: AuthResultJson, type: 'signed_in' | 'refreshed'): AuthResult;
  webauthn: WebAuthnContainer | undefined;
}
