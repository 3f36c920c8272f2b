// What a backend hands the shared case suites (*.case.test.ts): a service with empty state and a way to move time.
// Local backends move an injected clock; remote ones sleep, so cases keep their time spans to a few hundred ms.

import { it } from 'node:test';

export interface Harness<T> {
  /** A service that starts empty: a fresh instance, or a fresh key prefix on a shared server. */
  service: T;
  /** The time the backend judges expiry by (epoch ms): the injected clock for local, Date.now() for remote. */
  now(): number;
  /** Moves the backend's time forward by `ms`. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

export type HarnessFactory<T> = () => Promise<Harness<T>>;

/** Lifetime the cases give records: short, so a remote backend's suite stays quick. */
export const TTL_MS = 300;

/** Runs `body` on a fresh harness and closes it whatever happens. */
export async function withHarness<T>(
  factory: HarnessFactory<T>,
  body: (h: Harness<T>) => Promise<void>,
): Promise<void> {
  const h = await factory();
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** A node:test `it` whose body gets a fresh harness from `factory`, closed after the case. */
export function caseRunner<T>(factory: HarnessFactory<T>) {
  return (name: string, body: (h: Harness<T>) => Promise<void>): void => {
    it(name, () => withHarness(factory, body));
  };
}
