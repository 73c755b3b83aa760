// A process's CPU time, for the benchmark's "CPU per request" figures.
import { readFileSync } from 'node:fs';

/**
 * A process's CPU time so far (user + system, all threads) in ms, from Linux's /proc; null
 * elsewhere. Steadier than throughput on a shared machine: a neighbour slowing the cores changes
 * how long the work takes, much less how much work there is.
 */
export function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields after the command name: state is field 3; utime and stime are fields 14 and 15, in
    // clock ticks (USER_HZ, 100 on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}
