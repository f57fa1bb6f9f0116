/**
 * Telling the other tabs of the same origin that the session changed, so
 * that a logout (or a revocation, or expiry) seen in one tab signs every tab
 * out. BroadcastChannel where there is one; otherwise the `storage` event,
 * which Web Storage fires in the other tabs when a key changes.
 */
import type { SessionEventType } from './types.js';

export interface TabMessage {
  type: SessionEventType;
  /** The session the change is about; `null` when none is known. */
  sessionId: string | null;
}

export interface TabChannel {
  post(message: TabMessage): void;
  close(): void;
}

/** The globals this module uses, injectable for tests. */
export interface TabEnvironment {
  BroadcastChannel?: typeof BroadcastChannel;
  localStorage?: Storage;
  addEventListener?: (type: 'storage', listener: (event: StorageEvent) => void) => void;
  removeEventListener?: (type: 'storage', listener: (event: StorageEvent) => void) => void;
}

function isTabMessage(value: unknown): value is TabMessage {
  const m = value as Partial<TabMessage> | null;
  return typeof m?.type === 'string' && (m.sessionId === null || typeof m.sessionId === 'string');
}

export function openTabChannel(
  name: string,
  receive: (message: TabMessage) => void,
  env: TabEnvironment = globalThis as TabEnvironment,
): TabChannel {
  if (typeof env.BroadcastChannel === 'function') {
    const channel = new env.BroadcastChannel(name);
    channel.onmessage = (event: MessageEvent) => {
      if (isTabMessage(event.data)) receive(event.data);
    };
    return { post: (message) => channel.postMessage(message), close: () => channel.close() };
  }
  let storage: Storage | undefined;
  try {
    storage = env.localStorage;
  } catch {
    storage = undefined;
  }
  if (!storage || typeof env.addEventListener !== 'function') return { post() {}, close() {} };
  const key = `${name}:signal`;
  const onStorage = (event: StorageEvent): void => {
    if (event.key !== key || !event.newValue) return;
    try {
      const message: unknown = JSON.parse(event.newValue);
      if (isTabMessage(message)) receive({ type: message.type, sessionId: message.sessionId });
    } catch {
      // Not ours.
    }
  };
  env.addEventListener('storage', onStorage);
  return {
    post(message) {
      try {
        // A nonce, so that the same message twice is still a change.
        storage!.setItem(key, JSON.stringify({ ...message, nonce: Math.random() }));
      } catch {
        // Storage full or blocked: the other tabs find out on their next check.
      }
    },
    close: () => env.removeEventListener?.('storage', onStorage),
  };
}
