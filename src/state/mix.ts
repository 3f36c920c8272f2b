// One StateServices made of services from several backends: the node wiring's way of choosing a backend per service.
import type { StateServiceName, StateServices } from './types.js';

/**
 * The service `pick` names for each member (built member by member: a backend may be a class instance whose methods
 * a spread would not copy); close() closes every backend given in `backends`.
 */
export function mixServices(
  pick: <S extends StateServiceName>(service: S) => StateServices[S],
  backends: ReadonlyArray<{ close(): Promise<void> | void }>,
): StateServices {
  return {
    sessions: pick('sessions'),
    interRequest: pick('interRequest'),
    tokens: pick('tokens'),
    replay: pick('replay'),
    artifacts: pick('artifacts'),
    registry: pick('registry'),
    revocations: pick('revocations'),
    loginFailures: pick('loginFailures'),
    async close() {
      await Promise.all(backends.map((b) => b.close()));
    },
  };
}
