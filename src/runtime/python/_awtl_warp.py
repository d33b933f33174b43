"""Time warp for a Python run: when the event loop waits only for timers, its clock jumps ahead."""
# asyncio schedules every timer against loop.time() (time.monotonic()) and sleeps in the
# selector's select(timeout) until the next one is due. When nothing else can wake the loop (no
# registered file descriptor but the loop's own self-pipe, no executor job, no thread of the
# program's own), select() does not sleep: the clock jumps by `timeout` and select() returns, so
# the next timer is due at once. Everything the snippet reads of time (time.monotonic, time.time,
# time.perf_counter and their _ns forms, loop.time()) sees the same virtual clock; synchronous
# work, time.sleep and real I/O take their real time. Ordering is asyncio's own: nothing but the
# clock changes.
#
# The machine's holds are not the program's time (as in the JS runtime's timeWarp.ts). On a busy
# machine the kernel keeps the main thread waiting for a CPU: that wait, the thread's run delay
# (the second field of /proc/self/task/<tid>/schedstat), is taken out of the clock, looked at on a
# clock read of the main thread at most every HOLD_SAMPLE seconds. asyncio's timers are due at
# times on that clock, so each waits as much longer. What the thread does itself still counts at
# its real rate (CPU work, time.sleep, real I/O); while real I/O is in flight or past the run's
# deadline nothing is taken out. The clock never goes back: a hold comes out only of the real
# time since the last read, so a timer found due stays due.

import asyncio
import asyncio.base_events
import functools
import os
import threading
import time
import _thread

# offset: seconds jumped; held: seconds of the machine's holds taken out; io: real I/O in flight
# (as the loop last saw it); past: the run's deadline was reached.
_state = {'offset': 0.0, 'held': 0.0, 'io': False, 'past': False}
HOLD_SAMPLE = 0.0005
# A look at the run delay that took longer than this lost the CPU on the way (see _holds).
LOOK_SLOW = 0.0002


def offset_seconds():
    return _state['offset']


def _virtual(real, scale, on_read=None):
    """`on_read(r)`: for the clocks on the monotonic scale, told each real reading."""
    if on_read is None:
        @functools.wraps(real)
        def clock():
            return real() + (_state['offset'] - _state['held']) * scale
        return clock

    @functools.wraps(real)
    def clock():
        r = real()
        if on_read(r):
            r = real()  # it looked at the run delay: the reading after the look
        return r + (_state['offset'] - _state['held']) * scale
    return clock


def _virtual_ns(real, on_read=None):
    if on_read is None:
        @functools.wraps(real)
        def clock():
            return real() + int((_state['offset'] - _state['held']) * 1e9)
        return clock

    @functools.wraps(real)
    def clock():
        r = real()
        if on_read(r / 1e9):
            r = real()  # it looked at the run delay: the reading after the look
        return r + int((_state['offset'] - _state['held']) * 1e9)
    return clock


def _run_delay_reader():
    """Reads the calling (main) thread's run delay in seconds; None where the kernel does not say.
    The file sits at a high descriptor (the program's own files get the numbers they get under
    python3) and is checked to be still ours at each read (the program may close it)."""
    try:
        fd = os.open('/proc/self/task/%d/schedstat' % threading.get_native_id(), os.O_RDONLY | os.O_CLOEXEC)
    except (OSError, AttributeError):
        return None
    try:
        import fcntl
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 200)
        os.close(fd)
        fd = high
        st = os.fstat(fd)
        identity = (st.st_dev, st.st_ino)
        int(os.pread(fd, 128, 0).split()[1])
    except (OSError, ValueError, IndexError, ImportError):
        try:
            os.close(fd)
        except OSError:
            pass
        return None

    def read():
        try:
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) != identity:
                return -1.0
            return int(os.pread(fd, 128, 0).split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return -1.0
    return read


def holds_from_now():
    """Called as the program's clock starts (time 0): holds count from here."""
    reset = _state.get('holds_from_now')
    if reset is not None:
        reset()


def _holds(on_jump):
    """What each read of a monotonic-scale clock calls with its real reading (seconds): takes the
    main thread's holds out of the clock (see the top of this file). None: no run delay to read."""
    read_delay = _run_delay_reader()
    if read_delay is None:
        return None
    main = _thread.get_ident()
    real = time.monotonic
    hold = {'delay': read_delay(), 'sampled': real(), 'read': real()}

    def from_now():
        # The program starts: what the thread waited for before is not taken out of its time.
        hold['delay'] = read_delay()
        hold['sampled'] = hold['read'] = real()
    _state['holds_from_now'] = from_now

    def on_read(r):
        """True when it looked at the run delay: the clock then reads again (see below)."""
        if _thread.get_ident() != main:
            return False
        if r - hold['sampled'] < HOLD_SAMPLE:
            hold['read'] = r
            return False
        # The run delay first, then the time. Reading /proc is a system call, where a busy machine
        # most often takes the CPU away, and the kernel adds that wait to the run delay as the
        # thread gets the CPU back: read after the delay, the time has the wait too, so it comes
        # out (with the time read before it, 'no clock goes back' kept all of it on the clock).
        # A look that lost the CPU on the way may have its value made before the wait: again.
        for _ in range(3):
            before = real()
            d = read_delay()
            r = real()
            if r - before <= LOOK_SLOW:
                break
        hold['sampled'] = r
        if d >= 0:
            h = d - hold['delay']
            hold['delay'] = d
            if h > 0 and not _state['io'] and not _state['past']:
                # Only out of the real time since the last read: no clock goes back.
                h = min(h, r - hold['read'])
                if h > 0:
                    _state['held'] += h
                    on_jump(-h)
        hold['read'] = r
        return True
    return on_read


def install(on_jump, deadline=None, now=None, on_deadline=None):
    """Warps the clock; `on_jump(seconds)` moves the recorder's time 0 back by as much (a hold
    taken out: negative seconds).

    `deadline` (seconds of program time, with `now()` the program time now): the run's timeout on
    the program's clock. The clock never jumps past it: when the loop waits for nothing sooner (a
    timer past it, or nothing at all that could wake it), the clock goes to the deadline and
    `on_deadline(seconds)` is called once; from then on time passes at its real rate.
    """
    dl = {'at': deadline}
    on_read = _holds(on_jump)
    # The clocks on time.monotonic's scale tell their readings (perf_counter is where it is the same clock).
    scaled = {'monotonic', 'monotonic_ns'}
    if abs(time.perf_counter() - time.monotonic()) < 0.001:
        scaled.update(('perf_counter', 'perf_counter_ns'))
    for name in ('monotonic', 'time', 'perf_counter'):
        setattr(time, name, _virtual(getattr(time, name), 1, on_read if name in scaled else None))
    for name in ('monotonic_ns', 'time_ns', 'perf_counter_ns'):
        setattr(time, name, _virtual_ns(getattr(time, name), on_read if name in scaled else None))

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
            if timeout is None or timeout > 0:
                _state['io'] = not idle(loop, selector)
            if (timeout is None or timeout > 0) and (timeout is not None or dl['at'] is not None) and not _state['io']:
                events = select(0)
                if events:
                    return events
                at = dl['at']
                if at is not None:
                    left = at - now()
                    if timeout is None or timeout >= left:
                        # Nothing sooner than the run's timeout: the clock goes there, no further.
                        dl['at'] = None
                        _state['past'] = True
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
