export interface RetryPolicy {
  /** Tries in all, the first included. Default 5. */
  attempts?: number;
  /** Delay before the first retry; doubled for each further one. Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound of one delay. Default 5 s. */
  maxDelayMs?: number;
}

export interface RetryHooks {
  /** Whether a failure may go away by itself (a reset connection, a 503). */
  isTransient(error: unknown): boolean;
  /** Told before each retry, e.g. to log it. */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` until it succeeds, a failure is not transient, or the attempts are used up; the
 * last failure is thrown. Delays grow exponentially with "full jitter" (a random share of the
 * bound), so that many clients retrying one overloaded server do not retry in step.
 */
export async function withRetries<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  const attempts = Math.max(1, policy.attempts ?? 5);
  const base = policy.baseDelayMs ?? 200;
  const cap = policy.maxDelayMs ?? 5000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= attempts || !hooks.isTransient(error)) throw error;
      const bound = Math.min(cap, base * 2 ** (attempt - 1));
      const delayMs = Math.round(bound / 2 + (Math.random() * bound) / 2);
      hooks.onRetry?.(error, attempt, delayMs);
      await sleep(delayMs);
    }
  }
}
