// A real, throw-away OpenLDAP server for tests: slapd (Debian's package) on a free loopback port with a slapd.conf
// and an mdb database in a temporary directory, a small tree loaded with ldapadd (so the memberof overlay fills in
// memberOf and slapd generates entryUUIDs), and stop/start/pause to play outages. Every wait is bounded; the server
// is killed when the test process exits, also when a test fails.
//
// slapd runs at debug level 256 (stats) on stderr: its ACCEPT/closed lines let tests count the connections Cohort
// holds open from the server's side, independently of the store's own counters.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './ports.js';

const SLAPD = '/usr/sbin/slapd';
const LDAPADD = '/usr/bin/ldapadd';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export const SUFFIX = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const SERVICE_DN = `cn=cohort,ou=services,${SUFFIX}`;
export const SERVICE_PASSWORD = 'service-account-password';
export const PEOPLE = `ou=people,${SUFFIX}`;
export const GROUPS = `ou=groups,${SUFFIX}`;
/** Directory users and their passwords (stored in clear in the test tree; slapd compares them at bind). */
export const USERS = {
  alice: { password: 'alice-directory-password', cn: 'Alice Liddell', mail: 'alice@example.org', groups: ['engineering', 'staff'] },
  bob: { password: 'bob-directory-password', cn: 'Bob Builder', mail: 'bob@example.org', groups: [] as string[] },
  // A user whose uid holds filter metacharacters: escaping must let them sign in as themselves, and only that.
  'star*name': { password: 'star-directory-password', cn: 'Star Name', mail: 'star@example.org', groups: [] as string[] },
} as const;

/** Why LDAP tests cannot run here, or undefined when they can. The only acceptable reason: no slapd. */
export function ldapSkipReason(): string | undefined {
  return existsSync(SLAPD) && existsSync(LDAPADD)
    ? undefined
    : `OpenLDAP not installed (${SLAPD}, ${LDAPADD}): apt-get install slapd ldap-utils`;
}

export interface LdapServer {
  readonly url: string;
  readonly port: number;
  /** Stops slapd (data kept); start() brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: a server that accepts TCP connections but never answers. Resolves once it is stopped. */
  pause(): Promise<void>;
  resume(): void;
  /** Connections open right now and the most open at once since resetPeak(), as slapd logged them. */
  connections(): { open: number; peak: number };
  resetPeak(): void;
  /** Stops slapd and removes its directory. */
  destroy(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function slapdConf(dir: string): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'database mdb',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    'rootpw root-password',
    `directory ${join(dir, 'db')}`,
    'maxsize 10485760',
    'overlay memberof',
    // Like a real directory: nobody reads password hashes, anonymous may only bind, signed-in accounts read the rest.
    'access to attrs=userPassword by self write by anonymous auth by * none',
    'access to * by users read by * none',
    '',
  ].join('\n');
}

function treeLdif(): string {
  const entries: string[] = [
    `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example`,
    `dn: ou=services,${SUFFIX}\nobjectClass: organizationalUnit\nou: services`,
    `dn: ${SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\ncn: cohort\nuserPassword: ${SERVICE_PASSWORD}`,
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people`,
    `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups`,
  ];
  for (const [uid, u] of Object.entries(USERS)) {
    entries.push(`dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${u.cn}\nsn: ${u.cn.split(' ')[1]}\n`
      + `mail: ${u.mail}\nuserPassword: ${u.password}`);
  }
  // Groups after their members, so the memberof overlay records memberOf on alice.
  for (const group of ['staff', 'engineering']) {
    const members = Object.entries(USERS).filter(([, u]) => (u.groups as readonly string[]).includes(group));
    entries.push(`dn: cn=${group},${GROUPS}\nobjectClass: groupOfNames\ncn: ${group}\n`
      + members.map(([uid]) => `member: uid=${uid},${PEOPLE}`).join('\n'));
  }
  return `${entries.join('\n\n')}\n`;
}

function run(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: timeoutMs }, (err, _stdout, stderr) => (err ? reject(new Error(`${command}: ${err.message}\n${stderr}`)) : resolve()));
  });
}

const running = new Set<ChildProcess>();
process.on('exit', () => { for (const child of running) child.kill('SIGKILL'); });

/** Starts a fresh slapd with the test tree loaded. Throws (with slapd's output) if it does not serve within 10 s. */
export async function startLdap(): Promise<LdapServer> {
  const dir = mkdtempSync(join(tmpdir(), 'cohort-ldap-'));
  mkdirSync(join(dir, 'db'));
  writeFileSync(join(dir, 'slapd.conf'), slapdConf(dir));
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let output = '';
  const open = new Set<string>();
  let peak = 0;

  const onLine = (line: string) => {
    // "conn=1001 fd=12 ACCEPT from IP=..." and "conn=1001 fd=12 closed (...)"
    const m = /conn=(\d+) fd=\d+ (ACCEPT|closed)/.exec(line);
    if (!m) return;
    if (m[2] === 'ACCEPT') open.add(m[1]!);
    else open.delete(m[1]!);
    peak = Math.max(peak, open.size);
  };

  async function start(): Promise<void> {
    output = '';
    open.clear();
    // -d keeps slapd in the foreground (so it is our child and can be killed); 256 = connection and operation stats.
    const proc = spawn(SLAPD, ['-f', join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', '256'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    running.add(proc);
    let buffered = '';
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output = (output + chunk).slice(-20_000);
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    proc.once('exit', () => running.delete(proc));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!output.includes('slapd starting')) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`slapd did not start on ${url}:\n${output.slice(-3000)}`);
      }
      await delay(20);
    }
    // slapd logs "starting" before its listener calls listen(): wait until a TCP connection is accepted.
    while (!(await accepts(port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`slapd did not accept connections on ${url}:\n${output.slice(-3000)}`);
      }
      await delay(20);
    }
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    open.clear();
  }

  await start();
  try {
    const ldif = join(dir, 'tree.ldif');
    writeFileSync(ldif, treeLdif());
    await run(LDAPADD, ['-x', '-H', url, '-D', ROOT_DN, '-w', 'root-password', '-f', ldif], 10_000);
  } catch (err) {
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  peak = open.size;

  return {
    url,
    port,
    stop,
    start,
    async pause() {
      const pid = child?.pid;
      if (!pid) throw new Error('slapd is not running');
      child!.kill('SIGSTOP');
      // Stopping is asynchronous: a worker thread may still answer until the kernel has stopped the whole process.
      const deadline = Date.now() + STOP_TIMEOUT_MS;
      while (!/^\S+ \(.*\) T /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) {
        if (Date.now() > deadline) throw new Error('slapd did not stop on SIGSTOP');
        await delay(5);
      }
    },
    resume: () => child?.kill('SIGCONT'),
    connections: () => ({ open: open.size, peak }),
    resetPeak: () => { peak = open.size; },
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
