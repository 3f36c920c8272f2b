// Where the CPU went during one measurement: the server process, this load generator, and everything else on the
// machine. On a small machine requests per second depend on all three; server CPU per operation depends mostly on
// the server alone, and a large "other" share says the row was disturbed by unrelated work.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface CpuShares {
  /** CPU seconds the server process used; undefined where /proc is not available (not Linux). */
  serverSeconds: number | undefined;
  generatorSeconds: number;
  /** CPU seconds used by all other processes; undefined when the server's share is unknown. */
  otherSeconds: number | undefined;
  /** CPUs x wall seconds: the capacity the three shares are part of. */
  capacitySeconds: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2_000 }).trim()) || 100;
    } catch {
      ticksPerSecond = 100; // the Linux default on every common architecture
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process, in seconds, from /proc/<pid>/stat (fields 14 and 15, counted after the name). */
function processSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The name (field 2) may contain spaces and parentheses: split after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return undefined;
  }
}

function machineBusySeconds(): number {
  let ms = 0;
  for (const cpu of cpus()) ms += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return ms / 1000;
}

export class CpuMeter {
  private start: { server: number | undefined; generator: NodeJS.CpuUsage; machine: number; wall: number } | undefined;

  constructor(private readonly serverPid: number | undefined) {
    clockTicks();
  }

  begin(): void {
    this.start = { server: processSeconds(this.serverPid), generator: process.cpuUsage(), machine: machineBusySeconds(), wall: performance.now() };
  }

  end(): CpuShares {
    const s = this.start;
    if (!s) throw new Error('CpuMeter.end() before begin()');
    const serverNow = processSeconds(this.serverPid);
    const generator = process.cpuUsage(s.generator);
    const generatorSeconds = (generator.user + generator.system) / 1e6;
    const serverSeconds = serverNow === undefined || s.server === undefined ? undefined : serverNow - s.server;
    const busy = machineBusySeconds() - s.machine;
    return {
      serverSeconds, generatorSeconds,
      otherSeconds: serverSeconds === undefined ? undefined : Math.max(0, busy - serverSeconds - generatorSeconds),
      capacitySeconds: (cpus().length * (performance.now() - s.wall)) / 1000,
    };
  }
}
