// Bounded exponential backoff for redialling a member. Doubling keeps a dead member from being hammered; the cap keeps
// a member that comes back from waiting long to be seen; jitter keeps N nodes from redialling in lockstep.

export interface BackoffOptions {
  /** First delay in ms. @default 100: a member that restarts is usually back within a few hundred ms. */
  initialMs?: number;
  /** Largest delay in ms. @default 5000: a returning member is found within ~5 s plus one handshake. */
  maxMs?: number;
  /** Growth per failed attempt. @default 2 */
  factor?: number;
  /** Fraction of each delay that is randomised (0 = none, 0.2 = ±20 %). @default 0.2 */
  jitter?: number;
  /** Random source in [0, 1); injected so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 5_000;

export class ExponentialBackoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    this.#maxMs = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0 && this.#maxMs >= this.#initialMs && this.#factor >= 1)) {
      throw new RangeError('backoff needs 0 < initialMs <= maxMs and factor >= 1');
    }
    if (!(this.#jitter >= 0 && this.#jitter < 1)) throw new RangeError('backoff jitter must be in [0, 1)');
  }

  /** The delay before the next attempt; each call counts one more failure. Never exceeds maxMs. */
  next(): number {
    // Math.min before multiplying again keeps the exponent from overflowing to Infinity after many failures.
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** Math.min(this.#attempt, 64));
    this.#attempt++;
    const spread = base * this.#jitter * (2 * this.#random() - 1);
    return Math.max(1, Math.min(this.#maxMs, Math.round(base + spread)));
  }

  /** After a success: the next failure starts again from initialMs. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}
