// Everything the cluster benchmarks start (node processes, HAProxy, temporary directories) is registered here, so it
// is stopped on success, on failure, on SIGINT/SIGTERM, and killed synchronously if the process exits regardless.
interface Tracked {
  name: string;
  /** Synchronous last resort (process 'exit'): SIGKILL, remove directories. */
  kill: () => void;
  /** Orderly stop. */
  stop: () => Promise<void>;
}

const tracked = new Set<Tracked>();

process.on('exit', () => {
  for (const t of tracked) {
    try { t.kill(); } catch { /* best effort on the way out */ }
  }
});

/** Registers something to stop; returns a function that unregisters it (call it once stopped). */
export function track(name: string, kill: () => void, stop: () => Promise<void>): () => void {
  const entry: Tracked = { name, kill, stop };
  tracked.add(entry);
  return () => { tracked.delete(entry); };
}

/** Stops everything still registered, in parallel; failures are reported, not thrown. */
export async function stopEverything(report: (line: string) => void): Promise<void> {
  const entries = [...tracked];
  const results = await Promise.allSettled(entries.map(async (t) => { await t.stop(); tracked.delete(t); }));
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      report(`could not stop ${entries[i]!.name}: ${String(r.reason)}; killing it`);
      try { entries[i]!.kill(); } catch { /* already gone */ }
      tracked.delete(entries[i]!);
    }
  });
}
