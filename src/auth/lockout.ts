// Brute-force protection: failures counted per user and per source address in a sliding window, through the
// loginFailures state service so that a cluster counts them together. Unknown usernames are counted like known ones,
// so the lockout itself never reveals whether an account exists.
import type { LoginFailureCounter } from '../state/types.js';

export interface LockoutPolicy {
  maxFailuresPerUser: number;
  maxFailuresPerSource: number;
  windowSeconds: number;
}

export class Lockout {
  constructor(private readonly counter: LoginFailureCounter, private readonly policy: LockoutPolicy) {}

  private get windowMs(): number { return this.policy.windowSeconds * 1000; }

  private static userKey(username: string): string { return `user:${username.normalize('NFKC').toLowerCase()}`; }
  private static sourceKey(source: string): string { return `source:${source}`; }

  async isLocked(username: string, source: string): Promise<boolean> {
    const [byUser, bySource] = await Promise.all([
      this.counter.count(Lockout.userKey(username), this.windowMs),
      this.counter.count(Lockout.sourceKey(source), this.windowMs),
    ]);
    return byUser >= this.policy.maxFailuresPerUser || bySource >= this.policy.maxFailuresPerSource;
  }

  async recordFailure(username: string, source: string): Promise<void> {
    await Promise.all([
      this.counter.record(Lockout.userKey(username), this.windowMs),
      this.counter.record(Lockout.sourceKey(source), this.windowMs),
    ]);
  }

  /** A successful sign-in clears the user's counter; the source's stays (one good password must not unlock a spray). */
  async recordSuccess(username: string): Promise<void> {
    await this.counter.reset(Lockout.userKey(username));
  }
}
