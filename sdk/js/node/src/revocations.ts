// The local revocation index a follower keeps from the server's feed
// (docs/verify.md, "Revocations"), and the server's rule on it: a token is
// revoked if its `sid` is a revoked session, or its `user_epoch` is below
// its user's epoch, or its `env_epoch` below the environment's. Pure: no
// I/O, time is given.

import type { PortcullisClaims } from './claims.js';

/** One page of `GET …/revocations` (or one `revocations` event of the stream), as the server sends it. */
export interface RevocationFeedPage {
  /** Revoked sessions that have not expired; `expires_at` is RFC 3339. */
  sessions: { session_id: string; user_id?: string | null; expires_at: string }[];
  /** Each user's highest epoch in the page. */
  users: { user_id: string; epoch: number }[];
  /** The environment's current epoch. */
  environment_epoch: number;
  /** Where the next page starts (opaque). */
  next_cursor: string;
  has_more: boolean;
}

/** The claims the rule reads. */
export type RevocationClaims = Pick<PortcullisClaims, 'sid' | 'sub' | 'user_epoch' | 'env_epoch'>;

/** `value` as a feed page; a `TypeError` naming the first field out of shape otherwise. */
export function parseFeedPage(value: unknown): RevocationFeedPage {
  const wrong = (what: string) => new TypeError(`the feed's page is malformed: ${what}`);
  const page = value as Partial<RevocationFeedPage> | null;
  if (typeof page !== 'object' || page === null) throw wrong('not an object');
  if (!Array.isArray(page.sessions)) throw wrong('sessions');
  for (const s of page.sessions) {
    if (typeof s?.session_id !== 'string' || typeof s.expires_at !== 'string') throw wrong('sessions[]');
  }
  if (!Array.isArray(page.users)) throw wrong('users');
  for (const u of page.users) {
    if (typeof u?.user_id !== 'string' || !Number.isSafeInteger(u.epoch)) throw wrong('users[]');
  }
  if (!Number.isSafeInteger(page.environment_epoch)) throw wrong('environment_epoch');
  if (typeof page.next_cursor !== 'string') throw wrong('next_cursor');
  if (typeof page.has_more !== 'boolean') throw wrong('has_more');
  return page as RevocationFeedPage;
}

/**
 * What the feed has said so far: revoked sessions until their expiry,
 * users' epochs, the environment's epoch. Epochs only ever rise.
 */
export class RevocationIndex {
  /** Revoked session id → its expiry (ms since the epoch; `Infinity` when unreadable: kept until a start over). */
  readonly #sessions = new Map<string, number>();
  readonly #users = new Map<string, number>();
  #environmentEpoch = 0;

  /** Takes in one page. */
  apply(page: RevocationFeedPage): void {
    for (const s of page.sessions) {
      const expires = Date.parse(s.expires_at);
      this.#sessions.set(s.session_id, Number.isNaN(expires) ? Infinity : expires);
    }
    for (const u of page.users) {
      this.#users.set(u.user_id, Math.max(this.#users.get(u.user_id) ?? u.epoch, u.epoch));
    }
    this.#environmentEpoch = Math.max(this.#environmentEpoch, page.environment_epoch);
  }

  /** Forgets the sessions that expired before `nowMs`: their tokens are refused by their `exp` anyway. */
  forgetExpired(nowMs: number): void {
    for (const [sid, expires] of this.#sessions) {
      if (expires <= nowMs) this.#sessions.delete(sid);
    }
  }

  /** The server's rule. */
  isRevoked(claims: RevocationClaims): boolean {
    if (this.#sessions.has(claims.sid)) return true;
    const userEpoch = this.#users.get(claims.sub);
    if (userEpoch !== undefined && claims.user_epoch < userEpoch) return true;
    return claims.env_epoch < this.#environmentEpoch;
  }

  /** How many revoked sessions are remembered. */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  get environmentEpoch(): number {
    return this.#environmentEpoch;
  }
}
