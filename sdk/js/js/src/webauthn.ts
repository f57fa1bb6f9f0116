/**
 * WebAuthn between webauthn-rs JSON (binary fields as base64url strings)
 * and the browser's `navigator.credentials` (binary fields as buffers).
 */
import { decodeBase64url, encodeBase64url } from './base64url.js';

interface DescriptorJSON {
  type: string;
  id: string;
  transports?: string[];
}

/** `options` of `/mfa/passkey/register/start` (webauthn-rs `CreationChallengeResponse`). */
export interface CreationOptionsJSON {
  publicKey: {
    challenge: string;
    user: { id: string; name: string; displayName: string };
    excludeCredentials?: DescriptorJSON[];
    extensions?: Record<string, unknown>;
    [field: string]: unknown;
  };
}

/** `options` of `/mfa/passkey/challenge` (webauthn-rs `RequestChallengeResponse`). */
export interface RequestOptionsJSON {
  publicKey: {
    challenge: string;
    allowCredentials?: DescriptorJSON[];
    extensions?: Record<string, unknown>;
    [field: string]: unknown;
  };
  mediation?: string;
}

/** What webauthn-rs reads as `RegisterPublicKeyCredential`. */
export interface RegistrationCredentialJSON {
  id: string;
  rawId: string;
  type: string;
  response: { clientDataJSON: string; attestationObject: string; transports?: string[] };
  extensions: Record<string, unknown>;
}

/** What webauthn-rs reads as `PublicKeyCredential` (an assertion). */
export interface AssertionCredentialJSON {
  id: string;
  rawId: string;
  type: string;
  response: { clientDataJSON: string; authenticatorData: string; signature: string; userHandle: string | null };
  extensions: Record<string, unknown>;
}

const descriptor = (d: DescriptorJSON): PublicKeyCredentialDescriptor => ({
  ...(d as Omit<DescriptorJSON, 'id'>),
  type: d.type as PublicKeyCredentialType,
  id: decodeBase64url(d.id),
  transports: d.transports as AuthenticatorTransport[] | undefined,
});

/**
 * Request extensions that carry binary input (`hmacGetSecret`) would need
 * converting too; the MFA ceremonies never ask for them, so they are dropped
 * rather than handed to the browser as strings.
 */
function plainExtensions(extensions: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!extensions) return undefined;
  const { hmacGetSecret: _dropped, ...rest } = extensions;
  return rest;
}

export function toCreationOptions(json: CreationOptionsJSON): PublicKeyCredentialCreationOptions {
  const pk = json.publicKey;
  return {
    ...(pk as unknown as PublicKeyCredentialCreationOptions),
    challenge: decodeBase64url(pk.challenge),
    user: { ...pk.user, id: decodeBase64url(pk.user.id) },
    excludeCredentials: pk.excludeCredentials?.map(descriptor),
    extensions: plainExtensions(pk.extensions) as AuthenticationExtensionsClientInputs | undefined,
  };
}

export function toRequestOptions(json: RequestOptionsJSON): PublicKeyCredentialRequestOptions {
  const pk = json.publicKey;
  return {
    ...(pk as unknown as PublicKeyCredentialRequestOptions),
    challenge: decodeBase64url(pk.challenge),
    allowCredentials: pk.allowCredentials?.map(descriptor),
    extensions: plainExtensions(pk.extensions) as AuthenticationExtensionsClientInputs | undefined,
  };
}

/** The parts of a `PublicKeyCredential` this module reads (tests pass plain objects). */
export interface CredentialLike {
  id: string;
  rawId: ArrayBuffer;
  type: string;
  response: {
    clientDataJSON: ArrayBuffer;
    attestationObject?: ArrayBuffer;
    authenticatorData?: ArrayBuffer;
    signature?: ArrayBuffer;
    userHandle?: ArrayBuffer | null;
    getTransports?: () => string[];
  };
  getClientExtensionResults?: () => Record<string, unknown>;
}

/**
 * Client extension outputs webauthn-rs understands and that are plain JSON
 * (`appid`, `credProps`); others (binary PRF or hmac outputs) are left out.
 */
function extensionResults(credential: CredentialLike): Record<string, unknown> {
  const all = credential.getClientExtensionResults?.() ?? {};
  const kept: Record<string, unknown> = {};
  for (const key of ['appid', 'credProps']) if (key in all) kept[key] = all[key];
  return kept;
}

/** The fields both kinds share around their ceremony-specific `response`. */
function withIdentity<R>(credential: CredentialLike, response: R) {
  return {
    id: credential.id,
    rawId: encodeBase64url(credential.rawId),
    type: credential.type,
    response,
    extensions: extensionResults(credential),
  };
}

export function registrationToJSON(credential: CredentialLike): RegistrationCredentialJSON {
  const r = credential.response;
  if (!r.attestationObject) throw new TypeError('not a registration credential: no attestationObject');
  const transports = r.getTransports?.();
  return withIdentity(credential, {
    clientDataJSON: encodeBase64url(r.clientDataJSON),
    attestationObject: encodeBase64url(r.attestationObject),
    ...(transports ? { transports } : {}),
  });
}

export function assertionToJSON(credential: CredentialLike): AssertionCredentialJSON {
  const r = credential.response;
  if (!r.authenticatorData || !r.signature) throw new TypeError('not an assertion: no authenticatorData or signature');
  return withIdentity(credential, {
    clientDataJSON: encodeBase64url(r.clientDataJSON),
    authenticatorData: encodeBase64url(r.authenticatorData),
    signature: encodeBase64url(r.signature),
    userHandle: r.userHandle ? encodeBase64url(r.userHandle) : null,
  });
}
