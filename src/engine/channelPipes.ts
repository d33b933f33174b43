// Real pipes for a run's channel, so that the runtime can keep it from the program's children.
//
// A child's descriptors stay open across exec unless they are close-on-exec. Node has no fcntl;
// what it can do is open a path, and every fs.openSync is close-on-exec. So the runtime opens its
// own copy of each inherited end through /proc/self/fd/N and closes the original (see
// runtime/channelEnds.ts). /proc reopens a pipe, but not a socket, and the 'pipe' stdio of
// child_process is a socket pair: the engine makes real pipes instead. Node cannot call pipe(2)
// either, so each one is a FIFO made in a private folder, opened at both ends and unlinked at
// once: from then on it is an anonymous pipe that only the engine and the runtime hold.
//
// One more descriptor is inherited on purpose: the run's marker, the read end of a pipe that has
// no writer (reads give end of file, writes EBADF: nothing to read, forge or hold open). The
// program's children keep it across exec, as they would any descriptor, and so does a process
// that leaves the run's session between two looks of the process tree (a `setsid` double fork):
// that is how the tree still finds it (see runtime/processTree.ts).
import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** The engine's side of a run's channel, and the descriptors to place in the child. */
export interface ChannelPipes {
  /**
   * [events, watchdog events] to read, control to write: made at the first look, after the
   * spawn (wrapping the descriptors takes milliseconds the child need not wait for).
   */
  readonly streams: [Readable, Readable, Writable];
  /** The child's ends, in the same order: give them to spawn's stdio, then call closeChildEnds(). */
  childFds: [number, number, number];
  /** The marker's descriptor, for the child too (at markerFdOf(channelFds)). */
  markerFd: number;
  /** What /proc shows for the marker (readlink): the run's processes hold it. */
  markers: string[];
  /** Closes the engine's copies of the child's ends (after spawn: the child holds them now). */
  closeChildEnds(): void;
}

let mkfifoMissing = false;

/**
 * A channel's FIFOs made ahead by stockChannelPipes(), in their private folder, for the next
 * makeChannelPipes(): making them is a process (`mkfifo`; node cannot), which a caller that must
 * not stall (the extension host, refilling its warm child mid-run) should not wait for.
 */
let stocked: { dir: string; paths: string[] } | undefined;
let stocking: Promise<void> | undefined;
let cleanupOnExit = false;

/** A private folder (mkdtemp makes it 0700: nobody else can open the FIFOs while they exist) and the FIFOs' paths in it. */
function fifoPlace(): { dir: string; paths: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'awt-channel-'));
  return { dir, paths: ['events', 'watchdog', 'control', 'marker'].map((n) => path.join(dir, n)) };
}

const mkfifoArgs = (paths: readonly string[]) => ['-m', '600', ...paths];

/** mkfifo did not make them: its folder goes, and a system with no mkfifo is not asked again. */
function mkfifoFailed(dir: string, error: Error | null | undefined): void {
  if ((error as NodeJS.ErrnoException | null | undefined)?.code === 'ENOENT') mkfifoMissing = true;
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Makes the next channel's FIFOs without blocking this thread; resolves when they are there (or
 * could not be made: makeChannelPipes then makes its own, or falls back, as before).
 */
export function stockChannelPipes(): Promise<void> {
  if (stocked || mkfifoMissing || process.platform === 'win32') return Promise.resolve();
  stocking ??= new Promise<void>((resolve) => {
    let place: { dir: string; paths: string[] };
    try {
      place = fifoPlace();
    } catch {
      stocking = undefined;
      resolve();
      return;
    }
    const { dir, paths } = place;
    execFile('mkfifo', mkfifoArgs(paths), (err) => {
      stocking = undefined;
      if (err) mkfifoFailed(dir, err);
      else {
        stocked = { dir, paths };
        if (!cleanupOnExit) {
          cleanupOnExit = true;
          // FIFOs nobody took are not left in the temp folder.
          process.once('exit', () => {
            if (stocked) fs.rmSync(stocked.dir, { recursive: true, force: true });
          });
        }
      }
      resolve();
    });
  });
  return stocking;
}

/** Whether a channel's FIFOs are made already (stockChannelPipes). */
export const channelPipesStocked = (): boolean => stocked !== undefined;

/**
 * Three pipes [events, watchdog, control], or undefined where FIFOs cannot be made (no mkfifo,
 * no writable temp folder, Windows): the caller falls back to child_process's socket pairs,
 * which the runtime cannot make close-on-exec.
 */
export function makeChannelPipes(): ChannelPipes | undefined {
  if (mkfifoMissing || process.platform === 'win32') return undefined;
  let dir: string | undefined;
  const opened: number[] = [];
  try {
    const place = stocked ?? fifoPlace();
    const paths = place.paths;
    dir = place.dir;
    if (place === stocked) stocked = undefined;
    else {
      const made = spawnSync('mkfifo', mkfifoArgs(paths), { stdio: 'ignore' });
      if (made.error || made.status !== 0) {
        mkfifoFailed(place.dir, made.error);
        dir = undefined;
        return undefined;
      }
    }
    const { O_RDONLY, O_WRONLY, O_NONBLOCK } = fs.constants;
    const open = (p: string, flags: number) => {
      const fd = fs.openSync(p, flags);
      opened.push(fd);
      return fd;
    };
    // A read end opened non-blocking first, so that opening the write end does not wait. The
    // child's ends are blocking, as child_process's are (Python reads its control pipe with
    // blocking reads): the control pipe's is opened again once it has a writer.
    const ends = paths.slice(0, 3).map((p, i) => {
      const read = open(p, O_RDONLY | O_NONBLOCK);
      const write = open(p, O_WRONLY);
      if (i < 2) return { read, write };
      const blocking = open(p, O_RDONLY);
      fs.closeSync(read);
      opened.splice(opened.indexOf(read), 1);
      return { read: blocking, write };
    });
    const markerFd = open(paths[3], O_RDONLY | O_NONBLOCK);
    for (const p of paths) fs.unlinkSync(p);
    fs.rmdirSync(dir);
    dir = undefined;
    const [events, watchdog, control] = ends;
    const childFds: [number, number, number] = [events.write, watchdog.write, control.read];
    let markers: string[] = [];
    try {
      markers = [fs.readlinkSync(`/proc/self/fd/${markerFd}`)];
    } catch {
      // no /proc: nothing to track by
    }
    let streams: [Readable, Readable, Writable] | undefined;
    let closed = false;
    return {
      get streams() {
        return (streams ??= [
          new net.Socket({ fd: events.read, readable: true, writable: false }),
          new net.Socket({ fd: watchdog.read, readable: true, writable: false }),
          new net.Socket({ fd: control.write, readable: false, writable: true }),
        ]);
      },
      childFds, markerFd, markers,
      closeChildEnds() {
        if (closed) return;
        closed = true;
        for (const fd of [...childFds, markerFd]) {
          try {
            fs.closeSync(fd);
          } catch {
            // already closed
          }
        }
      },
    };
  } catch {
    for (const fd of opened) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}
