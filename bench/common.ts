/** Shared pieces of the benchmark suites. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';

export function arg(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

/** min and median wall seconds over `repeats` runs. */
export async function time(fn: () => Promise<unknown>, repeats: number): Promise<{ min: number; median: number }> {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { min: times[0], median: times[Math.floor(times.length / 2)] };
}

/**
 * Chromium run as root renices its browser and GPU processes to −8 whatever niceness it was
 * started at; this machine's other work must not be pre-empted, so every process below this
 * one with a niceness under 5 is put back to 5 (after launch, after each page, before each run).
 */
export function reniceChildren() {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,ni='], { encoding: 'utf8' });
  if (ps.status !== 0) return;
  const procs = ps.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  const mine = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of procs) {
      if (mine.has(ppid) && !mine.has(pid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  for (const [pid, , ni] of procs) {
    if (pid === process.pid || !mine.has(pid) || !(ni < 5)) continue;
    try {
      os.setPriority(pid, 5);
    } catch {
      // gone already
    }
  }
}
