/**
 * Timers at a wall-clock instant. Browsers (and Node) overflow a delay
 * above 2^31-1 ms (~24.8 days) and fire at once, while a session may last
 * 30 days: long waits are cut into capped steps, re-armed until the instant.
 */

export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export type Clock = () => number;

/** The delay to arm now for an instant `at`: never negative, never above the cap. */
export function delayUntil(at: number, now: number): number {
  return Math.min(Math.max(0, at - now), MAX_TIMEOUT_MS);
}

/**
 * Runs `fire` once the clock reaches `at` (at once if it has). Returns a
 * cancel function. The timer does not keep a Node process alive.
 */
export function scheduleAt(at: number, fire: () => void, now: Clock = Date.now): () => void {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  const arm = (): void => {
    if (cancelled) return;
    const delay = delayUntil(at, now());
    if (delay === 0) {
      cancelled = true;
      fire();
      return;
    }
    handle = setTimeout(arm, delay);
    (handle as { unref?: () => void }).unref?.();
  };
  arm();
  return () => {
    cancelled = true;
    if (handle !== undefined) clearTimeout(handle);
  };
}

/** Runs `tick` every `intervalMs` until cancelled. */
export function every(intervalMs: number, tick: () => void): () => void {
  const handle = setInterval(tick, Math.min(Math.max(1, intervalMs), MAX_TIMEOUT_MS));
  (handle as { unref?: () => void }).unref?.();
  return () => clearInterval(handle);
}
