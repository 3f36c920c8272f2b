// Facts about the machine that a reader needs to compare numbers between runs: throughput scales with cores, and
// load generator and servers share them here.
import { cpus, platform, arch, totalmem, loadavg } from 'node:os';

export interface MachineFacts {
  cpuModel: string;
  cpuCount: number;
  node: string;
  totalMemoryGiB: number;
  platform: string;
  loadAverage1m: number;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    node: process.version,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${platform()} ${arch()}`,
    loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
  };
}
