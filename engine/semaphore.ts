/**
 * A counting semaphore with FIFO admission.
 *
 * Hand-rolled because the design asks for it: it is a dozen lines, the
 * scheduler's concurrency bound depends on its exact fairness, and the npm
 * alternatives bring timers and cancellation we do not need.
 *
 * @module
 */

/** Bounds how many holders run at once; waiters are admitted in arrival order. */
export class Semaphore {
  #available: number;
  #waiters: (() => void)[] = [];
  #head = 0;

  /** Creates a semaphore with `permits` permits (a whole number, at least 1). */
  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) {
      throw new RangeError(`Semaphore permits must be a whole number >= 1, got ${permits}`);
    }
    this.#available = permits;
  }

  /** Permits free right now. */
  get available(): number {
    return this.#available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length - this.#head;
  }

  /** Resolves once a permit is held; call `release()` exactly once after. */
  acquire(): Promise<void> {
    if (this.#available > 0 && this.waiting === 0) {
      this.#available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Returns a permit, handing it straight to the longest waiter if any. */
  release(): void {
    if (this.#head < this.#waiters.length) {
      const next = this.#waiters[this.#head];
      this.#waiters[this.#head++] = noop;
      if (this.#head > 1024 && this.#head * 2 > this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      next();
    } else {
      this.#available++;
    }
  }

  /** Runs `task` while holding a permit; the permit is released even if it throws. */
  async use<T>(task: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }
}

function noop() {}
