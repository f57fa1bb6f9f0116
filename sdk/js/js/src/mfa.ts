/** The user's second factors: devices, enrolment, verification, recovery codes. */
import { camelize } from './camel.js';
import type { Core } from './core.js';
import { createPasskey, getAssertion } from './passkeys.js';
import type { AuthResultJson } from './session-state.js';
import type { AuthResult, ConfirmedDevice, MfaDevice, TotpEnrollment } from './types.js';
import { checkFactor, checkId, checkSixDigitCode, type SecondFactor } from './validate.js';
import type { CreationOptionsJSON, RequestOptionsJSON } from './webauthn.js';

export interface Mfa {
  /** The user's devices, confirmed or pending. */
  devices(): Promise<MfaDevice[]>;
  /** Begins TOTP enrolment: show `qrSvg` (or `secret`), then `confirmTotp`. */
  enrollTotp(): Promise<TotpEnrollment>;
  /** Activates the device with its first code. Uses a kept `credential:link` elevated token. */
  confirmTotp(deviceId: string, code: string): Promise<ConfirmedDevice>;
  /** Registers a passkey (browser prompt) as an MFA device. Uses a kept `credential:link` elevated token. */
  registerPasskey(name?: string): Promise<ConfirmedDevice>;
  /** The session's second factor: emits `refreshed` with the completed session. */
  verify(factor: SecondFactor): Promise<AuthResult>;
  /** Needs a `credential:unlink` step-up first when the environment enforces it. */
  removeDevice(deviceId: string): Promise<void>;
  /** New recovery codes (old unused ones stop working). Needs a `credential:link` step-up when enforced. */
  regenerateRecoveryCodes(): Promise<string[]>;
}

interface ConfirmedDeviceJson {
  device: unknown;
  recovery_codes?: string[];
  auth?: AuthResultJson;
}

/** The body fields of a factor; a passkey runs the browser ceremony first. */
export async function factorBody(core: Core, factor: SecondFactor): Promise<Record<string, unknown>> {
  const checked = checkFactor(factor);
  if (!('passkey' in checked)) return checked;
  const challenge = await core.call<{ challenge_id: string; options: RequestOptionsJSON }>('POST', '/mfa/passkey/challenge');
  const credential = await getAssertion(core.webauthn, challenge.options);
  return { assertion: { challenge_id: challenge.challenge_id, credential } };
}

export function createMfa(core: Core): Mfa {
  /** A confirmed first device can complete a waiting session: take its new token over. */
  const confirmed = (json: ConfirmedDeviceJson): ConfirmedDevice => {
    const auth = json.auth ? core.adopt(json.auth, 'refreshed') : undefined;
    return {
      device: camelize<MfaDevice>(json.device),
      ...(json.recovery_codes ? { recoveryCodes: json.recovery_codes } : {}),
      ...(auth ? { auth } : {}),
    };
  };
  const devicePath = (deviceId: string) => encodeURIComponent(checkId(deviceId, 'deviceId'));

  return {
    async devices() {
      return camelize<{ data: MfaDevice[] }>(await core.call('GET', '/mfa/devices')).data;
    },
    async enrollTotp() {
      return camelize(await core.call('POST', '/mfa/totp'));
    },
    async confirmTotp(deviceId, code) {
      const path = `/mfa/totp/${devicePath(deviceId)}/confirm`;
      const body = { code: checkSixDigitCode(code) };
      return confirmed(await core.call('POST', path, { body, elevated: 'credential:link' }));
    },
    async registerPasskey(name) {
      if (name !== undefined) checkId(name, 'name');
      const start = await core.call<{ challenge_id: string; options: CreationOptionsJSON }>('POST', '/mfa/passkey/register/start');
      const credential = await createPasskey(core.webauthn, start.options);
      const body = { challenge_id: start.challenge_id, credential, ...(name === undefined ? {} : { name: name.trim() }) };
      return confirmed(await core.call('POST', '/mfa/passkey/register/finish', { body, elevated: 'credential:link' }));
    },
    async verify(factor) {
      const body = await factorBody(core, factor);
      return core.adopt(await core.call<AuthResultJson>('POST', '/mfa/verify', { body }), 'refreshed');
    },
    async removeDevice(deviceId) {
      await core.call('DELETE', `/mfa/devices/${devicePath(deviceId)}`, { elevated: 'credential:unlink' });
    },
    async regenerateRecoveryCodes() {
      const json = await core.call<{ recovery_codes: string[] }>('POST', '/mfa/recovery-codes', { elevated: 'credential:link' });
      return json.recovery_codes;
    },
  };
}
