/**
 * Elevated tokens from step-up, kept in memory (never persisted: they live
 * 5 minutes) until the call that needs their scope. Single use: taken out
 * when sent, whatever the answer.
 */

export class ElevatedTokens {
  #byScope = new Map<string, { token: string; expiresAt: number }>();

  keep(scope: string, token: string, expiresAt: number): void {
    this.#byScope.set(scope, { token, expiresAt });
  }

  /** The token for `scope`, removed; `null` when there is none or it has expired. */
  take(scope: string, now: number): string | null {
    const kept = this.#byScope.get(scope);
    this.#byScope.delete(scope);
    return kept && kept.expiresAt > now ? kept.token : null;
  }

  has(scope: string, now: number): boolean {
    const kept = this.#byScope.get(scope);
    return kept !== undefined && kept.expiresAt > now;
  }

  clear(): void {
    this.#byScope.clear();
  }
}
