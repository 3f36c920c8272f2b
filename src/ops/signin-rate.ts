// Sign-in successes and failures per second over the last few minutes, for the console's chart: a fixed ring of
// one slot per second, so memory is constant however busy the node is.
export interface RateSample { at: string; signIns: number; failures: number }

export class SignInRate {
  readonly #seconds: number;
  readonly #slotSecond: number[];
  readonly #ok: number[];
  readonly #failed: number[];

  constructor(seconds = 600, private readonly now: () => number = Date.now) {
    this.#seconds = seconds;
    this.#slotSecond = new Array<number>(seconds).fill(-1);
    this.#ok = new Array<number>(seconds).fill(0);
    this.#failed = new Array<number>(seconds).fill(0);
  }

  record(ok: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % this.#seconds;
    if (this.#slotSecond[slot] !== second) {
      this.#slotSecond[slot] = second;
      this.#ok[slot] = 0;
      this.#failed[slot] = 0;
    }
    if (ok) this.#ok[slot]! += 1;
    else this.#failed[slot]! += 1;
  }

  /** Oldest first, one sample per second of the window, zeros included (up to the current second). */
  samples(): RateSample[] {
    const current = Math.floor(this.now() / 1000);
    const out: RateSample[] = [];
    for (let second = current - this.#seconds + 1; second <= current; second++) {
      const slot = ((second % this.#seconds) + this.#seconds) % this.#seconds;
      const live = this.#slotSecond[slot] === second;
      out.push({ at: new Date(second * 1000).toISOString(), signIns: live ? this.#ok[slot]! : 0, failures: live ? this.#failed[slot]! : 0 });
    }
    return out;
  }
}
