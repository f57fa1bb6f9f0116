/**
 * One SDK request over `fetch`: every failure becomes a PortcullisError.
 * A thrown `fetch` is `network_error`; a non-2xx answer is read as a
 * problem document; a 2xx answer that is not JSON is `unexpected_response`.
 */
import { errorFromProblem, networkError, parseRetryAfter, unexpectedResponse } from './errors.js';

export type Fetch = typeof fetch;

export interface SdkRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  credentials: RequestCredentials;
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  return JSON.parse(text);
}

/** The parsed JSON answer (`undefined` for 204 or an empty body). */
export async function send(fetchFn: Fetch, request: SdkRequest, now: () => number = Date.now): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      credentials: request.credentials,
      mode: 'cors',
    });
  } catch (error) {
    throw networkError(error);
  }
  let body: unknown;
  let parsed = true;
  try {
    body = await readJson(response);
  } catch {
    parsed = false;
  }
  if (!response.ok) {
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now());
    return Promise.reject(errorFromProblem(response.status, parsed ? body : null, retryAfter));
  }
  if (!parsed) throw unexpectedResponse(response.status, `The server answered ${response.status} with a body that is not JSON.`);
  return body;
}
