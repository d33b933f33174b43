"""Time warp for a Python run: when the event loop waits only for timers, its clock jumps ahead."""
# asyncio schedules every timer against loop.time() (time.monotonic()) and sleeps in the
# selector's select(timeout) until the next one is due. When nothing else can wake the loop (no
# registered file descriptor but the loop's own self-pipe, no executor job, no thread of the
# program's own), select() does not sleep: the clock jumps by `timeout` and select() returns, so
# the next timer is due at once. Everything the snippet reads of time (time.monotonic, time.time,
# time.perf_counter and their _ns forms, loop.time()) sees the same virtual clock; synchronous
# work, time.sleep and real I/O take their real time. Ordering is asyncio's own: nothing but the
# clock changes.

import asyncio
import asyncio.base_events
import functools
import threading
import time

_state = {'offset': 0.0}


def offset_seconds():
    return _state['offset']


def _virtual(real, scale):
    @functools.wraps(real)
    def clock():
        return real() + _state['offset'] * scale
    return clock


def _virtual_ns(real):
    @functools.wraps(real)
    def clock():
        return real() + int(_state['offset'] * 1e9)
    return clock


def install(on_jump, deadline=None, now=None, on_deadline=None):
    """Warps the clock; `on_jump(seconds)` moves the recorder's time 0 back by as much.

    `deadline` (seconds of program time, with `now()` the program time now): the run's timeout on
    the program's clock. The clock never jumps past it: when the loop waits for nothing sooner (a
    timer past it, or nothing at all that could wake it), the clock goes to the deadline and
    `on_deadline(seconds)` is called once; from then on time passes at its real rate.
    """
    dl = {'at': deadline}
    for name in ('monotonic', 'time', 'perf_counter'):
        setattr(time, name, _virtual(getattr(time, name), 1))
    for name in ('monotonic_ns', 'time_ns', 'perf_counter_ns'):
        setattr(time, name, _virtual_ns(getattr(time, name)))

    in_flight = {'jobs': 0}
    base = asyncio.base_events.BaseEventLoop
    original_run_in_executor = base.run_in_executor

    @functools.wraps(original_run_in_executor)
    def run_in_executor(self, executor, func, *args):
        future = original_run_in_executor(self, executor, func, *args)
        in_flight['jobs'] += 1

        def finished(_):
            in_flight['jobs'] -= 1
        future.add_done_callback(finished)
        return future
    base.run_in_executor = run_in_executor

    main_thread = threading.main_thread()

    def program_threads_busy():
        try:
            from concurrent.futures import thread as cf_thread
            pool_threads = set(cf_thread._threads_queues.keys())
        except Exception:
            pool_threads = set()
        for t in threading.enumerate():
            if t is not main_thread and t not in pool_threads and t.is_alive():
                return True
        return False

    def idle(loop, selector):
        if in_flight['jobs'] > 0:
            return False
        own = getattr(loop, '_ssock', None)
        own_fd = own.fileno() if own is not None else None
        try:
            for key in selector.get_map().values():
                if key.fd != own_fd:
                    return False  # a socket, a pipe, a subprocess: real I/O in flight
        except Exception:
            return False
        return not program_threads_busy()

    def warp_selector(loop):
        selector = getattr(loop, '_selector', None)
        if selector is None or getattr(selector.select, '_awtl_warp', None) is loop:
            return
        select = selector.select

        def warped_select(timeout=None):
            if (timeout is None or timeout > 0) and (timeout is not None or dl['at'] is not None) and idle(loop, selector):
                events = select(0)
                if events:
                    return events
                at = dl['at']
                if at is not None:
                    left = at - now()
                    if timeout is None or timeout >= left:
                        # Nothing sooner than the run's timeout: the clock goes there, no further.
                        dl['at'] = None
                        if left > 0:
                            _state['offset'] += left
                            on_jump(left)
                        on_deadline(now())
                        return select(timeout)
                _state['offset'] += timeout
                on_jump(timeout)
                return []
            return select(timeout)

        warped_select._awtl_warp = loop
        selector.select = warped_select

    original_run_forever = base.run_forever

    @functools.wraps(original_run_forever)
    def run_forever(self, *args, **kwargs):
        try:
            warp_selector(self)
        except Exception:
            pass
        return original_run_forever(self, *args, **kwargs)
    base.run_forever = run_forever
