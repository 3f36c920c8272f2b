// The cluster layer's public surface. State backends should depend on ClusterRpc (types.ts), not on ClusterNode.
export { ClusterNode, type ClusterNodeOptions, type StopOptions } from './node.js';
export {
  DEFAULT_CLUSTER_CONFIG, resolveClusterConfig, validateClusterConfig, type ClusterConfig, type ClusterRole,
} from './config.js';
export { ClusterError, CLUSTER_ERROR_CODES, isClusterError, type ClusterErrorCode } from './errors.js';
export { generateClusterSecret } from './secret.js';
export { majorityOf, quorumState } from './quorum.js';
export { PROTOCOL_VERSION, MIN_PROTOCOL_VERSION } from './protocol.js';
export type {
  BroadcastOptions, CallOptions, ClusterClock, ClusterEventName, ClusterEvents, ClusterListener, ClusterRpc,
  ClusterStatus, MajorityOptions, MajorityResult, MemberInfo, MemberResult, MemberState, MemberStatus, QuorumState,
  RpcCaller, RpcHandler, StatusChange,
} from './types.js';
export { systemClock } from './types.js';
