// The errors of the verifier: the server's own codes (API.md, "Errors"),
// with the HTTP status a backend should answer. Messages never carry the
// token.

/** The codes a verifier refuses a request with, as the Portcullis server uses them. */
export type PortcullisErrorCode =
  | 'missing_credentials'
  | 'invalid_token'
  | 'token_expired'
  | 'session_revoked'
  | 'mfa_required'
  | 'elevated_token_required'
  | 'unavailable';

const STATUS: Record<PortcullisErrorCode, 401 | 403 | 503> = {
  missing_credentials: 401,
  invalid_token: 401,
  token_expired: 401,
  session_revoked: 401,
  mfa_required: 403,
  elevated_token_required: 403,
  unavailable: 503,
};

const TITLE: Record<PortcullisErrorCode, string> = {
  missing_credentials: 'Missing credentials',
  invalid_token: 'Invalid token',
  token_expired: 'Token expired',
  session_revoked: 'Session revoked',
  mfa_required: 'Multi-factor authentication required',
  elevated_token_required: 'Elevated token required',
  unavailable: 'Unavailable',
};

/** An RFC 9457 problem, the shape of every Portcullis error answer. */
export interface PortcullisProblem {
  type: string;
  title: string;
  status: number;
  code: PortcullisErrorCode;
  detail: string;
}

/**
 * A refused token (or none). `code` is the server's error code, `status`
 * the HTTP status to answer with (401, 403, or 503 when the keys could not
 * be fetched: retry later, the session is not known to be over). `message`
 * says why, never what the token was. `cause` may hold the underlying error
 * (a jose error, a network error) for logs.
 */
export class PortcullisAuthError extends Error {
  override name = 'PortcullisAuthError';
  readonly code: PortcullisErrorCode;
  readonly status: 401 | 403 | 503;

  constructor(code: PortcullisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
  }

  /** The error as an `application/problem+json` body. */
  toProblem(): PortcullisProblem {
    return {
      type: 'about:blank',
      title: TITLE[this.code],
      status: this.status,
      code: this.code,
      detail: this.message,
    };
  }
}
