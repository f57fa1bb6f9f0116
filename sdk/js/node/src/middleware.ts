// Request guards for Node web frameworks, typed against Node's own http
// types so that neither Express nor Fastify is a dependency: an
// Express-style `(req, res, next)` middleware and a Fastify preHandler.

import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { PortcullisClaims } from './claims.js';
import { PortcullisAuthError } from './errors.js';
import type { Verifier } from './verifier.js';

/** The cookie that carries the session JWT in cookie mode. */
export const SESSION_COOKIE = 'portcullis_session';
/** The header that carries an elevated token (API.md, "SDK API"). */
export const ELEVATED_TOKEN_HEADER = 'x-portcullis-elevated-token';

export interface GuardOptions {
  /** Accept partial sessions (MFA outstanding); default refused with 403 `mfa_required`. */
  allowPartial?: boolean;
  /** Read the session from this cookie when there is no `Authorization: Bearer` header (default `portcullis_session`; `false`: never from a cookie). */
  cookie?: string | false;
  /**
   * Also require an elevated token for this action (e.g. `wallet:export`) in
   * the `X-Portcullis-Elevated-Token` header, of the same session; its
   * claims go to `req.portcullisElevated`.
   */
  elevatedScope?: string;
}

/** What a guard puts on the request. */
export interface PortcullisRequestFields {
  /** The verified session's claims. */
  portcullis?: PortcullisClaims;
  /** The verified elevated token's claims, with `elevatedScope`. */
  portcullisElevated?: PortcullisClaims;
}

/** The session token of a request: `Authorization: Bearer …`, else the session cookie. */
export function tokenFromHeaders(headers: IncomingHttpHeaders, cookie: string | false = SESSION_COOKIE): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const found = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(authorization);
    if (found) return found[1];
  }
  if (cookie && headers.cookie) return cookieValue(headers.cookie, cookie);
  return undefined;
}

function cookieValue(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) {
      const value = pair.slice(at + 1).trim().replace(/^"(.*)"$/, '$1');
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** Verifies a request's session (and elevated token when asked) from its headers. */
export async function authenticate(
  verifier: Verifier,
  headers: IncomingHttpHeaders,
  { allowPartial = false, cookie = SESSION_COOKIE, elevatedScope }: GuardOptions = {},
): Promise<PortcullisRequestFields & { portcullis: PortcullisClaims }> {
  const claims = await verifier.verifySession(tokenFromHeaders(headers, cookie), { allowPartial });
  if (elevatedScope === undefined) return { portcullis: claims };
  const raw = headers[ELEVATED_TOKEN_HEADER];
  const elevated = await verifier.verifyElevated(Array.isArray(raw) ? raw[0] : raw, elevatedScope, { sessionId: claims.sid });
  return { portcullis: claims, portcullisElevated: elevated };
}

/** The headers of a refusal: RFC 6750's challenge on 401, `Retry-After` on 503. */
export function problemHeaders(error: PortcullisAuthError): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', 'cache-control': 'no-store' };
  if (error.status === 401) {
    headers['www-authenticate'] =
      error.code === 'missing_credentials' ? 'Bearer' : `Bearer error="invalid_token", error_description="${error.code}"`;
  }
  if (error.status === 503) headers['retry-after'] = '5';
  return headers;
}

/** A request as Express (or plain node:http) hands it over. */
export type ExpressLikeRequest = IncomingMessage & PortcullisRequestFields;
export type ExpressLikeMiddleware = (
  req: ExpressLikeRequest,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/**
 * Express-style middleware: verifies the session, sets `req.portcullis`
 * (and `req.portcullisElevated`) and calls `next()`; a refused request is
 * answered here with `application/problem+json` (401, 403 or 503). Any
 * other error goes to `next(error)`.
 */
export function portcullisExpress(verifier: Verifier, options: GuardOptions = {}): ExpressLikeMiddleware {
  return (req, res, next) => {
    authenticate(verifier, req.headers, options).then(
      (fields) => {
        Object.assign(req, fields);
        next();
      },
      (error: unknown) => {
        if (!(error instanceof PortcullisAuthError)) return next(error);
        if (res.headersSent) return next(error);
        res.writeHead(error.status, problemHeaders(error));
        res.end(JSON.stringify(error.toProblem()));
      },
    );
  };
}

/** The part of a Fastify request a preHandler reads and writes. */
export interface FastifyLikeRequest extends PortcullisRequestFields {
  headers: IncomingHttpHeaders;
}
/** The part of a Fastify reply a preHandler answers with. */
export interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  headers(values: Record<string, string>): FastifyLikeReply;
  send(payload?: unknown): FastifyLikeReply;
}

/**
 * A Fastify `preHandler` hook: per route (`{ preHandler: portcullisFastify(verifier) }`)
 * or for a whole plugin scope (`app.addHook('preHandler', portcullisFastify(verifier))`).
 * Sets `request.portcullis` (declare it with `app.decorateRequest('portcullis', null)`);
 * answers a refused request itself with `application/problem+json`.
 */
export function portcullisFastify(
  verifier: Verifier,
  options: GuardOptions = {},
): (request: FastifyLikeRequest, reply: FastifyLikeReply) => Promise<FastifyLikeReply | undefined> {
  return async (request, reply) => {
    try {
      Object.assign(request, await authenticate(verifier, request.headers, options));
      return undefined;
    } catch (error) {
      if (!(error instanceof PortcullisAuthError)) throw error;
      // A string body: Fastify sends it as it is, with the content type set here.
      return reply.code(error.status).headers(problemHeaders(error)).send(JSON.stringify(error.toProblem()));
    }
  };
}
