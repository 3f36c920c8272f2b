// A typed event emitter for the cluster's events. Two departures from a bare EventEmitter, both so that a listener
// cannot break the cluster's own bookkeeping: a throwing listener is reported after the step that emitted completes,
// and 'error' without a listener is dropped instead of throwing out of a socket callback.
import { EventEmitter } from 'node:events';
import type { ClusterError } from './errors.js';
import type { ClusterEventName, ClusterEvents, ClusterListener } from './types.js';

export class ClusterEventBus {
  readonly #emitter = new EventEmitter();

  on<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): void {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
  }

  off<E extends ClusterEventName>(event: E, listener: ClusterListener<E>): void {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
  }

  emit<E extends ClusterEventName>(event: E, ...args: ClusterEvents[E]): void {
    if (event === 'error' && this.#emitter.listenerCount('error') === 0) return;
    try {
      this.#emitter.emit(event, ...args);
    } catch (error) {
      // Rethrown on the next tick: visible as an uncaught exception, as a listener bug should be, but only after
      // the member table and connections are consistent again.
      process.nextTick(() => { throw error; });
    }
  }

  emitError(error: ClusterError): void {
    this.emit('error', error);
  }
}
