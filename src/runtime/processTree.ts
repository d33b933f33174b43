// Every process a run started, found through /proc (Linux), so that a stop, a timeout or the end
// of the run can end them all, also those that left the runtime's process group: a `detached`
// child, a `setsid` double fork, a `start_new_session` child. Node cannot become a subreaper
// (prctl needs native code) and cgroups are rarely writable; /proc is read instead:
//
// a process belongs to the run when it was born after the runtime and
//   - its parent belongs to the run (read from /proc/<pid>/task/<tid>/children, often), or
//   - it was orphaned (it is now a child of init or of a subreaper above the runtime) and is in a
//     session or process group that a process of the run leads or led, or holds one of the
//     runtime's inherited channel descriptors (the same socket).
// Members are remembered with their start time (a pid reused later is not ours). A process
// that leaves the tree, closes every descriptor and starts a new session, all between two looks
// (100 ms apart), is not found: only a subreaper or a cgroup could find that one.
//
// Used by the engine (it looks while the run goes and ends the members) and by the watchdog
// thread (it ends the members the engine told it of when the engine is gone).
import * as fs from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  /** Start time after boot, in clock ticks: with the pid, names one process for good. */
  start: number;
}

/** /proc/<pid>/stat, or undefined when the process is gone (or there is no /proc). */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state); ppid is field 4, pgrp 5, session 6, starttime 22.
  if (f[0] === 'Z' || f[0] === 'X') return undefined; // a zombie is already ended
  return { pid, ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), start: Number(f[19]) };
}

/** True while `pid` is the process that started at `start` (and not a zombie). */
export function isAlive(pid: number, start: number): boolean {
  return readStat(pid)?.start === start;
}

/** Sends `signal` to each member still alive (checked by start time). */
export function signalAll(members: Iterable<readonly [number, number]>, signal: NodeJS.Signals): number {
  let sent = 0;
  for (const [pid, start] of members) {
    if (!isAlive(pid, start)) continue;
    try {
      process.kill(pid, signal);
      sent++;
    } catch {
      // ended meanwhile, or not ours to signal
    }
  }
  return sent;
}

export const procAvailable = (): boolean => fs.existsSync('/proc/self/stat');

export class ProcessTree {
  /** pid -> start time of every process of the run seen so far (the root included). */
  readonly members = new Map<number, number>();
  private readonly sessions = new Set<number>();
  private readonly groups = new Set<number>();
  private readonly markers = new Set<string>();
  /** Processes looked at and found not to be the run's (not looked at again). */
  private readonly strangers = new Set<number>();
  private ancestorPids: number[] | undefined;
  private readonly rootStart: number;

  /**
   * `markerFds`: the root's inherited channel descriptors (a child that keeps them is ours);
   * `markers`: what /proc shows for them, when the caller knows (the root may have moved them).
   */
  constructor(readonly root: number, markerFds: readonly number[] = [], markers: readonly string[] = []) {
    const st = readStat(root);
    this.rootStart = st?.start ?? Infinity;
    if (st) this.add(st);
    for (const m of markers) this.markers.add(m);
    for (const fd of markerFds) {
      try {
        this.markers.add(fs.readlinkSync(`/proc/${root}/fd/${fd}`));
      } catch {
        // not there (yet, or any more)
      }
    }
  }

  /** Members other than the root, alive or not. */
  descendants(): Array<[number, number]> {
    return [...this.members].filter(([pid]) => pid !== this.root);
  }

  /**
   * Looks for new members: the children of known ones (cheap), and with `full` every process
   * born since the root (sessions, groups, descriptors). Returns the members found this time.
   */
  look(full: boolean): Array<[number, number]> {
    const found: Array<[number, number]> = [];
    const add = (st: ProcStat) => {
      if (this.members.get(st.pid) === st.start) return;
      this.add(st);
      found.push([st.pid, st.start]);
    };
    // Children of the members, to a fixed point.
    const queue = [...this.members.keys()];
    while (queue.length) {
      const pid = queue.pop()!;
      for (const child of childrenOf(pid)) {
        const st = readStat(child);
        if (!st || st.start < this.rootStart || this.members.get(child) === st.start) continue;
        add(st);
        queue.push(child);
      }
    }
    if (!full) return found;
    // An orphan is adopted by the nearest subreaper above the process that left it, or by init:
    // an ancestor of the root. Their children are the only candidates (not all of /proc: on a busy
    // machine reading every /proc/<pid>/stat took 60–120 ms).
    for (let changed = true; changed;) {
      changed = false;
      for (const reaper of this.ancestors()) {
        for (const pid of childrenOf(reaper)) {
          if (this.members.has(pid) || this.strangers.has(pid)) continue;
          const st = readStat(pid);
          if (!st) continue;
          const ours = st.start >= this.rootStart &&
            (this.members.has(st.ppid) || this.sessions.has(st.session) || this.groups.has(st.pgrp) || this.holdsMarker(pid));
          if (!ours) {
            this.strangers.add(pid);
            continue;
          }
          add(st);
          changed = true;
          // What it started is ours too.
          for (const q = [pid]; q.length;) {
            for (const child of childrenOf(q.pop()!)) {
              const c = readStat(child);
              if (!c || this.members.get(child) === c.start) continue;
              add(c);
              q.push(child);
            }
          }
        }
      }
    }
    return found;
  }

  /** The root's ancestors up to init, read once (the root's parent may die: then init is left). */
  private ancestors(): number[] {
    if (!this.ancestorPids) {
      const out: number[] = [];
      let pid = readStat(this.root)?.ppid ?? 1;
      for (let i = 0; i < 64 && pid > 0; i++) {
        out.push(pid);
        if (pid === 1) break;
        pid = readStat(pid)?.ppid ?? 0;
      }
      if (!out.includes(1)) out.push(1);
      this.ancestorPids = out;
    }
    return this.ancestorPids;
  }

  private add(st: ProcStat): void {
    this.members.set(st.pid, st.start);
    this.sessions.add(st.session);
    this.groups.add(st.pgrp);
    // A member that starts a new session or group leads it: what it starts there is ours too.
    this.sessions.add(st.pid);
    this.groups.add(st.pid);
  }

  private holdsMarker(pid: number): boolean {
    if (this.markers.size === 0) return false;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      return false;
    }
    for (const fd of fds) {
      try {
        if (this.markers.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) return true;
      } catch {
        // closed meanwhile
      }
    }
    return false;
  }
}

/** Direct children of `pid`, over all its threads (a thread that spawns is their parent). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) {
        if (c) out.push(Number(c));
      }
    } catch {
      // thread ended
    }
  }
  return out;
}
