"""Hooks into the snippet's process: asyncio tasks, event-loop blocks, time.sleep, stdout/stderr."""
# Block spans: the main thread marks where a synchronous stretch begins and ends (leaving and
# entering the selector's select(), or a time.sleep call); a watchdog thread opens a block span
# once a stretch has lasted the threshold, reading the stuck line from sys._current_frames().
# So a block still going when the engine stops us is already on the wire as an open span.

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

    def finish(self, st, now):
        rec = self.rec
        with rec.lock:
            if st[CLOSED]:
                return
            st[CLOSED] = True
            end_ms = (now - rec.t0) * 1000.0
            if st[OPENED]:
                self._close(st, end_ms)
            elif now - st[START] < self.threshold:
                return  # the watchdog split the stretch: its last part is short
            else:
                label, line, column, parent = self._describe(st, None)
                rec.span(rec.next_id(), parent, 'block', label, line, column,
                         (st[START] - rec.t0) * 1000.0, end_ms, 'fulfilled')

    def _close(self, st, end_ms):
        done = dict(st[MESSAGE])
        done['endMs'] = end_ms
        done['outcome'] = 'fulfilled'
        self.rec.out.append(done)

    def check(self, now):
        """Watchdog side: opens the current stretch's block span once it is long enough.

        Several tasks may run one after another in one loop iteration (two gathered coroutines
        whose sleeps end together): when the running task changes, the block of the one before
        ends there and the next one's part is a stretch of its own, so each block belongs to the
        task that ran it.
        """
        st = self.current
        if st is None or st[END] is not None:
            return False
        if st[KIND] == 'loop' and st[LOOP] is not None:
            try:
                task = asyncio.current_task(st[LOOP])
            except Exception:
                task = None
            if st[TASK] is _NOT_SEEN:
                st[TASK] = task
            elif task is not st[TASK]:
                self._split(st, task, now)
                return False
            st[SEEN] = now
        if st[OPENED] or now - st[START] < self.threshold:
            return False
        rec = self.rec
        with rec.lock:
            if st[CLOSED] or st[END] is not None:
                return False
            frames = sys._current_frames()
            label, line, column, parent = self._describe(st, frames.get(self.main))
            st[MESSAGE] = rec.span(rec.next_id(), parent, 'block', label, line, column, (st[START] - rec.t0) * 1000.0)
            st[OPENED] = True
            if st[END] is not None and not st[CLOSED]:
                st[CLOSED] = True
                self._close(st, (st[END] - rec.t0) * 1000.0)
            rec._flush_locked()
        return True

    def _split(self, st, task, now):
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
            st[START] = at
            st[OPENED] = False
            st[MESSAGE] = None
            st[TASK] = task
            st[SEEN] = now

    def _describe(self, st, top):
        rec = self.rec
        parent = st[PARENT]
        frame = rec.snippet_frame(st[FRAME] if st[FRAME] is not None else top)
        if st[KIND] == 'loop' and st[LOOP] is not None:
            try:
                task = st[TASK] if st[TASK] is not _NOT_SEEN else asyncio.current_task(st[LOOP])
                entry = self.tasks.get(task) if task is not None else None
                if entry is not None:
                    parent = entry[0]['id']
            except Exception:
                pass
        if frame is not None:
            line = frame.f_lineno or 0
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
