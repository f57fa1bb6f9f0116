/** A minimal typed event emitter: listeners are called in order of subscription. */

export type Listener<T> = (value: T) => void;

export interface Emitter<T> {
  /** Subscribes; returns the function that unsubscribes (safe to call twice). */
  on(listener: Listener<T>): () => void;
  emit(value: T): void;
  clear(): void;
}

export function createEmitter<T>(): Emitter<T> {
  const listeners = new Set<Listener<T>>();
  return {
    on(listener) {
      // A wrapper, so the same function subscribed twice is two subscriptions.
      const entry: Listener<T> = (value) => listener(value);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    emit(value) {
      for (const listener of [...listeners]) {
        try {
          listener(value);
        } catch (error) {
          // One failing listener must not stop the others, nor the SDK's own
          // bookkeeping around the emit; the error still surfaces.
          setTimeout(() => {
            throw error;
          });
        }
      }
    },
    clear() {
      listeners.clear();
    },
  };
}
