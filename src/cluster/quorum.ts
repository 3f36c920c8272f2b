// Quorum from counts alone, so the rule is stated once and tested exhaustively. Counted over the *configured* member
// set (initialHosts ∪ self), not over whoever happens to be alive: otherwise both halves of a partition would see
// themselves as the whole cluster and both accept writes.
import type { ClusterError } from './errors.js';
import type { MajorityResult, QuorumState } from './types.js';

export interface QuorumInput {
  /** This node's back channel is up and it has been started (false: it cannot serve at all). */
  serving: boolean;
  /** Size of the configured member set, self included (>= 1). */
  configuredMembers: number;
  /** Configured members this node can talk to, self included. */
  reachableMembers: number;
}

/** Answers needed for a majority of `configuredMembers`: strictly more than half. */
export function majorityOf(configuredMembers: number): number {
  return Math.floor(configuredMembers / 2) + 1;
}

/**
 * 'quorum' when more than half of the configured members are reachable (counting self), 'read-only' at half or
 * fewer, 'unavailable' when this node cannot serve. 2 nodes with 1 down: read-only; 3 with 1 down: quorum.
 */
export function quorumState(input: QuorumInput): QuorumState {
  if (!input.serving) return 'unavailable';
  const configured = Math.max(1, input.configuredMembers);
  // Never more than configured: a member reached under two addresses must not count twice.
  const reachable = Math.min(configured, Math.max(0, input.reachableMembers));
  return reachable >= majorityOf(configured) ? 'quorum' : 'read-only';
}

export interface MemberCountInput {
  /** host:port this node advertises. */
  selfAddress: string;
  /** Canonical host:port entries of initialHosts. */
  initialHosts: readonly string[];
  /** What dialling each address revealed: it was this node itself, or the member index it reached. */
  links: ReadonlyMap<string, { isSelf: boolean; memberIndex: number | undefined }>;
  /** Alive members other than self. */
  alive: ReadonlyArray<{ index: number; address: string }>;
}

/**
 * The configured member set (initialHosts ∪ self) and how much of it is reachable, self included. An entry is
 * this node when it equals the advertised address or dialling it came back to this node; a member is configured
 * when an entry's link reached it or it advertises an entry's address. Two entries naming one member (a host name
 * and its IP) count twice in `configured`: list each member once.
 */
export function countMembers(input: MemberCountInput): { configured: number; reachable: number } {
  const others = input.initialHosts.filter((h) => h !== input.selfAddress && !input.links.get(h)?.isSelf);
  const reached = new Set(others.map((h) => input.links.get(h)?.memberIndex).filter((i) => i !== undefined));
  let reachable = 1;
  for (const member of input.alive) {
    if (reached.has(member.index) || others.includes(member.address)) reachable++;
  }
  return { configured: others.length + 1, reachable };
}

/**
 * Calls every target once and settles as soon as the outcome is known: resolved with the first `needed` answers,
 * or rejected with `impossible(...)` once so many failed that a majority can no longer be had. `call` rejects with
 * ClusterErrors only. The one rule behind callMajority, for the real RPC layer and the peer tests' fake network.
 */
export function firstMajority<T>(
  targets: readonly number[], needed: number, call: (index: number) => Promise<T>,
  impossible: (answers: number, errors: MajorityResult<T>['errors']) => ClusterError,
): Promise<MajorityResult<T>> {
  return new Promise((resolve, reject) => {
    const answers: MajorityResult<T>['answers'] = [];
    const errors: MajorityResult<T>['errors'] = [];
    let done = false;
    for (const index of targets) {
      call(index).then((value) => {
        if (done) return;
        answers.push({ index, value });
        if (answers.length >= needed) {
          done = true;
          resolve({ needed, answers: [...answers], errors: [...errors] });
        }
      }, (error: ClusterError) => {
        if (done) return;
        errors.push({ index, error });
        if (targets.length - errors.length < needed) {
          done = true;
          reject(impossible(answers.length, errors));
        }
      });
    }
  });
}
