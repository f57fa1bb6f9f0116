/** Sign-in with a 6-digit code mailed to the user. */
import { camelize } from './camel.js';
import type { Core } from './core.js';
import type { AuthResultJson } from './session-state.js';
import type { AuthResult, VerificationStarted } from './types.js';
import { checkEmail, checkId, checkSixDigitCode } from './validate.js';

export interface EmailSignIn {
  /** Mails a code. The answer is the same whether or not the address has a user. */
  start(email: string): Promise<VerificationStarted>;
  /** Trades the code for a session: emits `signed_in`, or `mfa_required` when a second factor is due. */
  verify(verificationId: string, code: string): Promise<AuthResult>;
}

export function createEmailSignIn(core: Core): EmailSignIn {
  return {
    async start(email) {
      const body = { email: checkEmail(email) };
      return camelize(await core.call('POST', '/auth/email/start', { body, auth: false }));
    },
    async verify(verificationId, code) {
      const body = { verification_id: checkId(verificationId, 'verificationId'), code: checkSixDigitCode(code) };
      return core.adopt(await core.call<AuthResultJson>('POST', '/auth/email/verify', { body, auth: false }), 'signed_in');
    },
  };
}
