/**
 * @portcullis/react — a provider and two hooks over a @portcullis/js
 * client. No state library: the client is the store, read with
 * `useSyncExternalStore`.
 */
import { createContext, createElement, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { Portcullis, SessionSnapshot } from '@portcullis/js';

const PortcullisContext = createContext<Portcullis | null>(null);

export interface PortcullisProviderProps {
  /** From `createPortcullis(…)`, created once (outside the component, or memoised). */
  client: Portcullis;
  children?: ReactNode;
}

export function PortcullisProvider({ client, children }: PortcullisProviderProps): ReactNode {
  return createElement(PortcullisContext.Provider, { value: client }, children);
}

/** The client given to the nearest `<PortcullisProvider>`. */
export function usePortcullis(): Portcullis {
  const client = useContext(PortcullisContext);
  if (client === null) throw new Error('usePortcullis: no <PortcullisProvider client={…}> above this component');
  return client;
}

/**
 * `{status, session, user, mfa, lastEvent}`; re-renders on every session
 * event (sign-in, MFA, refresh, logout, revocation, expiry, other tabs) and
 * when the first check after a reload ends (`loading` → …).
 */
export function useSession(): SessionSnapshot {
  const client = usePortcullis();
  return useSyncExternalStore(client.subscribe, client.getSnapshot, client.getSnapshot);
}

export type { SessionSnapshot, SessionStatus, SessionEvent } from '@portcullis/js';
