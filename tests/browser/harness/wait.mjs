// Waiting for something that happens elsewhere (a server starting, a mail
// arriving): a condition checked until a deadline, never a fixed sleep.

import { setTimeout as delay } from 'node:timers/promises';

/** The default deadline of every wait in the harness. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * Calls `probe` (sync or async) until it returns something other than
 * `undefined`, `null` or `false`, and returns that; fails after `timeout`
 * milliseconds with `what` and the probe's last error, if it threw. An
 * error of the class `fatal` ends the wait at once.
 */
export async function eventually(what, probe, { timeout = DEFAULT_TIMEOUT_MS, interval = 25, fatal } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (e) {
      if (fatal && e instanceof fatal) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? ` (last error: ${lastError.message ?? lastError})` : '';
      throw new Error(`timed out after ${timeout} ms waiting until ${what}${why}`);
    }
    await delay(interval);
  }
}

/**
 * Settles with `promise`, or rejects after `timeout` ms naming `what`.
 */
export async function within(what, promise, timeout = DEFAULT_TIMEOUT_MS) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms waiting until ${what}`)), timeout);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
