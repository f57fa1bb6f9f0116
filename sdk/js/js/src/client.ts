/**
 * The Portcullis client: holds the session, sends the SDK's requests, and
 * ends the session by itself when the server says it is over (401), when
 * its expiry comes, or when another tab ends it.
 */
import { camelize } from './camel.js';
import type { CallOptions, Core } from './core.js';
import { createEmailSignIn, type EmailSignIn } from './email.js';
import { ElevatedTokens } from './elevated.js';
import { createEmitter } from './emitter.js';
import { PortcullisError, validationError } from './errors.js';
import { send, type Fetch } from './http.js';
import { createMfa, factorBody, type Mfa } from './mfa.js';
import { defaultWebAuthn, type WebAuthnContainer } from './passkeys.js';
import {
  endEventFor,
  eventOf,
  isEndEvent,
  publicAuthResult,
  snapshotOf,
  startEventFor,
  stateFromAuthResult,
  stateFromCurrentSession,
  type AuthResultJson,
  type CurrentSessionJson,
} from './session-state.js';
import { resolveStore, stateStore, type Persistence, type SessionState, type StateStore } from './storage.js';
import { openTabChannel, type TabChannel, type TabMessage } from './tabs.js';
import { every, scheduleAt } from './timer.js';
import type {
  CurrentSession,
  ElevatedToken,
  EnvironmentConfig,
  Session,
  SessionEvent,
  SessionEventType,
  SessionSnapshot,
  TokenStorage,
} from './types.js';
import { checkId, checkScope, type SecondFactor, type StepUpScope } from './validate.js';

export interface PortcullisOptions {
  /** The environment's public id (`env_…`). */
  environmentId: string;
  /** Where Portcullis runs, e.g. `https://auth.example.com`. */
  baseUrl: string;
  /**
   * Who holds the session JWT: the SDK (`in_app`, default of the server) or
   * an HttpOnly cookie (`cookie`). Must match the environment's
   * `token_storage`; omitted, the SDK reads it from `GET /config` once.
   */
  storage?: TokenStorage;
  /** Where the SDK keeps its state across page loads (default `local`). */
  persistence?: Persistence;
  /** Also check the session every so often (ms); off by default. */
  pollIntervalMs?: number;
  /** Check the session when the page is loaded with a stored session (default true). */
  checkOnLoad?: boolean;
  /** The `fetch` to use (tests, instrumentation); default the global one. */
  fetch?: Fetch;
  /** WebAuthn (default `navigator.credentials`). */
  webauthn?: WebAuthnContainer;
}

type Method = 'GET' | 'POST' | 'DELETE';

export class Portcullis {
  readonly environmentId: string;
  /** E-mail code sign-in. */
  readonly email: EmailSignIn;
  /** Second factors. */
  readonly mfa: Mfa;
  /** Settles once the stored session (if any) has been checked with the server. */
  readonly ready: Promise<void>;

  readonly #base: string;
  readonly #fetch: Fetch;
  readonly #store: StateStore;
  readonly #elevated = new ElevatedTokens();
  readonly #events = createEmitter<SessionEvent>();
  readonly #changes = createEmitter<void>();
  readonly #channel: TabChannel;
  readonly #cleanups: Array<() => void> = [];
  readonly #core: Core;
  #mode: TokenStorage | undefined;
  #config: Promise<EnvironmentConfig> | undefined;
  #state: SessionState | null;
  #loading: boolean;
  #snapshot: SessionSnapshot;
  #cancelExpiry: (() => void) | undefined;

  constructor(options: PortcullisOptions) {
    this.environmentId = checkId(options?.environmentId, 'environmentId');
    if (typeof options.baseUrl !== 'string' || !/^https?:\/\/[^/]/i.test(options.baseUrl)) {
      throw validationError('baseUrl', 'must be an http(s) URL');
    }
    if (options.storage !== undefined && options.storage !== 'in_app' && options.storage !== 'cookie') {
      throw validationError('storage', "must be 'in_app' or 'cookie'");
    }
    this.#base = `${options.baseUrl.replace(/\/+$/, '')}/sdk/v1/${encodeURIComponent(this.environmentId)}`;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#mode = options.storage;
    this.#core = {
      call: (method, path, callOptions) => this.#call(method, path, callOptions),
      adopt: (json, type) => this.#adopt(json, type),
      webauthn: options.webauthn ?? defaultWebAuthn(),
    };
    this.email = createEmailSignIn(this.#core);
    this.mfa = createMfa(this.#core);

    const key = `portcullis:${this.environmentId}`;
    this.#store = stateStore(resolveStore(options.persistence), key);
    this.#state = this.#store.read();
    if (this.#state && (this.#state.expiresAt <= Date.now() || (this.#mode && this.#state.mode !== this.#mode))) {
      this.#state = null;
      this.#store.write(null);
    }
    const check = options.checkOnLoad !== false && (this.#state !== null || this.#mode === 'cookie');
    this.#loading = check;
    this.#snapshot = snapshotOf(this.#state, this.#loading, null);
    this.#channel = openTabChannel(key, (message) => this.#fromOtherTab(message));
    this.#armExpiry();
    this.#watch(options.pollIntervalMs);
    this.ready = check
      ? this.session().then(
          () => this.#loaded(),
          () => this.#loaded(),
        )
      : Promise.resolve();
  }

  // ---- reading the state -------------------------------------------------

  /** The session JWT in in-app mode while it is valid; `null` otherwise and always in cookie mode. */
  getToken(): string | null {
    const s = this.#state;
    return s?.mode === 'in_app' && s.token !== undefined && s.expiresAt > Date.now() ? s.token : null;
  }

  /** The current view; the same object until something changes (for `useSyncExternalStore`). */
  getSnapshot = (): SessionSnapshot => this.#snapshot;

  /** Calls `listener` after every change of the snapshot; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => this.#changes.on(listener);

  /** Calls `listener` on each session event; returns the unsubscribe function. */
  onSessionChange(listener: (event: SessionEvent) => void): () => void {
    return this.#events.on(listener);
  }

  /** The environment's public configuration (`GET /config`), read once. */
  getConfig(): Promise<EnvironmentConfig> {
    this.#config ??= send(this.#fetch, { method: 'GET', url: `${this.#base}/config`, headers: {}, credentials: 'omit' }).then(
      (json) => camelize<EnvironmentConfig>(json),
      (error: unknown) => {
        this.#config = undefined; // A failed read is tried again by the next call.
        throw error;
      },
    );
    return this.#config;
  }

  // ---- session calls -----------------------------------------------------

  /** Asks the server about the session (`GET /session`); a 401 ends it here too. */
  async session(): Promise<CurrentSession> {
    const before = this.#state;
    const json = await this.#call<CurrentSessionJson>('GET', '/session');
    if (this.#state === before) {
      const next = stateFromCurrentSession(json, before, await this.#resolveMode());
      if (next) this.#setState(next, before ? null : eventOf('signed_in', next));
    }
    return camelize<CurrentSession>({ session: json.session, user: json.user });
  }

  /** The user's live sessions. */
  async sessions(): Promise<Session[]> {
    return camelize<{ data: Session[] }>(await this.#call('GET', '/sessions')).data;
  }

  /** Revokes one of the user's sessions; revoking this one signs out here (`logged_out`). */
  async revokeSession(sessionId: string): Promise<void> {
    const id = checkId(sessionId, 'sessionId');
    const before = this.#state;
    await this.#call('DELETE', `/sessions/${encodeURIComponent(id)}`);
    if (before && this.#state === before && before.session.id === id) this.#end('logged_out');
  }

  /**
   * Revokes the session and signs out every tab (`logged_out`). A session
   * the server already considers over (401) ends here too and resolves; a
   * network error or 5xx rejects and keeps the session.
   */
  async logout(): Promise<void> {
    const mode = await this.#resolveMode();
    if (mode === 'in_app' && this.#state === null) return;
    const before = this.#state;
    try {
      await this.#call('POST', '/logout');
    } catch (error) {
      if (error instanceof PortcullisError && error.status === 401) return;
      throw error;
    }
    if (this.#state === before && before) this.#end('logged_out');
  }

  /**
   * An elevated token for one action. The SDK keeps it and sends it with
   * the next call that needs its scope (`mfa.removeDevice` for
   * `credential:unlink`; `mfa.confirmTotp`, `mfa.registerPasskey`,
   * `mfa.regenerateRecoveryCodes` for `credential:link`), once.
   */
  async stepUp(scope: StepUpScope, factor: SecondFactor): Promise<ElevatedToken> {
    const checkedScope = checkScope(scope);
    const body = { scope: checkedScope, ...(await factorBody(this.#core, factor)) };
    const token = camelize<ElevatedToken>(await this.#call('POST', '/mfa/step-up', { body }));
    const expiresAt = Date.parse(token.expiresAt);
    this.#elevated.keep(checkedScope, token.elevatedToken, Number.isNaN(expiresAt) ? Date.now() + 300_000 : expiresAt);
    return token;
  }

  /**
   * `fetch` for the application's own backend: adds `Authorization: Bearer`
   * (in-app mode, when signed in) or `credentials: 'include'` (cookie mode).
   * The answer is the backend's, passed through as it is: a 401 from it
   * does not end the Portcullis session (call `session()` to ask Portcullis).
   */
  async fetch(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    if ((await this.#resolveMode()) === 'cookie') return this.#fetch(input, { ...init, credentials: 'include' });
    const token = this.getToken();
    if (token === null) return this.#fetch(input, init);
    const fromRequest = typeof Request !== 'undefined' && input instanceof Request ? input.headers : undefined;
    const headers = new Headers(init.headers ?? fromRequest);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
    return this.#fetch(input, { ...init, headers });
  }

  /** Stops timers, listeners and the tab channel; the stored session stays. */
  destroy(): void {
    this.#cancelExpiry?.();
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#channel.close();
    this.#events.clear();
    this.#changes.clear();
  }

  // ---- internals ---------------------------------------------------------

  async #resolveMode(): Promise<TokenStorage> {
    if (this.#mode) return this.#mode;
    const mode = (await this.getConfig()).tokenStorage;
    if (this.#mode === undefined) {
      this.#mode = mode;
      if (this.#state && this.#state.mode !== mode) this.#end('logged_out');
    }
    return this.#mode;
  }

  async #call<T>(method: Method, path: string, options: CallOptions = {}): Promise<T> {
    const mode = await this.#resolveMode();
    const state = this.#state;
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (mode === 'in_app' && options.auth !== false && state?.token) headers.authorization = `Bearer ${state.token}`;
    if (mode === 'cookie' && method !== 'GET' && state?.csrfToken) headers['x-portcullis-csrf'] = state.csrfToken;
    if (options.elevated) {
      const elevated = this.#elevated.take(options.elevated, Date.now());
      if (elevated) headers['x-portcullis-elevated-token'] = elevated;
    }
    try {
      return (await send(this.#fetch, {
        method,
        url: this.#base + path,
        headers,
        body: options.body,
        credentials: mode === 'cookie' ? 'include' : 'omit',
      })) as T;
    } catch (error) {
      // Only the session this request carried can be ended by its answer.
      const ended = error instanceof PortcullisError && error.status === 401 ? endEventFor(error.code) : null;
      if (ended && state !== null && this.#state === state) this.#end(ended);
      throw error;
    }
  }

  #adopt(json: AuthResultJson, type: 'signed_in' | 'refreshed'): ReturnType<Core['adopt']> {
    const state = stateFromAuthResult(json, this.#mode ?? 'in_app');
    this.#elevated.clear();
    this.#setState(state, eventOf(startEventFor(state, type), state));
    return publicAuthResult(state);
  }

  #setState(state: SessionState | null, event: SessionEvent | null): void {
    const previousId = this.#state?.session.id ?? null;
    this.#state = state;
    if (!event?.fromOtherTab) this.#store.write(state);
    this.#armExpiry();
    this.#snapshot = snapshotOf(state, this.#loading, event ?? this.#snapshot.lastEvent);
    this.#changes.emit();
    if (event) {
      this.#events.emit(event);
      // An end event carries no session; the other tabs need the ended one's id.
      if (!event.fromOtherTab) this.#channel.post({ type: event.type, sessionId: event.session?.id ?? previousId });
    }
  }

  #end(type: SessionEventType, fromOtherTab = false): void {
    this.#elevated.clear();
    this.#setState(null, eventOf(type, null, fromOtherTab));
  }

  #loaded(): void {
    this.#loading = false;
    this.#snapshot = snapshotOf(this.#state, false, this.#snapshot.lastEvent);
    this.#changes.emit();
  }

  #armExpiry(): void {
    this.#cancelExpiry?.();
    this.#cancelExpiry = undefined;
    const state = this.#state;
    if (state) this.#cancelExpiry = scheduleAt(state.expiresAt, () => this.#state === state && this.#end('expired'));
  }

  #fromOtherTab(message: TabMessage): void {
    const current = this.#state;
    if (isEndEvent(message.type)) {
      if (current && (message.sessionId === null || message.sessionId === current.session.id)) {
        this.#end(message.type, true);
      }
      return;
    }
    // Another tab signed in: with shared persistence its state is readable.
    const stored = this.#store.read();
    if (stored && stored.session.id === message.sessionId && (stored.token ?? stored.csrfToken) !== (current?.token ?? current?.csrfToken)) {
      this.#setState(stored, eventOf(message.type, stored, true));
    }
  }

  #watch(pollIntervalMs: number | undefined): void {
    const check = (): void => {
      if (this.#state) this.session().catch(() => {});
    };
    const doc = (globalThis as { document?: Document }).document;
    if (doc && typeof doc.addEventListener === 'function') {
      const onVisible = (): void => {
        if (doc.visibilityState === 'visible') check();
      };
      doc.addEventListener('visibilitychange', onVisible);
      this.#cleanups.push(() => doc.removeEventListener('visibilitychange', onVisible));
    }
    if (pollIntervalMs !== undefined && pollIntervalMs > 0) this.#cleanups.push(every(pollIntervalMs, check));
  }
}

export function createPortcullis(options: PortcullisOptions): Portcullis {
  return new Portcullis(options);
}
