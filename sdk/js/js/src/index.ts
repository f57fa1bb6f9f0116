/**
 * @portcullis/js — the browser SDK of Portcullis. See docs/sdk.md.
 */
export { createPortcullis, Portcullis, type PortcullisOptions } from './client.js';
export { PortcullisError, type PortcullisErrorCode, type FieldError } from './errors.js';
export type { EmailSignIn } from './email.js';
export type { Mfa } from './mfa.js';
export type { KeyValueStore, Persistence } from './storage.js';
export type { WebAuthnContainer } from './passkeys.js';
export { STEP_UP_SCOPES, type SecondFactor, type StepUpScope } from './validate.js';
export type * from './types.js';
