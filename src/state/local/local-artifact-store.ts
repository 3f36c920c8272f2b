// SAML messages waiting behind an artifact on the node that issued it. First in, first out: each is read once.

import { BoundedMap } from './bounded-map.js';
import type { LocalStoreOptions } from './local-store-options.js';
import type { ArtifactStore } from '../types.js';

export class LocalArtifactStore implements ArtifactStore {
  readonly #messages: BoundedMap<string, string>;

  constructor(options: LocalStoreOptions) {
    this.#messages = new BoundedMap({
      maxEntries: options.maxEntries,
      policy: 'fifo',
      clock: options.clock,
      sweepIntervalMs: options.sweepIntervalMs,
    });
  }

  async put(handle: string, message: string, expiresAt: number): Promise<void> {
    this.#messages.set(handle, message, expiresAt);
  }

  // Read and delete with no await between them, so two resolvers can never both get the message.
  async take(handle: string): Promise<string | undefined> {
    const message = this.#messages.peek(handle);
    if (message !== undefined) this.#messages.delete(handle);
    return message;
  }

  close(): void {
    this.#messages.close();
  }
}
