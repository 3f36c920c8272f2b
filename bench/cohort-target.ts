// A real `cohort start` process in a fresh data directory, with the user and client created by the CLI first, as an
// operator would. The scrypt cost is set for both the CLI and the server: a password hashed at another cost would be
// re-hashed at the first sign-in (needsRehash), which would add a second hash to every measured sign-in.
import { randomBytes } from 'node:crypto';
import { runCli, startCohort, tempDir } from '../test/support/processes.js';
import type { Target } from './workloads.js';

export interface RunningTarget extends Target {
  /** The password hash the server really uses, e.g. 'scrypt N=32768 r=8 p=1', or 'plain' for the baseline. */
  passwordCheck: string;
  /** The server's process id, to measure its CPU time. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export const REDIRECT_URI = 'http://127.0.0.1:5555/callback';
const USERNAME = 'bench-user';

/**
 * Creates the user and the client with the CLI, as an operator would, and reads the scrypt cost back from Cohort
 * itself, so the output states the parameters in force, not what we meant to set.
 */
export async function provision(env: NodeJS.ProcessEnv): Promise<{ target: Omit<Target, 'issuer'>; passwordCheck: string }> {
  const password = randomBytes(18).toString('base64url');
  const user = await runCli(['users', 'add', USERNAME, '--password-stdin', '--email', 'bench@example.org'], { stdin: `${password}\n`, env });
  if (user.code !== 0) throw new Error(`cohort users add failed: ${user.stderr}`);
  const client = await runCli(['clients', 'add', '--name', 'Bench', '--redirect-uri', REDIRECT_URI, '--json'], { env });
  if (client.code !== 0) throw new Error(`cohort clients add failed: ${client.stderr}`);
  const { client_id: clientId, client_secret: clientSecret } = JSON.parse(client.stdout) as { client_id: string; client_secret: string };
  const shown = await runCli(['config', 'show'], { env });
  if (shown.code !== 0) throw new Error(`cohort config show failed: ${shown.stderr}`);
  const scrypt = (JSON.parse(shown.stdout) as { auth: { scrypt: { cost: number; blockSize: number; parallelization: number } } }).auth.scrypt;
  return {
    target: { clientId, clientSecret, redirectUri: REDIRECT_URI, username: USERNAME, password },
    passwordCheck: `scrypt N=${scrypt.cost} r=${scrypt.blockSize} p=${scrypt.parallelization}`,
  };
}

/**
 * `beforeStart` runs after the user and client were created and before the server starts, with the CLI environment
 * (COHORT_DATA_DIR among it): for more CLI registrations, e.g. SAML service providers.
 */
export async function startCohortTarget(scryptCost: number,
  beforeStart?: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<RunningTarget> {
  const dir = tempDir('cohort-bench-');
  const env = { COHORT_DATA_DIR: dir.path, COHORT_AUTH_SCRYPT_COST: String(scryptCost) };
  try {
    const { target, passwordCheck } = await provision(env);
    await beforeStart?.(env);
    // The operator's default log level (info): a sign-in logs one line, as in production.
    const node = await startCohort({
      dataDir: dir.path,
      env: { ...env, COHORT_LOG_LEVEL: 'info', COHORT_ADMIN_PASSWORD: randomBytes(18).toString('base64url') },
    });
    return {
      ...target, passwordCheck, pid: node.child.pid, issuer: node.issuer,
      async stop() {
        try { await node.stop(); } finally { dir.remove(); }
      },
    };
  } catch (err) {
    dir.remove();
    throw err;
  }
}
