/** The browser's WebAuthn ceremonies, in and out of webauthn-rs JSON. */
import { PortcullisError } from './errors.js';
import {
  assertionToJSON,
  registrationToJSON,
  toCreationOptions,
  toRequestOptions,
  type AssertionCredentialJSON,
  type CreationOptionsJSON,
  type CredentialLike,
  type RegistrationCredentialJSON,
  type RequestOptionsJSON,
} from './webauthn.js';

/** `navigator.credentials`, or a stand-in with the same two methods. */
export interface WebAuthnContainer {
  create(options: CredentialCreationOptions): Promise<Credential | null>;
  get(options: CredentialRequestOptions): Promise<Credential | null>;
}

export function defaultWebAuthn(): WebAuthnContainer | undefined {
  const nav = (globalThis as { navigator?: Navigator }).navigator;
  return nav?.credentials && typeof nav.credentials.create === 'function' ? nav.credentials : undefined;
}

async function ceremony<T>(container: WebAuthnContainer | undefined, run: (c: WebAuthnContainer) => Promise<Credential | null>, toJSON: (c: CredentialLike) => T): Promise<T> {
  if (!container) {
    throw new PortcullisError({ code: 'passkeys_unsupported', status: 0, detail: 'This browser does not offer WebAuthn (navigator.credentials).' });
  }
  let credential: Credential | null;
  try {
    credential = await run(container);
  } catch (error) {
    // NotAllowedError: the user cancelled or the ceremony timed out.
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new PortcullisError({ code: 'passkey_failed', status: 0, detail: `${name}: ${message}`, cause: error });
  }
  if (!credential) throw new PortcullisError({ code: 'passkey_failed', status: 0, detail: 'The browser returned no credential.' });
  return toJSON(credential as unknown as CredentialLike);
}

export function createPasskey(container: WebAuthnContainer | undefined, options: CreationOptionsJSON): Promise<RegistrationCredentialJSON> {
  return ceremony(container, (c) => c.create({ publicKey: toCreationOptions(options) }), registrationToJSON);
}

export function getAssertion(container: WebAuthnContainer | undefined, options: RequestOptionsJSON): Promise<AssertionCredentialJSON> {
  return ceremony(container, (c) => c.get({ publicKey: toRequestOptions(options) }), assertionToJSON);
}
