// bench/cpu-meter.ts's CpuMeter for a server made of several processes (the nodes, HAProxy): one inner meter per
// process, summed, so runLoad() can drive it exactly as it drives the single-node meter. The load generator (this
// process) and everything else are split as CpuMeter splits them.
import { cpus } from 'node:os';
import { CpuMeter, type CpuShares } from '../cpu-meter.js';

export interface ClusterCpuShares extends CpuShares {
  /** CPU seconds of the Cohort node processes together. */
  nodeSeconds: number | undefined;
  /** CPU seconds of the balancer. */
  balancerSeconds: number | undefined;
}

function machineBusySeconds(): number {
  let ms = 0;
  for (const cpu of cpus()) ms += cpu.times.user + cpu.times.nice + cpu.times.sys + cpu.times.irq;
  return ms / 1000;
}

const sum = (values: Array<number | undefined>) => (values.some((v) => v === undefined)
  ? undefined : values.reduce<number>((a, b) => a + b!, 0));

export class ClusterCpuMeter extends CpuMeter {
  readonly #nodes: CpuMeter[];
  readonly #balancer: CpuMeter;
  #busyAtStart = 0;
  /** The shares of the last measurement, with the node / balancer split. */
  last: ClusterCpuShares | undefined;

  constructor(nodePids: Array<number | undefined>, balancerPid: number | undefined) {
    super(undefined);
    this.#nodes = nodePids.map((pid) => new CpuMeter(pid));
    this.#balancer = new CpuMeter(balancerPid);
  }

  override begin(): void {
    for (const meter of [...this.#nodes, this.#balancer]) meter.begin();
    this.#busyAtStart = machineBusySeconds();
  }

  override end(): CpuShares {
    const busy = machineBusySeconds() - this.#busyAtStart;
    const nodes = this.#nodes.map((m) => m.end());
    const balancer = this.#balancer.end();
    const nodeSeconds = sum(nodes.map((s) => s.serverSeconds));
    const balancerSeconds = balancer.serverSeconds;
    const serverSeconds = sum([nodeSeconds, balancerSeconds]);
    const generatorSeconds = balancer.generatorSeconds;
    this.last = {
      serverSeconds, generatorSeconds, nodeSeconds, balancerSeconds,
      otherSeconds: serverSeconds === undefined ? undefined : Math.max(0, busy - serverSeconds - generatorSeconds),
      capacitySeconds: balancer.capacitySeconds,
    };
    return this.last;
  }
}

/** Share of the machine's CPU capacity used by processes other than this one, between begin() and end(), in %. */
export class OtherCpuMeter {
  #start: { busy: number; own: NodeJS.CpuUsage; wall: number } | undefined;

  begin(): void {
    this.#start = { busy: machineBusySeconds(), own: process.cpuUsage(), wall: performance.now() };
  }

  end(): number {
    const s = this.#start;
    if (!s) throw new Error('OtherCpuMeter.end() before begin()');
    const own = process.cpuUsage(s.own);
    const other = machineBusySeconds() - s.busy - (own.user + own.system) / 1e6;
    const capacity = (cpus().length * (performance.now() - s.wall)) / 1000;
    return capacity > 0 ? Math.max(0, (other / capacity) * 100) : Number.NaN;
  }
}
