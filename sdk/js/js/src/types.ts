/**
 * What the SDK hands the application. The server's JSON is snake_case
 * (API.md); the SDK answers in camelCase with the same fields.
 */

export type TokenStorage = 'in_app' | 'cookie';

export interface Session {
  id: string;
  userId: string;
  environmentId: string;
  createdAt: string;
  expiresAt: string;
  lastActiveAt: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  revokedAt: string | null;
  revokedBy: { kind: string; id: string | null } | null;
  /** RFC 8176 values, e.g. `otp`, `mfa`. */
  amr: string[];
}

export interface VerifiedCredential {
  kind: string;
  value: string;
}

export interface User {
  id: string;
  environmentId: string;
  email: string | null;
  /** Absent when the answer comes from the token alone (`session()`). */
  createdAt?: string;
  verifiedCredentials: VerifiedCredential[];
}

export interface MfaStatus {
  /** The session is partial: verify a device (`enrolled`) or enrol one first. */
  required: boolean;
  enrolled: boolean;
  /** The methods of the user's confirmed devices. */
  methods: string[];
  /** The methods the environment allows. */
  availableMethods: string[];
}

/** A sign-in's answer. The token itself stays in the SDK (`getToken()`). */
export interface AuthResult {
  session: Session;
  user: User;
  mfa: MfaStatus;
}

export interface CurrentSession {
  session: Session;
  user: User;
}

export interface VerificationStarted {
  verificationId: string;
  expiresAt: string;
}

export interface MfaDevice {
  id: string;
  /** `totp` or `passkey`. */
  kind: string;
  name: string;
  confirmed: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface TotpEnrollment {
  deviceId: string;
  /** Base32, for typing into an authenticator app. Shown once. */
  secret: string;
  otpauthUri: string;
  /** The `otpauthUri` as an SVG QR code. */
  qrSvg: string;
}

export interface ConfirmedDevice {
  device: MfaDevice;
  /** With the user's first device: 10 single-use codes, shown once. */
  recoveryCodes?: string[];
  /** When the session was waiting for a first device: it is now complete. */
  auth?: AuthResult;
}

export interface ElevatedToken {
  elevatedToken: string;
  scope: string;
  expiresAt: string;
}

export interface EnvironmentConfig {
  environmentId: string;
  tokenStorage: TokenStorage;
  mfa: { methods: string[]; enrollment: 'off' | 'optional' | 'required' };
}

export type SessionEventType = 'signed_in' | 'mfa_required' | 'refreshed' | 'logged_out' | 'revoked' | 'expired';

/** What `onSessionChange` listeners receive: the state after the change. */
export interface SessionEvent {
  type: SessionEventType;
  /** `null` after `logged_out`, `revoked` and `expired`. */
  session: Session | null;
  user: User | null;
  mfa: MfaStatus | null;
  /** The change happened in another tab of the same origin. */
  fromOtherTab: boolean;
}

export type SessionStatus = 'loading' | 'signed_in' | 'mfa_required' | 'signed_out';

/** The SDK's current view, replaced (never mutated) on each change. */
export interface SessionSnapshot {
  status: SessionStatus;
  session: Session | null;
  user: User | null;
  mfa: MfaStatus | null;
  lastEvent: SessionEvent | null;
}
