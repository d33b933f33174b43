"""Hooks into the snippet's process: asyncio tasks, event-loop blocks, time.sleep, stdout/stderr."""
# Block spans: the main thread marks where a synchronous stretch begins and ends (leaving and
# entering the selector's select(), or a time.sleep call); a watchdog thread looks at the main
# thread every few ms (sys._current_frames(), and its CPU time from the kernel) and opens a block
# span once a stretch has lasted the threshold and the evidence says the snippet's own code holds
# the loop (see Evidence). So a block still going when the engine stops us is already on the wire
# as an open span. A stretch without that evidence (the machine kept the process off a CPU, asyncio
# or the tool ran) is a delay, "event loop delayed: not your code", as node's watchdog reports it.
# A time.sleep in the snippet is a block by definition: it is a blocking call of the snippet's.

import asyncio
import asyncio.base_events
import functools
import os
import sys
import time
import types
import weakref
import _thread

from _awtl_recorder import current_span, reason_of, call_preview

_perf = time.perf_counter
_get_ident = _thread.get_ident
_getframe = sys._getframe
real_sleep = time.sleep
_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)
_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LOOP_HOUSEKEEPING = frozenset(['shutdown_asyncgens', 'shutdown_default_executor'])
# Tasks and coroutines nobody awaited, noted for the end of the run (the first ones).
_MAX_FLOATING = 200


# A stretch is a plain list, not an object: the event loop starts one per iteration, and a list
# display costs a third of an instance with __init__ (this is the sleep(0) loop's overhead).
# Fields: start, end (None while going), 'loop' (callbacks running) or 'sleep' (time.sleep),
# caller frame, parent span, loop, opened by the watchdog, closed, the open span message, the task
# the watchdog saw running (False: not looked yet) and when it last saw it.
START, END, KIND, FRAME, PARENT, LOOP, OPENED, CLOSED, MESSAGE, TASK, SEEN = range(11)
_NOT_SEEN = False
# The main thread's CPU (ms) that shows it ran the snippet's line rather than waited for a CPU
# (see Evidence.held): a callback the machine keeps off a CPU uses well under this before it returns.
HELD_CPU_MS = 5.0
# asyncio's own frames between callbacks: a look that reaches one before the snippet's code found
# the loop running, not the snippet (the snippet's module frame is below them, in asyncio.run()).
# So does one in asyncio.run's runner (its set-up and clean-up around the loop).
_LOOP_FRAMES = frozenset(['_run_once', 'run_forever', 'run_until_complete'])
_RUNNERS_FILE = os.path.join(_ASYNCIO_DIR, 'runners.py')
DELAYED = 'event loop delayed: not your code'
# As node's watchdog: with AWAIT_TIMELINE_DEBUG set, how each long stretch was decided, on stderr.
_DEBUG = bool(os.environ.get('AWAIT_TIMELINE_DEBUG'))


def _debug(text):
    try:
        os.write(2, ('[watchdog] %s\n' % text).encode())
    except OSError:
        pass


def open_sched(tid):
    """The thread's /proc schedstat, on a descriptor above the program's (its first open() still
    gets fd 3), close-on-exec. None where there is none (not Linux): then the looks alone decide."""
    try:
        import fcntl
        fd = os.open('/proc/self/task/%d/schedstat' % tid, os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, ImportError, AttributeError):
        return None
    try:
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64)
    except OSError:
        high = None
    os.close(fd)
    if high is not None and read_sched(high) is None:
        os.close(high)
        return None
    return high


def read_sched(fd):
    """(ms on a CPU, ms runnable but waiting for one) from schedstat's three numbers (ns, ns, count);
    None when the descriptor is no longer that file (the program closed it, os.closerange(3, 256),
    and may have reused the number)."""
    try:
        fields = os.pread(fd, 96, 0).split()
        if len(fields) != 3:
            return None
        return int(fields[0]) / 1e6, int(fields[1]) / 1e6
    except (OSError, ValueError):
        return None


class Evidence:
    """What the watchdog's looks found in one stretch of the loop (or one task's part of it).

    A look finds the snippet's code running (at a line of the snippet's file, not below asyncio's
    loop and not inside the tool's own code) or not (asyncio between callbacks, the tool's
    bookkeeping, no Python frame). A look needs the GIL, so it happens only where the main thread
    lets go of it: between bytecodes it is running, or in a call that waits (a blocking call). The
    evidence that the snippet's own code holds the loop, with the main thread's CPU time and run
    delay from its /proc schedstat (node's watchdog, watchdog.ts, decided by rules 2 and 3 too
    until it counted the snippet's clock reads: see `clocked` there):
    1. a look found the snippet's code and the main thread used the threshold of CPU in the
       stretch; or
    2. looks in a row, spread over a quarter of the threshold, found one line of the snippet's, and
       in between the main thread used HELD_CPU_MS of CPU (it ran that line: a spin on a busy
       machine), or the looks came regularly (no gap over a quarter of the threshold) and the main
       thread mostly did not wait for a CPU in between: it was in a blocking call made there,
       which let go of the GIL (a process stopped and continued, SIGSTOP/SIGCONT, stops the
       watchdog too: its looks before and after are one long gap apart); or
    3. the main thread used HELD_CPU_MS of CPU while every look found the snippet's code: from
       the stretch's start when all of its looks did, else from the look before the latest looks
       in a row at one line; to the last look, or to the stretch's end when it is over. This one
       needs a single look: on a saturated machine the watchdog thread, which needs a CPU and the
       GIL to look, may get one look into a 300 ms spin (node's watchdog then has too few samples
       and reads a delay), and the spin's share of a CPU over it is still far more than what a
       callback that the machine kept off a CPU uses.
    Without /proc: looks in a row at one line, coming regularly over a quarter of the threshold.
    CPU counts start at the stretch's start taken as on a CPU all the time since the look before
    it, so a stretch is never given more CPU than it used.
    """

    __slots__ = ('threshold', 'cpu0', 'prev_cpu', 'looks', 'user', 'where', 'run')

    def __init__(self, threshold, cpu0):
        self.threshold = threshold
        self.cpu0 = cpu0
        self.prev_cpu = cpu0  # at the look before the latest one (the stretch's start for the first)
        self.looks = 0
        self.user = 0
        # (label, line, column) of the snippet's line the latest look that found one found.
        self.where = None
        # The latest looks in a row at one line: [key, n, first time, first CPU, first delay,
        # last time, last CPU, last delay, CPU at the look before the first, time and delay at
        # the first of its latest looks that came regularly].
        self.run = None

    def look(self, key, where, t, sched):
        cpu, delay = sched if sched is not None else (None, None)
        before = self.prev_cpu
        self.prev_cpu = cpu
        self.looks += 1
        if key is None:
            self.run = None
            return
        self.user += 1
        self.where = where
        run = self.run
        if run is not None and run[0] == key:
            run[1] += 1
            if t - run[5] > self.threshold / 4:
                run[9], run[10] = t, delay
            run[5], run[6], run[7] = t, cpu, delay
        else:
            self.run = [key, 1, t, cpu, delay, t, cpu, delay, before, t, delay]

    def proves(self, sched, final=False):
        """Which evidence shows the snippet's code held the loop ('cpu', 'held', 'call', 'share':
        the rules above, in order), None when none does; `sched` read now (at the stretch's end
        when `final`)."""
        threshold = self.threshold
        if not self.user:
            return False
        run = self.run
        cpu = sched[0] if sched is not None else None
        if self.cpu0 is not None and cpu is not None and cpu - self.cpu0 >= threshold * 1000.0:
            return 'cpu'
        if run is None:
            return False
        if (run[1] >= 2 and run[5] - run[2] >= threshold / 4 and run[3] is not None and run[6] is not None
                and run[6] - run[3] >= HELD_CPU_MS):
            return 'held'
        if run[5] - run[9] >= threshold / 4 and (run[7] is None or run[7] - run[10] <= (run[5] - run[9]) * 1000.0 / 2):
            return 'call'  # in a blocking call at that line (without /proc: the looks in a row)
        end = cpu if final and cpu is not None else run[6]
        if end is None:
            return False
        start = self.cpu0 if self.user == self.looks else run[8]
        return 'share' if start is not None and end - start >= HELD_CPU_MS else None

    def __repr__(self):
        run = self.run
        return 'looks %d user %d cpu0 %s run %s' % (self.looks, self.user, self.cpu0, run and [
            run[1], round(run[5] - run[2], 4), run[6] is not None and run[3] is not None and round(run[6] - run[3], 2),
            run[8] is not None and run[6] is not None and round(run[6] - run[8], 2)])


class Blocks:
    """Synchronous stretches of the main thread; those of at least the threshold become spans."""

    def __init__(self, rec, threshold_ms, line_labels, tasks):
        self.rec = rec
        self.threshold = max(threshold_ms, 1.0) / 1000.0
        self.line_labels = line_labels
        self.tasks = tasks
        self.main = _get_ident()
        self.current = None
        self.stopping = False
        # Watchdog side: the main thread's CPU-time file (made here, on the main thread), the last
        # look (time, schedstat reading), and the evidence on the stretch it is about. The lock
        # keeps the watchdog's looks, a stop request's look and the main thread's end of a stretch
        # apart (taken before rec.lock).
        self.sched_fd = open_sched(_thread.get_native_id())
        self.last_look = None
        self.ev_st = None
        self.ev = None
        self.lock = _thread.allocate_lock()
        if hasattr(os, 'register_at_fork'):
            # A fork may come while the watchdog, which a forked child has not, holds the lock.
            os.register_at_fork(after_in_child=self._forked)

    def _forked(self):
        self.lock = _thread.allocate_lock()

    def begin(self, kind, frame=None, parent=0, loop=None):
        self.current = [_perf(), None, kind, frame, parent, loop, False, False, None, _NOT_SEEN, 0.0]

    def end(self):
        st = self.current
        if st is None:
            return
        self.current = None
        now = _perf()
        # The watchdog may open the span concurrently: storing the end before reading `opened`,
        # and the lock, make sure exactly one side sends the close.
        st[1] = now  # END
        if st[6] or now - st[0] >= self.threshold:  # OPENED, START
            self.finish(st, now)

    def sched(self):
        """The main thread's (CPU ms, run delay ms) now; None without /proc (or once the program
        closed our descriptor: from then on the looks alone decide)."""
        fd = self.sched_fd
        if fd is None:
            return None
        reading = read_sched(fd)
        if reading is None:
            self.sched_fd = None
        return reading

    def finish(self, st, now):
        rec = self.rec
        # A long stretch of the loop that no look has proven yet: the CPU to its end decides.
        sched = self.sched() if st[KIND] == 'loop' and not st[OPENED] else None
        with self.lock, rec.lock:
            if st[CLOSED]:
                return
            st[CLOSED] = True
            end_ms = (now - rec.t0) * 1000.0
            if st[OPENED]:
                self._close(st, end_ms)
            elif now - st[START] < self.threshold:
                return  # the watchdog split the stretch: its last part is short
            elif st[KIND] == 'loop':
                ev = self.ev if self.ev_st is st else None
                why = ev.proves(sched, final=True) if ev is not None else None
                if _DEBUG:
                    _debug('stretch %.0f ms at its end: %s (%r)' % ((now - st[START]) * 1000.0, why or 'delay', ev))
                if why:
                    label, line, column, parent = self._describe(st, None, ev.where)
                    rec.span(rec.next_id(), parent, 'block', label, line, column,
                             (st[START] - rec.t0) * 1000.0, end_ms, 'fulfilled')
                else:
                    self._delay(st[START], now)
            else:
                label, line, column, parent = self._describe(st, None)
                rec.span(rec.next_id(), parent, 'block', label, line, column,
                         (st[START] - rec.t0) * 1000.0, end_ms, 'fulfilled')

    def _delay(self, start, end):
        """The loop was held or late without the snippet's code holding it (see Evidence): the
        neutral mark node's watchdog sends too, never a block."""
        t0 = self.rec.t0
        self.rec.out.append({'type': 'delay', 'kind': 'delayed', 'label': DELAYED,
                             'startMs': (start - t0) * 1000.0, 'endMs': (end - t0) * 1000.0})

    def _close(self, st, end_ms):
        done = dict(st[MESSAGE])
        done['endMs'] = end_ms
        done['outcome'] = 'fulfilled'
        self.rec.out.append(done)

    def check(self, now, stop=False):
        """Watchdog side (and the stop request's): looks at the main thread, and opens the current
        stretch's block span once it is long enough and the evidence is in (a time.sleep: once it
        is long enough). At a stop, a look that found the snippet's code is enough (as node's
        watchdog: the report of a stopped endless loop names its line).

        Several tasks may run one after another in one loop iteration (two gathered coroutines
        whose sleeps end together): when the running task changes, the block of the one before
        ends there and the next one's part is a stretch of its own, so each block belongs to the
        task that ran it.
        """
        with self.lock:
            sched = self.sched()
            t = _perf()
            last = self.last_look
            self.last_look = (t, sched)
            st = self.current
            if st is None or st[END] is not None:
                return False
            loop_stretch = st[KIND] == 'loop'
            if loop_stretch and st[LOOP] is not None:
                try:
                    task = asyncio.current_task(st[LOOP])
                except Exception:
                    task = None
                if st[TASK] is _NOT_SEEN:
                    st[TASK] = task
                elif task is not st[TASK]:
                    self._split(st, task, t, sched)
                    return False
                st[SEEN] = t
            if loop_stretch:
                if self.ev_st is not st:
                    # Its CPU counts from its start, taking the main thread as on a CPU all the
                    # time since the look before (so never more than it used).
                    cpu0 = None
                    if sched is not None:
                        cpu0 = sched[0]
                        if last is not None and last[1] is not None:
                            cpu0 = min(cpu0, last[1][0] + max(0.0, st[START] - last[0]) * 1000.0)
                    self.ev_st = st
                    self.ev = Evidence(self.threshold, cpu0)
                ev = self.ev
                top = sys._current_frames().get(self.main)
                key, where = self._where(top)
                ev.look(key, where, t, sched)
            if st[OPENED] or t - st[START] < self.threshold:
                return False
            if loop_stretch:
                why = ev.proves(sched) or (stop and ev.user and 'stop')
                if not why:
                    return False
                if _DEBUG:
                    _debug('stretch %.0f ms so far: %s (%r)' % ((t - st[START]) * 1000.0, why, ev))
            rec = self.rec
            with rec.lock:
                if st[CLOSED] or st[END] is not None:
                    return False
                if loop_stretch:
                    label, line, column, parent = self._describe(st, None, ev.where)
                else:
                    label, line, column, parent = self._describe(st, sys._current_frames().get(self.main))
                st[MESSAGE] = rec.span(rec.next_id(), parent, 'block', label, line, column, (st[START] - rec.t0) * 1000.0)
                st[OPENED] = True
                if st[END] is not None and not st[CLOSED]:
                    st[CLOSED] = True
                    self._close(st, (st[END] - rec.t0) * 1000.0)
                rec._flush_locked()
            return True

    def _where(self, top):
        """The snippet's line a look found running: (key, (label, line, column)); (None, None)
        when no code of the snippet's was running (asyncio between callbacks, the tool's own
        bookkeeping, no Python frame)."""
        frame = top
        if frame is None or frame.f_code.co_filename.startswith(_RUNTIME_DIR):
            return None, None
        file = self.rec.snippet_file
        while frame is not None:
            code = frame.f_code
            if code.co_filename == file:
                break
            if (code.co_name in _LOOP_FRAMES and code.co_filename.startswith(_ASYNCIO_DIR)) or code.co_filename == _RUNNERS_FILE:
                return None, None
            frame = frame.f_back
        if frame is None:
            return None, None
        frame = self._past_header(frame)
        line = frame.f_lineno or 0
        label, column = self.line_labels.get(line, ('line %d' % line, 1))
        return (frame.f_code, line), (label, line, column)

    def _past_header(self, frame):
        """`frame`, or, while it stands at its function's header (entered, no line of its body
        begun: where Python's eval loop hands the GIL over at a call, so where a look often lands
        in a loop of calls), the snippet's frame that called it: that call's line is what runs."""
        file = self.rec.snippet_file
        while frame.f_code.co_name != '<module>' and (frame.f_lineno or 0) == frame.f_code.co_firstlineno:
            up = frame.f_back
            while up is not None and up.f_code.co_filename != file:
                up = up.f_back
            if up is None:
                break
            frame = up
        return frame

    def _split(self, st, task, now, sched):
        rec = self.rec
        with rec.lock:
            if st[CLOSED] or st[END] is not None:
                return
            # The switch happened between the last look and this one; when the task before was
            # the snippet's coroutine and it returned, its end says exactly when.
            at = (st[SEEN] + now) / 2 if st[SEEN] else now
            entry = self.tasks.get(st[TASK]) if st[TASK] is not None else None
            finished = rec.task_finished.get(entry[0]['id']) if entry is not None else None
            if finished is not None:
                finished = finished / 1000.0 + rec.t0
                if st[START] <= finished <= now:
                    at = finished
            if st[OPENED]:
                self._close(st, (at - rec.t0) * 1000.0)
            elif at - st[START] >= self.threshold:
                # The task before held the loop that long without its block opened yet: the
                # evidence so far (to its last look) decides.
                ev = self.ev if self.ev_st is st else None
                why = ev.proves(None) if ev is not None else None
                if _DEBUG:
                    _debug('task part %.0f ms: %s (%r)' % ((at - st[START]) * 1000.0, why or 'delay', ev))
                if why:
                    label, line, column, parent = self._describe(st, None, ev.where)
                    rec.span(rec.next_id(), parent, 'block', label, line, column,
                             (st[START] - rec.t0) * 1000.0, (at - rec.t0) * 1000.0, 'fulfilled')
                else:
                    self._delay(st[START], at)
            st[START] = at
            st[OPENED] = False
            st[MESSAGE] = None
            st[TASK] = task
            st[SEEN] = now
            # The next part's evidence starts here: its CPU from this look's (at most what it used).
            self.ev_st = st
            self.ev = Evidence(self.threshold, sched[0] if sched is not None else None)

    def _describe(self, st, top, where=None):
        rec = self.rec
        parent = st[PARENT]
        frame = rec.snippet_frame(st[FRAME] if st[FRAME] is not None else top) if where is None else None
        if st[KIND] == 'loop' and st[LOOP] is not None:
            try:
                task = st[TASK] if st[TASK] is not _NOT_SEEN else asyncio.current_task(st[LOOP])
                entry = self.tasks.get(task) if task is not None else None
                if entry is not None:
                    parent = entry[0]['id']
            except Exception:
                pass
        if where is not None:
            label, line, column = where
            return label, line, column, parent
        if frame is not None:
            line = self._past_header(frame).f_lineno or 0
            label, column = self.line_labels.get(line, ('line %d' % line, 1))
            return label, line, column, parent
        name = top.f_code.co_name if top is not None else '?'
        return 'event loop blocked in ' + name + '()', 0, 0, parent

    def watch(self):
        interval = max(0.002, min(0.01, self.threshold / 5))
        last_flush = _perf()
        rec = self.rec
        reported = False
        while not self.stopping:
            real_sleep(interval)
            now = _perf()
            try:
                self.check(now)
                if rec.out and now - last_flush >= 0.05:
                    rec.flush()
                    last_flush = now
            except Exception as exc:
                if not reported:
                    reported = True
                    rec.emit({'type': 'error', 'phase': 'internal', 'message': 'watchdog: %r' % exc})


def install_sleep(blocks):
    main = blocks.main

    @functools.wraps(real_sleep)
    def sleep(secs):
        if _get_ident() != main:
            return real_sleep(secs)
        prev = blocks.current
        loop = prev[LOOP] if prev is not None and prev[KIND] == 'loop' else None
        blocks.end()
        blocks.begin('sleep', _getframe(1), current_span.get())
        try:
            return real_sleep(secs)
        finally:
            blocks.end()
            if loop is not None:
                blocks.begin('loop', None, 0, loop)

    time.sleep = sleep


def install_asyncio(rec, blocks):
    """Task spans through a task factory on every new loop; loop stretches through select()."""
    tasks = blocks.tasks
    main = blocks.main
    threshold = blocks.threshold
    Task = asyncio.tasks.Task
    cap = rec.cap
    per_line = {}
    user_factories = weakref.WeakKeyDictionary()  # loop -> the factory the program set
    # (task, span id, coroutine frame) of the snippet's coroutines not yet seen running.
    unstarted = []

    def close_unstarted():
        keep = []
        for ref, sid, frame in unstarted:
            if frame.f_lasti >= 0 or sid not in rec.root_tasks:
                continue  # running: its own end closes it
            task = ref()
            if task is None:
                continue  # collected unstarted: pending, as the program left it
            if not task.done():
                keep.append((ref, sid, frame))
                continue
            message = rec.root_tasks.pop(sid)
            rec.open_tasks.discard(sid)
            rec.task_roots.pop(frame, None)
            if task.cancelled():
                rec.close_span(message, 'rejected', message['label'] + ' \u2192 cancelled')
            else:
                exc = getattr(task, '_exception', None)
                if exc is None:
                    rec.close_span(message, 'fulfilled')
                else:
                    rec.close_span(message, 'rejected', message['label'] + ' \u2192 ' + reason_of(exc))
        unstarted[:] = keep

    def make_task(loop, coro, kwargs):
        user = user_factories.get(loop)
        if user is not None:
            return user(loop, coro, **kwargs)
        task = Task(coro, loop=loop, **kwargs)
        trace = getattr(task, '_source_traceback', None)
        if trace and trace[-1].filename.startswith(_RUNTIME_DIR):
            # Debug mode's "created at": as without us, where the code that called create_task()
            # is (the task's own creator, create_task() itself, is left out, as Future does).
            while trace and trace[-1].filename.startswith(_RUNTIME_DIR):
                del trace[-1]
            if trace:
                del trace[-1]
        return task

    def done(task):
        entry = tasks.pop(task, None)
        if entry is None:
            return
        message, frame = entry
        rec.open_tasks.discard(message['id'])
        if frame is not None:
            rec.task_roots.pop(frame, None)
        end_ms = rec.task_finished.pop(message['id'], None)
        if task.cancelled():
            rec.close_span(message, 'rejected', message['label'] + ' \u2192 cancelled', end_ms)
            return
        # Reading _exception (not exception()) leaves "exception was never retrieved" as it was.
        exc = getattr(task, '_exception', None)
        if exc is None:
            rec.close_span(message, 'fulfilled', None, end_ms)
        else:
            rec.close_span(message, 'rejected', message['label'] + ' \u2192 ' + reason_of(exc), end_ms)

    def task_factory(loop, coro, **kwargs):
        code = getattr(coro, 'cr_code', None)
        if code is not None and code.co_name in _LOOP_HOUSEKEEPING and code.co_filename.startswith(_ASYNCIO_DIR):
            return make_task(loop, coro, kwargs)  # asyncio.run's own clean-up, not the snippet's
        caller = _getframe(1)
        if code is not None and code.co_filename.startswith(_ASYNCIO_DIR):
            first = caller
            from_loop = False
            while first is not None and first.f_code.co_filename.startswith(_ASYNCIO_DIR):
                from_loop = from_loop or first.f_code.co_name == '_run_once'
                first = first.f_back
            if from_loop or first is None or first.f_code.co_filename != rec.snippet_file:
                # asyncio's own coroutine started by the loop itself, not by the snippet's code
                # (a server accepting a connection): plumbing, not something the user started.
                return make_task(loop, coro, kwargs)
        where = rec.snippet_frame(caller)
        key = (where.f_code, where.f_lineno) if where is not None else None
        n = per_line.get(key, 0) + 1
        per_line[key] = n
        if n > cap:
            rec.extra_dropped += 1
            return make_task(loop, coro, kwargs)
        sid = rec.next_id()
        parent = rec.open_ancestor(current_span.get())
        rec.parents[sid] = parent
        context = kwargs.get('context')
        if context is not None:
            try:
                context.run(current_span.set, sid)
            except RuntimeError:
                pass
            task = make_task(loop, coro, kwargs)
        else:
            token = current_span.set(sid)
            try:
                task = make_task(loop, coro, kwargs)
            finally:
                current_span.reset(token)
        frame = getattr(coro, 'cr_frame', None)
        root_site = None
        label = getattr(coro, '__qualname__', None) or type(coro).__name__
        line, column = rec.frame_position(where) if where is not None else (0, 0)
        if frame is not None and code is not None:
            names = code.co_varnames
            # co_argcount counts the positional-only parameters too.
            kwonly_end = code.co_argcount + code.co_kwonlyargcount
            params = (list(names[:code.co_argcount]),
                      names[kwonly_end] if code.co_flags & 0x04 else None,  # CO_VARARGS
                      list(names[code.co_argcount:kwonly_end]), None)
            if params[0] and params[0][0] in ('self', 'cls'):
                params = (params[0][1:],) + params[1:]
            site = rec.definitions.get((code.co_firstlineno, code.co_name)) if code.co_filename == rec.snippet_file else None
            if site is not None:
                # The task stands for a call of the snippet's function: the call's row, at its
                # definition, as a call is drawn (see the span model in timeline.ts).
                info = rec.sites[site]
                params = info.params
                label = info.label
                line, column = info.line, info.column
                rec.task_roots[frame] = sid
                root_site = site
            else:
                label = label.replace('.<locals>', '')
            try:
                label = call_preview(label, frame.f_locals, params)
            except Exception:
                pass
        message = rec.span(sid, parent, 'task', label, line, column, rec.now_ms())
        tasks[task] = (message, frame)
        rec.open_tasks.add(sid)
        if root_site is None:
            task.add_done_callback(done)
        else:
            # The snippet's own coroutine: its span ends when the coroutine returns or raises (the
            # recorder's _awtl_se), with no done-callback of ours for print(task) to show. One that
            # never starts (cancelled first) is closed from the loop (see close_unstarted).
            rec.root_tasks[sid] = message
            rec.site_open[root_site] += 1
            unstarted.append((weakref.ref(task), sid, frame))
        return task

    task_group = getattr(asyncio, 'TaskGroup', None)
    coroutine_type = types.CoroutineType
    floating = rec.floating

    def _awtl_fl(site, value):
        # A statement dropped what this call returned. A coroutine nobody awaits never runs; a task
        # nobody keeps runs on, unseen. Noted here (the coroutine only as a fact: holding it would
        # move python3's "was never awaited" warning), said at the end of the run.
        try:
            if len(floating) >= _MAX_FLOATING:
                return value
            if type(value) is coroutine_type:
                floating.append((site, None, 0))
            elif isinstance(value, asyncio.Future):
                for callback, _ctx in getattr(value, '_callbacks', None) or ():
                    if task_group is not None and isinstance(getattr(callback, '__self__', None), task_group):
                        return value  # a TaskGroup's task: the group awaits it
                entry = tasks.get(value)
                sid = 0
                if entry is not None:
                    entry[0]['floating'] = True
                    sid = entry[0]['id']
                floating.append((site, weakref.ref(value), sid))
        except Exception:
            pass
        return value

    import builtins
    builtins.__dict__['_awtl_fl'] = _awtl_fl

    # The program's main coroutine returned and asyncio.run is about to cancel the tasks still
    # waiting: what each waits on is read now, before the cancel rewrites it (the same report as
    # at a stop, taken on the main thread).
    import asyncio.runners as runners
    import _awtl_pending
    original_cancel_all = getattr(runners, '_cancel_all_tasks', None)
    if original_cancel_all is not None:
        def _cancel_all_tasks(loop):
            try:
                if _get_ident() == main:
                    still = _awtl_pending.report([t for t in list(tasks) if t.get_loop() is loop], rec.snippet_file, rec, 'exit')
                    if still is not None:
                        rec.emit(still)
                        rec.reported = True
            except Exception:
                pass
            return original_cancel_all(loop)
        functools.update_wrapper(_cancel_all_tasks, original_cancel_all)
        runners._cancel_all_tasks = _cancel_all_tasks

    def wrap_selector(loop):
        selector = getattr(loop, '_selector', None)
        # Only the standard library's selectors: a program's own (a test's mock) stays as it is.
        if selector is None or type(selector).__module__ != 'selectors':
            return
        if getattr(selector.select, '_awtl_loop', None) is loop:
            return
        select = selector.select

        def timed_select(timeout=None):
            if _get_ident() != main:
                return select(timeout)
            if unstarted:
                close_unstarted()
            # blocks.end(), inlined: this runs once per event-loop iteration.
            st = blocks.current
            if st is not None:
                blocks.current = None
                now = _perf()
                st[1] = now  # END, stored before OPENED is read
                if st[6] or now - st[0] >= threshold:
                    blocks.finish(st, now)
            try:
                return select(timeout)
            finally:
                blocks.current = [_perf(), None, 'loop', None, 0, loop, False, False, None, _NOT_SEEN, 0.0]

        timed_select._awtl_loop = loop
        selector.select = timed_select

    base = asyncio.base_events.BaseEventLoop
    original_init = base.__init__
    original_get_factory = base.get_task_factory
    original_set_factory = base.set_task_factory
    selector_loop = asyncio.selector_events.BaseSelectorEventLoop
    original_selector_init = selector_loop.__init__
    original_close = selector_loop.close

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        # Ours, set underneath: get_task_factory() still reads None, and a factory the program
        # sets is called by ours (chained), not replaced.
        self._task_factory = task_factory

    def get_task_factory(self):
        if self._task_factory is task_factory:
            return user_factories.get(self)
        return original_get_factory(self)

    def set_task_factory(self, factory):
        if factory is not None and not callable(factory):
            raise TypeError('task factory must be a callable or None')
        if self._task_factory is task_factory or self._task_factory is None:
            if factory is None:
                user_factories.pop(self, None)
            else:
                user_factories[self] = factory
            self._task_factory = task_factory
        else:
            original_set_factory(self, factory)

    def selector_init(self, *args, **kwargs):
        original_selector_init(self, *args, **kwargs)
        # The selector exists once BaseSelectorEventLoop.__init__ has run: wrap it here (not in a
        # run_forever wrapper, whose frame showed in the program's tracebacks).
        try:
            wrap_selector(self)
        except Exception:
            pass

    def close(self):
        # The loop's last stretch ends when it is closed (asyncio.run closes it).
        if _get_ident() == main:
            st = blocks.current
            if st is not None and st[LOOP] is self:
                blocks.end()
        return original_close(self)

    for name, fn, original in (('__init__', __init__, original_init), ('get_task_factory', get_task_factory, original_get_factory),
                               ('set_task_factory', set_task_factory, original_set_factory)):
        functools.update_wrapper(fn, original)
        setattr(base, name, fn)
    for name, fn, original in (('__init__', selector_init, original_selector_init), ('close', close, original_close)):
        functools.update_wrapper(fn, original)
        setattr(selector_loop, name, fn)

    original_run_in_executor = base.run_in_executor

    def run_in_executor(self, executor, func, *args):
        # Executor work belongs to the await that waits for it: the thread runs it with that span
        # current (only our variable: the function still sees the worker thread's own context).
        parent = current_span.get()
        if parent and callable(func):
            inner = func

            def func(*args):
                token = current_span.set(parent)
                try:
                    return inner(*args)
                finally:
                    current_span.reset(token)
            func.__awtl_hidden__ = True
        return original_run_in_executor(self, executor, func, *args)

    functools.update_wrapper(run_in_executor, original_run_in_executor)
    base.run_in_executor = run_in_executor


class StreamTap:
    """Stands in for sys.stdout / sys.stderr: forwards every write unchanged, marks each line."""

    MAX_MARKS = 10000

    def __init__(self, real, kind, rec):
        self._awtl_real = real
        self._awtl_kind = kind
        self._awtl_rec = rec
        self._awtl_pending = ''
        self._awtl_at = None
        self._awtl_marks = 0

    def write(self, text):
        n = self._awtl_real.write(text)
        try:
            self._awtl_record(text)
        except Exception:
            pass
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._awtl_real, name)

    def __iter__(self):
        return iter(self._awtl_real)

    def _awtl_record(self, text):
        rec = self._awtl_rec
        if not isinstance(text, str) or not text or self._awtl_marks >= self.MAX_MARKS or rec.broken:
            return
        if self._awtl_at is None:
            # Our caller's caller (print() itself is C); there may be no Python frame at all.
            frame = rec.snippet_frame(_getframe(1).f_back)
            self._awtl_at = (rec.now_ms(), rec.frame_position(frame) if frame is not None else None)
        pending = self._awtl_pending + text
        while '\n' in pending and self._awtl_marks < self.MAX_MARKS:
            line, pending = pending.split('\n', 1)
            self._awtl_emit(line)
        self._awtl_pending = pending
        if not pending:
            self._awtl_at = None

    def _awtl_emit(self, line):
        at_ms, position = self._awtl_at
        mark = {'type': 'mark', 'kind': self._awtl_kind, 'text': line, 'atMs': at_ms}
        if position is not None:
            mark['line'], mark['column'] = position
        self._awtl_rec.out.append(mark)
        self._awtl_marks += 1

    def _awtl_flush_pending(self):
        if self._awtl_pending and self._awtl_at is not None:
            self._awtl_emit(self._awtl_pending)
        self._awtl_pending = ''
        self._awtl_at = None


def install_streams(rec):
    taps = []
    for name, kind in (('stdout', 'stdout'), ('stderr', 'stderr')):
        real = getattr(sys, name)
        if real is None:
            continue
        tap = StreamTap(real, kind, rec)
        setattr(sys, name, tap)
        taps.append(tap)
    return taps
