/**
 * The one error type every SDK call rejects with, and how it is read from an
 * HTTP answer (RFC 9457 problem documents, API.md "Errors").
 */

/** The server's stable codes, and the SDK's own (status 0). */
export type PortcullisErrorCode =
  | 'validation_failed'
  | 'invalid_code'
  | 'missing_credentials'
  | 'invalid_token'
  | 'token_expired'
  | 'session_revoked'
  | 'origin_not_allowed'
  | 'mfa_required'
  | 'elevated_token_required'
  | 'access_denied'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'environment_locked'
  | 'rate_limited'
  | 'internal'
  | 'unavailable'
  // The SDK's own: the request never got an answer, or not one it could read.
  | 'network_error'
  | 'unexpected_response'
  // The SDK's own: the browser's WebAuthn ceremony.
  | 'passkeys_unsupported'
  | 'passkey_failed'
  // A code a newer server may add.
  | (string & {});

export interface FieldError {
  field: string;
  message: string;
}

export interface PortcullisErrorInit {
  code: PortcullisErrorCode;
  /** The HTTP status; 0 when no answer was involved (network, validation). */
  status: number;
  detail: string;
  title?: string;
  type?: string;
  errors?: FieldError[];
  /** Seconds to wait, from `Retry-After` (429, 503). */
  retryAfter?: number;
  cause?: unknown;
}

export class PortcullisError extends Error {
  readonly code: PortcullisErrorCode;
  readonly status: number;
  readonly detail: string;
  readonly title: string | undefined;
  readonly type: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(init: PortcullisErrorInit) {
    super(init.detail, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'PortcullisError';
    this.code = init.code;
    this.status = init.status;
    this.detail = init.detail;
    this.title = init.title;
    this.type = init.type;
    this.errors = init.errors;
    this.retryAfter = init.retryAfter;
  }
}

/** A bad argument, refused before any request. */
export function validationError(field: string, message: string): PortcullisError {
  return new PortcullisError({
    code: 'validation_failed',
    status: 0,
    detail: `${field} ${message}`,
    errors: [{ field, message }],
  });
}

/** `fetch` threw: offline, DNS, CORS refusal, aborted. */
export function networkError(cause: unknown): PortcullisError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new PortcullisError({
    code: 'network_error',
    status: 0,
    detail: `The request did not reach the server: ${reason}`,
    cause,
  });
}

export function unexpectedResponse(status: number, detail: string): PortcullisError {
  return new PortcullisError({ code: 'unexpected_response', status, detail });
}

/** `Retry-After` as seconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function isFieldErrors(value: unknown): value is FieldError[] {
  return (
    Array.isArray(value) &&
    value.every(
      (e) => typeof e === 'object' && e !== null && typeof e.field === 'string' && typeof e.message === 'string',
    )
  );
}

/**
 * The error for a non-2xx answer whose body has been parsed (or is `null`
 * when it was not JSON). A body without a string `code` is not a problem
 * document: it came from something in front of the server (a proxy, a
 * load balancer) and gets `unexpected_response`.
 */
export function errorFromProblem(status: number, body: unknown, retryAfter?: number): PortcullisError {
  if (typeof body !== 'object' || body === null || typeof (body as { code?: unknown }).code !== 'string') {
    return unexpectedResponse(status, `The server answered ${status} without a problem document.`);
  }
  const p = body as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  return new PortcullisError({
    code: p.code as string,
    status,
    detail: str(p.detail) ?? str(p.title) ?? `The server answered ${status}.`,
    title: str(p.title),
    type: str(p.type),
    errors: isFieldErrors(p.errors) ? p.errors : undefined,
    retryAfter,
  });
}
