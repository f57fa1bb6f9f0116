// Following the server's revocation feed (docs/verify.md, "Revocations"):
// a background loop reads `GET …/revocations` from its cursor, then keeps
// the stream `…/revocations/stream` open and applies each event to a local
// index, so that a revoked session is refused within moments with no
// request per verification. When the stream fails it polls the feed every
// `pollIntervalMs` and tries the stream again; a `410` or `resync` starts
// over from the whole current state. The API token never appears in an
// error.

import { setTimeout as sleep } from 'node:timers/promises';
import type { PortcullisClaims } from './claims.js';
import { PortcullisAuthError } from './errors.js';
import { parseFeedPage, RevocationIndex } from './revocations.js';
import { deadline, EventParser } from './sse.js';
import type { RevocationCheck } from './verifier.js';

/**
 * What verifications do when the feed has not been heard from for longer
 * than `staleAfterMs`: `fail_closed` refuses them (503 `unavailable`),
 * `fail_open` accepts them on what is known.
 */
export type StalePolicy = 'fail_closed' | 'fail_open';

export interface FollowOptions {
  /** Portcullis's public URL; the management API is under `{portcullisUrl}/api/v1`. */
  portcullisUrl: string | URL;
  /** The environment's id (`env_…`). */
  environmentId: string;
  /** An API token of role `viewer` or above (one limited to the environment will do). */
  apiToken: string;
  /** How often to poll the feed while the stream cannot be used (default 5 000 ms). */
  pollIntervalMs?: number;
  /**
   * How long the state may go without news (a page, an event, a heartbeat)
   * before `policy` applies (default 60 000 ms).
   */
  staleAfterMs?: number;
  /** Default `fail_closed`. */
  policy?: StalePolicy;
  /**
   * A stream that sends nothing, not even a heartbeat (every 15 s), for
   * this long is taken for dead (default 45 000 ms).
   */
  streamIdleTimeoutMs?: number;
  /** Timeout of one feed request, and of the stream's answer (default 10 000 ms). */
  httpTimeoutMs?: number;
  /** The clock, in ms since the epoch (default `Date.now`). */
  now?: () => number;
  /** Told of each failure to reach the feed (the loop tries again by itself). Default: `console.warn`. */
  onError?: (error: Error) => void;
}

/** A `RevocationCheck` that follows one environment's feed; give it to `createVerifier({ revocations })`. */
export interface RevocationFollower extends RevocationCheck {
  /**
   * The server's rule on what the feed has said. Throws `unavailable` when
   * the state is stale (or not yet read) and the policy is `fail_closed`.
   */
  isRevoked(claims: PortcullisClaims): boolean;
  /** When the feed was last heard from (ms since the epoch), or `undefined`. */
  lastHeard(): number | undefined;
  /** Whether the whole state has been read and the feed heard from within `staleAfterMs`. */
  isFresh(): boolean;
  /** Resolves once the whole current state has been read; rejects if the follower is closed first. */
  synced(): Promise<void>;
  /** Stops following (the stream, a request in flight, the wait); resolves when the loop has ended. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The cursor is older than what the server keeps (410, `resync`): start over. */
class Gone extends Error {}

/** Starts following the feed in the background. */
export function followRevocations(options: FollowOptions): RevocationFollower {
  const {
    environmentId,
    apiToken,
    pollIntervalMs = 5_000,
    staleAfterMs = 60_000,
    policy = 'fail_closed',
    streamIdleTimeoutMs = 45_000,
    httpTimeoutMs = 10_000,
    now = Date.now,
    onError = (e: Error) => console.warn(`portcullis: revocation feed: ${e.message}`),
  } = options;
  if (!options.portcullisUrl || !environmentId || !apiToken) {
    throw new TypeError('followRevocations: `portcullisUrl`, `environmentId` and `apiToken` are required');
  }
  if (policy !== 'fail_closed' && policy !== 'fail_open') {
    throw new TypeError("followRevocations: `policy` is 'fail_closed' or 'fail_open'");
  }
  const root = String(options.portcullisUrl).replace(/\/+$/, '');
  const base = `${root}/api/v1/environments/${encodeURIComponent(environmentId)}/revocations`;
  const closing = new AbortController();

  let index = new RevocationIndex();
  let cursor: string | undefined;
  let heard: number | undefined;
  let forgotAt = -Infinity;
  let isSynced = false;
  let markSynced!: () => void;
  let cancelSynced!: (e: Error) => void;
  const syncedPromise = new Promise<void>((resolve, reject) => {
    markSynced = resolve;
    cancelSynced = reject;
  });
  syncedPromise.catch(() => {}); // a rejection nobody waits for is not unhandled

  const isFresh = () => {
    if (!isSynced || heard === undefined) return false;
    const at = now();
    return at - heard <= staleAfterMs || heard > at;
  };

  /** News from the feed; now and then, the expired sessions are forgotten. */
  const markHeard = () => {
    heard = now();
    if (heard - forgotAt >= 60_000) {
      index.forgetExpired(heard);
      forgotAt = heard;
    }
  };

  /** A GET with the token; its answer if 200. The signal ends it (and its body). */
  async function get(url: string, what: string, signal: AbortSignal, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${apiToken}`, ...headers },
      redirect: 'error',
      signal,
    });
    if (response.status === 200) return response;
    await response.body?.cancel().catch(() => {});
    if (response.status === 410) throw new Gone(`${what} answered 410: the cursor is too old`);
    throw new Error(`${what} answered HTTP ${response.status}`);
  }

  /**
   * Reads pages from the cursor until none follows. Without a cursor they
   * are the whole state, which replaces the index once read whole.
   */
  async function catchUp() {
    const fresh = cursor === undefined;
    const into = fresh ? new RevocationIndex() : index;
    let after = cursor;
    for (;;) {
      const url = new URL(base);
      if (after !== undefined) url.searchParams.set('after', after);
      url.searchParams.set('limit', '1000');
      const request = deadline(closing.signal, httpTimeoutMs);
      let page;
      try {
        const response = await get(url.href, 'the feed', request.signal);
        page = parseFeedPage(await response.json());
      } catch (e) {
        if (request.expired()) throw new Error('the feed did not answer in time');
        throw e;
      } finally {
        request.clear();
      }
      into.apply(page);
      after = page.next_cursor;
      // Read from a cursor, each page counts at once; a start over counts once whole.
      if (!fresh) cursor = after;
      heard = now();
      if (!page.has_more) break;
    }
    if (fresh) {
      index = into;
      cursor = after;
      forgotAt = -Infinity;
      isSynced = true;
      markSynced();
    }
    markHeard();
  }

  /** Keeps the stream open from the cursor, applying each event. Whether it brought anything before it ended. */
  async function stream(): Promise<boolean> {
    const line = deadline(closing.signal, httpTimeoutMs);
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (cursor !== undefined) headers['last-event-id'] = cursor;
    let got = false;
    try {
      const response = await get(`${base}/stream`, 'the stream', line.signal, headers);
      if (!response.body) throw new Error('the stream has no body');
      const events = new EventParser((event) => {
        if (event.type === 'revocations') {
          let page;
          try {
            page = parseFeedPage(JSON.parse(event.data));
          } catch (e) {
            throw new Error(`the stream sent an unreadable event: ${(e as Error).message}`);
          }
          index.apply(page);
          cursor = event.id ?? page.next_cursor;
        } else if (event.type === 'resync') {
          throw new Gone('the stream asked for a resync: the cursor is too old');
        }
        got = true;
        markHeard();
      });
      const decoder = new TextDecoder();
      line.reset(streamIdleTimeoutMs);
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        line.reset(streamIdleTimeoutMs);
        events.push(decoder.decode(chunk, { stream: true }));
      }
      return got;
    } catch (e) {
      if (line.expired()) throw new Error(got ? 'the stream went silent' : 'the stream did not answer in time');
      throw e;
    } finally {
      line.clear();
    }
  }

  /** Waits `pollIntervalMs`, or until closed. */
  const pause = () => sleep(pollIntervalMs, undefined, { signal: closing.signal }).catch(() => {});

  const report = (e: unknown) => {
    const error = e instanceof Error ? e : new Error(String(e));
    try {
      onError(error.message.includes(apiToken) ? new Error('the feed failed') : error);
    } catch {}
  };

  async function run() {
    while (!closing.signal.aborted) {
      try {
        await catchUp();
        const brought = await stream();
        // The server closed the stream (shutting down): catch up and reconnect, at once if it had answered.
        if (!brought) await pause();
      } catch (e) {
        if (closing.signal.aborted) break;
        if (e instanceof Gone && cursor !== undefined) {
          cursor = undefined;
          continue;
        }
        report(e);
        await pause();
      }
    }
  }
  const loop = run().catch(report);

  const close = async () => {
    closing.abort();
    cancelSynced(new Error('the revocation follower was closed before it synced'));
    await loop;
  };

  return {
    isRevoked(claims) {
      if (policy === 'fail_closed' && !isFresh()) {
        throw new PortcullisAuthError(
          'unavailable',
          isSynced
            ? `The revocation state is stale: nothing heard from Portcullis for over ${staleAfterMs} ms.`
            : 'The revocation state has not been read yet.',
        );
      }
      return index.isRevoked(claims);
    },
    lastHeard: () => heard,
    isFresh,
    synced: () => syncedPromise,
    close,
    [Symbol.asyncDispose]: close,
  };
}
