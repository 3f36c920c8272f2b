// The peer backend against every shared case suite, on a 3-node fake network. The service each case uses is a
// facade that sends each call to the next node in turn, so writes, reads, consumes and lists land on different
// nodes and the suites prove cross-node consistency. Expiry is judged by real time here, so advance() sleeps.
import type { Harness, HarnessFactory } from '../case-harness.js';
import type { StateServiceName, StateServices } from '../types.js';
import { artifactStoreCases } from '../artifacts.case.test.js';
import { interRequestStoreCases } from '../inter-request.case.test.js';
import { loginFailureCounterCases } from '../login-failures.case.test.js';
import { sessionRegistryCases } from '../registry.case.test.js';
import { replayCacheCases } from '../replay.case.test.js';
import { revocationListCases } from '../revocations.case.test.js';
import { sessionStoreCases } from '../sessions.case.test.js';
import { tokenStoreCases } from '../tokens.case.test.js';
import { sleep, TestCluster, type TestClusterOptions } from './test-cluster.js';

function harness<K extends StateServiceName>(name: K, options: TestClusterOptions = {}): HarnessFactory<StateServices[K]> {
  return async (): Promise<Harness<StateServices[K]>> => {
    const cluster = await TestCluster.start(options);
    return {
      service: cluster.roundRobin(name),
      now: () => Date.now(),
      advance: (ms) => sleep(ms),
      close: () => cluster.close(),
    };
  };
}

sessionStoreCases('peer', harness('sessions'));
interRequestStoreCases('peer', harness('interRequest'));
tokenStoreCases('peer', harness('tokens'));
replayCacheCases('peer', harness('replay'));
artifactStoreCases('peer', harness('artifacts'));
sessionRegistryCases('peer', harness('registry'));
revocationListCases('peer', harness('revocations'));
loginFailureCounterCases('peer', harness('loginFailures'));

// The same contract with majority reads, every record on all three nodes, and a network that takes its time.
const strict: TestClusterOptions = { majorityOnly: true, failoverPeers: 2, readLocalOnly: false, delayMs: 2 };
sessionStoreCases('peer, majorityOnly, 2 failover peers', harness('sessions', strict));
tokenStoreCases('peer, majorityOnly, 2 failover peers', harness('tokens', strict));
revocationListCases('peer, readLocalOnly off', harness('revocations', strict));
loginFailureCounterCases('peer, majorityOnly, 2 failover peers', harness('loginFailures', strict));
