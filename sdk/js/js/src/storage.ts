/**
 * Where the SDK keeps its state between page loads, and the state's shape.
 *
 * In-app mode keeps the JWT here (that is what "in-app" means). Cookie mode
 * never does: the JWT lives only in the HttpOnly cookie, and this holds the
 * non-secret rest (CSRF token, session, user) so a reload knows it is
 * signed in before the server confirms it.
 */
import type { MfaStatus, Session, TokenStorage, User } from './types.js';

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** `local` (default): every tab, survives restarts; `session`: this tab; `memory`: this page load. */
export type Persistence = 'local' | 'session' | 'memory' | KeyValueStore;

export function memoryStore(): KeyValueStore {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

/**
 * The store for a persistence choice. Web Storage can be missing (Node,
 * workers) or throw on access (blocked storage); then memory.
 */
export function resolveStore(persistence: Persistence = 'local', global: object = globalThis): KeyValueStore {
  if (typeof persistence === 'object') return persistence;
  if (persistence === 'memory') return memoryStore();
  try {
    const store = (global as Record<string, unknown>)[persistence === 'local' ? 'localStorage' : 'sessionStorage'];
    if (store && typeof (store as KeyValueStore).getItem === 'function') return store as KeyValueStore;
  } catch {
    // Access denied: fall through.
  }
  return memoryStore();
}

export interface SessionState {
  mode: TokenStorage;
  /** The session JWT; in-app mode only. */
  token?: string;
  /** Cookie mode only. */
  csrfToken?: string;
  session: Session;
  user: User;
  /** Unknown when the session was found by `GET /session` alone. */
  mfa: MfaStatus | null;
  /** Epoch ms at which the session ends (JWT `exp`, or `session.expiresAt`). */
  expiresAt: number;
}

function isState(value: unknown): value is SessionState {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<SessionState>;
  return (
    (s.mode === 'in_app' ? typeof s.token === 'string' : s.mode === 'cookie' && s.token === undefined) &&
    typeof s.session?.id === 'string' &&
    typeof s.user?.id === 'string' &&
    typeof s.expiresAt === 'number'
  );
}

export interface StateStore {
  read(): SessionState | null;
  write(state: SessionState | null): void;
}

export function stateStore(store: KeyValueStore, key: string): StateStore {
  const ignoreFailure = (f: () => void): void => {
    try {
      f();
    } catch {
      // Quota or access errors: the state lives on in memory for this page.
    }
  };
  return {
    read() {
      let raw: string | null = null;
      ignoreFailure(() => (raw = store.getItem(key)));
      if (raw === null) return null;
      try {
        const parsed: unknown = JSON.parse(raw);
        if (isState(parsed)) return parsed;
      } catch {
        // Unreadable: dropped below.
      }
      ignoreFailure(() => store.removeItem(key));
      return null;
    },
    write(state) {
      if (state === null) return ignoreFailure(() => store.removeItem(key));
      // Belt and braces: cookie mode must never persist a token.
      const persisted = state.mode === 'cookie' ? { ...state, token: undefined } : state;
      ignoreFailure(() => store.setItem(key, JSON.stringify(persisted)));
    },
  };
}
