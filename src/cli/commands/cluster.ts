// `cohort cluster init|up`: create the cluster secret; start a local N-node cluster for trying Cohort out.
import { CliError, parse, resolveDataDir, type CliIO, type Command, runSubcommand } from '../command.js';
import { ensureClusterSecret, secretFilePath } from '../../cluster/secret-file.js';
import { existsSync, mkdirSync } from 'node:fs';

const USAGE = `Usage: cohort cluster <subcommand> [options]

Subcommands:
  init [--data-dir DIR] [--force]
      Creates the cluster secret in DIR/cluster-secret (mode 0600). Copy that file into the data directory of
      every node (or set COHORT_CLUSTER_SECRET): it keys the TLS-PSK back channel, so a process without it can
      neither join, nor read, nor inject. --force replaces an existing secret (every node must then get the new one).

  up --nodes N [--base-port P] [--back-channel-port B] [--issuer URL] [--data-dir DIR] [--balancer haproxy] [--console]
      Starts an N-node cluster on loopback for trying it out. Node i (1..N) serves HTTP on P+i (P defaults to 9000,
      leaving P for a balancer) and its back channel on B+i (B defaults to 7900); the issuer defaults to
      http://127.0.0.1:P. All nodes share DIR (default ./cohort-data): the same users, clients, keys and secret.
      Each node logs to DIR/nodes/node-i/cohort.log; DIR/cluster.json lists every node (index, URL, back-channel
      port, pid). --balancer haproxy also starts HAProxy (Debian package 'haproxy') on P with a sticky cookie and a
      health check on /status/v2/lbstatus; without it, the HAProxy configuration to use is printed.
      --console also starts a console (node N+1, on P+N+1, not behind the balancer): the web console at
      /console/ and the admin API; the engines then run the configuration version it publishes.
      Ctrl-C stops every process it started.
`;

async function init(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { 'data-dir': { type: 'string' }, force: { type: 'boolean' } }, false);
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const existed = existsSync(secretFilePath(dataDir));
  if (existed && !values.force) {
    io.stdout.write(`cluster secret already exists: ${secretFilePath(dataDir)} (use --force to replace it)\n`);
    return 0;
  }
  const file = ensureClusterSecret(dataDir, Boolean(values.force));
  io.stdout.write(`${existed ? 'replaced' : 'created'} cluster secret: ${file}\nCopy it to the data directory of every node of the cluster.\n`);
  return 0;
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new CliError(`--${name} must be an integer from ${min} to ${max}, got '${value}'`);
  return n;
}

async function up(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, {
    nodes: { type: 'string' }, 'base-port': { type: 'string' }, 'back-channel-port': { type: 'string' },
    issuer: { type: 'string' }, 'data-dir': { type: 'string' }, balancer: { type: 'string' }, console: { type: 'boolean' },
  }, false);
  if (values.nodes === undefined) throw new CliError('--nodes N is required');
  const nodes = integer(values.nodes, 'nodes', 3, 1, 64);
  const members = nodes + (values.console ? 1 : 0);
  const basePort = integer(values['base-port'], 'base-port', 9000, 1, 65_535 - members);
  const backChannel = integer(values['back-channel-port'], 'back-channel-port', 7900, 1, 65_535 - members);
  if (values.balancer !== undefined && values.balancer !== 'haproxy') throw new CliError(`--balancer must be 'haproxy', got '${values.balancer}'`);
  const issuer = values.issuer ?? `http://127.0.0.1:${basePort}`;
  try {
    const url = new URL(issuer);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new CliError(`--issuer must be an http(s) URL, got '${issuer}'`);
  }
  const { runLocalCluster } = await import('../local-cluster.js');
  return runLocalCluster({
    nodes, basePort, backChannelBasePort: backChannel, issuer, dataDir: resolveDataDir(values['data-dir'], io.env),
    ...(values.balancer ? { balancer: 'haproxy' as const } : {}), ...(values.console ? { console: true } : {}),
  }, io);
}

const SUBCOMMANDS = new Map<string, (argv: string[], io: CliIO) => Promise<number>>([['init', init], ['up', up]]);

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'Create the cluster secret, or start a local cluster to try',
  help: USAGE,
  run: (argv, io) => runSubcommand(SUBCOMMANDS, argv, io),
};
