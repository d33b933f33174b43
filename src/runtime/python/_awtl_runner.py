"""Runs one Python snippet as __main__ under the await timeline (runner.py, the entry, calls main)."""
# The engine starts `<python> runner.py` with fd 61 = event frames to the engine and fd 63 =
# control lines from it (fd 62, the second event pipe, is unused: all threads share fd 61 under one
# lock, which keeps updates in order); high numbers, so that the program's own files get the
# numbers they get under python3 (PYTHON_CHANNEL_FDS). The first control line is the run's key:
# every write is sealed with it. Protocol: src/shared/runtimeProtocol.ts.
#
# The snippet must behave as under plain `python3 file.py`: same stdout/stderr, same exit code,
# `__name__ == "__main__"`, sys.argv, sys.path[0] = its folder, atexit and non-daemon threads.

import os
import sys

EVENTS_FD = 61
SECOND_EVENTS_FD = 62
CONTROL_FD = 63
SEAL_KEY_BYTES = 32


def _read_key(control):
    """The run's key, the engine's first control line (None: the engine does not seal; the line
    was then the run request, given back)."""
    import json
    line = control.readline()
    if not line:
        return None, None
    try:
        message = json.loads(line.decode('utf-8'))
    except ValueError:
        return None, line
    if isinstance(message, dict) and message.get('type') == 'key' and message.get('mac') == 'hmac-sha256':
        key = message.get('key')
        if isinstance(key, str) and len(key) == SEAL_KEY_BYTES * 2:
            return bytes.fromhex(key), None
    return None, line


def _read_request(control, line=None):
    import json
    if line is None:
        line = control.readline()
    if not line:
        return None
    request = json.loads(line.decode('utf-8'))
    if not isinstance(request, dict) or request.get('type') != 'run' or not isinstance(request.get('file'), str):
        raise ValueError('bad run request')
    args = request.get('args') or []
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ValueError('bad run request: args')
    return request


def _number(value, default):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else default


def _end_orphaned_run():
    import signal
    try:
        os.killpg(os.getpid(), signal.SIGKILL)  # the runtime leads its own process group
    except OSError:
        os.kill(os.getpid(), signal.SIGKILL)


def _fd_identity(fd):
    """What an fd is (device, inode), or None when it is closed: the program may close our fds
    (os.closerange(3, 256), the daemon idiom) and reuse their numbers for its own files."""
    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _control_loop(control, rec, blocks, taps, identity):
    import json
    import time
    while True:
        try:
            line = control.readline()
        except Exception:
            line = b''
        if not line:
            if _fd_identity(CONTROL_FD) != identity:
                # The program closed our control fd itself: that is not a request to stop. The
                # run goes on unseen by this thread; a stop still ends it with SIGKILL.
                return
            # The engine holds the other end for the whole run: it is gone (the editor or the CLI
            # was killed). Nobody can see this run any more; end it and what it spawned.
            _end_orphaned_run()
            return
        try:
            message = json.loads(line.decode('utf-8'))
        except ValueError:
            continue
        if isinstance(message, dict) and message.get('type') == 'stop':
            # A kill follows: whatever is pending, including a block still going, goes out now.
            try:
                blocks.check(time.perf_counter(), stop=True)
                for tap in taps:
                    tap._awtl_flush_pending()
            except Exception:
                pass
            try:
                # What each task still waits on: read now, from what asyncio holds.
                import _awtl_pending
                still = _awtl_pending.report(blocks.tasks, rec.snippet_file, rec)
                if still is not None:
                    rec.emit(still)
            except Exception:
                pass
            # The program's clock now (virtual in a warped run): what the stopped run's wall reads.
            rec.flush([{'type': 'flushed', 'atMs': rec.now_ms()}])


def _exception_mark(rec, exc, tb, file):
    import traceback
    last = None
    walk = tb
    while walk is not None:
        if walk.tb_frame.f_code.co_filename == file:
            last = walk
        walk = walk.tb_next
    text = ''.join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    mark = {
        'type': 'mark', 'kind': 'exception', 'text': text[-1] if text else type(exc).__name__,
        'atMs': rec.now_ms(), 'stack': ''.join(traceback.format_exception(type(exc), exc, tb)),
    }
    if last is not None:
        mark['line'] = last.tb_lineno
        code = last.tb_frame.f_code
        if hasattr(code, 'co_positions'):
            positions = list(code.co_positions())
            index = last.tb_lasti // 2
            if 0 <= index < len(positions) and positions[index][0] == last.tb_lineno and positions[index][2] is not None:
                mark['column'] = positions[index][2] + 1
    return mark


_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _without_our_frames(exc, file, seen=None):
    """Removes the runtime's frames from an exception's traceback, its causes and its group, the
    way pytest hides its own: python3 would not show them."""
    seen = set() if seen is None else seen
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        kept = []
        tb = exc.__traceback__
        while tb is not None:
            if not tb.tb_frame.f_code.co_filename.startswith(_RUNTIME_DIR):
                kept.append(tb)
            tb = tb.tb_next
        head = None
        for tb in reversed(kept):
            tb.tb_next = head
            head = tb
        try:
            exc.__traceback__ = head
        except Exception:
            pass
        for inner in getattr(exc, 'exceptions', None) or ():
            if isinstance(inner, BaseException):
                _without_our_frames(inner, file, seen)
        if exc.__cause__ is not None:
            _without_our_frames(exc.__cause__, file, seen)
        exc = exc.__context__


def _hide_from_tracers(runtime_dir):
    """sys.settrace / threading.settrace: a debugger or coverage tool the program starts sees its
    code, never ours (no call events in the runtime's functions); gettrace() returns its own."""
    import threading
    real_settrace = sys.settrace
    real_gettrace = sys.gettrace
    installed = {}

    def hidden(user):
        if user is None:
            return None

        def trace(frame, event, arg):
            if frame.f_code.co_filename.startswith(runtime_dir):
                return None
            return user(frame, event, arg)
        installed[id(trace)] = user
        return trace

    def settrace(function):
        installed.clear()
        real_settrace(hidden(function))

    def gettrace():
        current = real_gettrace()
        return installed.get(id(current), current) if current is not None else None

    settrace.__doc__ = real_settrace.__doc__
    gettrace.__doc__ = real_gettrace.__doc__
    sys.settrace = settrace
    sys.gettrace = gettrace
    real_thread_settrace = threading.settrace

    def thread_settrace(function):
        real_thread_settrace(hidden(function))
    thread_settrace.__doc__ = real_thread_settrace.__doc__
    threading.settrace = thread_settrace


def _exit_code(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF  # what the operating system reports
    return 1


def main():
    """Runs the snippet the engine asks for; our modules are loaded already (see runner.py)."""
    for fd in (EVENTS_FD, SECOND_EVENTS_FD, CONTROL_FD):
        try:
            os.set_inheritable(fd, False)  # keep the engine's pipes from the snippet's children
        except OSError:
            pass
    try:
        os.fstat(EVENTS_FD)
        os.fstat(CONTROL_FD)
    except OSError:
        sys.stderr.write('runner.py is started by the Await Timeline engine (needs fds %d and %d)\n' % (EVENTS_FD, CONTROL_FD))
        return 2

    import _awtl_recorder
    import _awtl_warp
    import _awtl_pending
    from _awtl_recorder import Recorder, make_sealer
    control = open(CONTROL_FD, 'rb', closefd=False)
    key, first_line = _read_key(control)
    rec = Recorder(EVENTS_FD, make_sealer(key) if key is not None else None)
    del key
    rec.send_now({'type': 'hello', 'protocol': _awtl_recorder.PROTOCOL_VERSION, 'runtime': 'python', 'pid': os.getpid()})

    try:
        request = _read_request(control, first_line)
    except Exception as exc:
        rec.send_now({'type': 'error', 'phase': 'internal', 'message': 'bad run request: %s' % exc})
        return 2
    if request is None:
        return 0
    file = request['file']
    rec.snippet_file = file
    rec.cap = int(_number(request.get('maxSpansPerSite'), 1000))
    threshold_ms = float(_number(request.get('blockThresholdMs'), 50))

    # The snippet's text: the editor's buffer when given, else the file as python3 would read it.
    source = request.get('source')
    if not isinstance(source, str):
        try:
            with open(file, 'rb') as f:
                raw = f.read()
        except OSError as exc:
            sys.stderr.write("%s: can't open file %r: [Errno %d] %s\n" % (sys.executable, file, exc.errno, exc.strerror))
            rec.send_now({'type': 'error', 'phase': 'compile', 'message': "can't open file: %s" % exc.strerror, 'file': file})
            rec.send_now({'type': 'exit', 'code': 2, 'atMs': 0})
            return 2
        import importlib.util
        try:
            source = importlib.util.decode_source(raw)
        except (SyntaxError, UnicodeDecodeError, LookupError):
            source = raw  # let compile() report it exactly as python3 would

    import linecache
    if isinstance(source, str):
        # Tracebacks read lines through linecache; unsaved buffers are not on disk.
        linecache.cache[file] = (len(source), None, source.splitlines(True), file)

    from _awtl_transform import instrument
    import builtins
    code = None
    instrumented = None
    try:
        if isinstance(source, str):
            import gc
            # Parsing, rewriting, compiling and freeing the tree is one stretch without the cyclic
            # collector: the tree is hundreds of thousands of objects without cycles, and a
            # collection in between (as soon as it was back on after the rewrite) walked all of
            # them. It is back on, as it was, before anything of the program's runs.
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                instrumented = instrument(source, file, rec.cap)
                code = compile(instrumented.tree, file, 'exec', dont_inherit=True)
                instrumented.tree = None
            finally:
                if was_enabled:
                    gc.enable()
    except SyntaxError:
        code = None
        instrumented = None
    except Exception as exc:
        # Our rewrite failed: run the snippet uninstrumented rather than not at all.
        import traceback
        rec.send_now({'type': 'error', 'phase': 'internal', 'message': 'instrumentation failed: %r' % exc,
                      'stack': traceback.format_exc()})
        instrumented = None
    if code is None:
        try:
            code = compile(source, file, 'exec', dont_inherit=True)
        except SyntaxError as exc:
            import traceback
            traceback.print_exception(type(exc), exc, None)
            sys.stderr.flush()
            message = {'type': 'error', 'phase': 'compile', 'message': '%s: %s' % (type(exc).__name__, exc.msg), 'file': exc.filename or file}
            if exc.lineno:
                message['line'] = exc.lineno
            if exc.offset:
                message['column'] = exc.offset
            rec.send_now(message)
            rec.send_now({'type': 'exit', 'code': 1, 'atMs': 0})
            return 1
        instrumented = None

    # The snippet becomes __main__, as under `python3 file`.
    import types
    import importlib.machinery
    module = types.ModuleType('__main__')
    module.__file__ = file
    module.__cached__ = None
    module.__package__ = None
    module.__spec__ = None
    module.__loader__ = importlib.machinery.SourceFileLoader('__main__', file)
    module.__builtins__ = builtins
    runner_module = sys.modules.get('__main__')  # noqa: F841 -- keeps this module alive
    sys.modules['__main__'] = module
    # As typed (`python3 sub/x.py` gives 'sub/x.py'); __file__ and sys.path[0] stay absolute.
    argv0 = request.get('argv0')
    sys.argv = [argv0 if isinstance(argv0, str) and argv0 else file] + list(request.get('args') or [])
    sys.path[0] = os.path.dirname(os.path.abspath(file))
    cwd = request.get('cwd')
    if isinstance(cwd, str) and cwd:
        try:
            os.chdir(cwd)
        except OSError:
            pass

    import _thread
    import time
    import atexit
    from _awtl_hooks import Blocks, install_asyncio, install_sleep, install_streams
    import weakref
    tasks = weakref.WeakKeyDictionary()  # the program's tasks stay collectable, as under python3
    blocks = Blocks(rec, threshold_ms, instrumented.line_labels if instrumented else {}, tasks)
    taps = []
    try:
        if instrumented is not None:
            rec.sites.extend(instrumented.sites)
            rec.counts.extend([0] * len(instrumented.sites))
            rec.site_open.extend([0] * len(instrumented.sites))
            rec.dropped_counters.extend(_awtl_recorder.site_counters(len(instrumented.sites), rec.cap))
            rec.counted.extend(instrumented.counted)
            rec.definitions.update(instrumented.definitions)
            rec.emit({'type': 'sites', 'base': 0, 'file': file, 'sites': [s.to_json() for s in instrumented.sites]})
        install_asyncio(rec, blocks)
        install_sleep(blocks)
        taps = install_streams(rec)
        if request.get('time') == 'warp':
            deadline_ms = request.get('deadlineMs')

            def on_deadline(seconds):
                rec.flush([{'type': 'deadline', 'atMs': seconds * 1000.0}])

            _awtl_warp.install(
                rec.shift_clock,
                deadline=None if deadline_ms is None else deadline_ms / 1000.0,
                now=lambda: rec.now_ms() / 1000.0,
                on_deadline=on_deadline)
    except Exception as exc:
        import traceback
        rec.emit({'type': 'error', 'phase': 'internal', 'message': 'hooks failed: %r' % exc, 'stack': traceback.format_exc()})

    state = {'code': 0, 'sigint': False}

    def at_exit():
        # Registered before the snippet runs, so it runs after the snippet's own atexit handlers.
        if os.getpid() != our_pid:
            return  # a forked child's copy: the run is the parent's to report
        blocks.stopping = True
        try:
            blocks.end()
            for tap in taps:
                tap._awtl_flush_pending()
        except Exception:
            pass
        if not rec.reported:
            # No asyncio.run ended with tasks left (a loop run by hand, or none): what is still
            # waiting, and the calls nobody awaited, as the interpreter exits.
            try:
                still = _awtl_pending.report(blocks.tasks, rec.snippet_file, rec, 'exit')
                if still is not None:
                    rec.emit(still)
            except Exception:
                pass
        rec.flush([{'type': 'exit', 'code': state['code'], 'atMs': rec.now_ms()}])
        if state['sigint']:
            import signal
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)

    our_pid = os.getpid()
    atexit.register(at_exit)

    def forked_child():
        # A forked child has a copy of everything recorded so far and of our pipes: it must not
        # write to them (duplicate span ids would end the parent's run), nor hold them open (a
        # daemon would keep the run from ending). Closed only when still ours. The writer's lock
        # is a new one: the fork may have come while the watchdog thread, which does not exist in
        # the child, held it, and the child's copy would then never be released.
        rec.lock = _thread.allocate_lock()
        rec.broken = True
        del rec.out[:]
        blocks.stopping = True
        blocks.current = None
        for fd, what in identities.items():
            if what is not None and _fd_identity(fd) == what:
                try:
                    os.close(fd)
                except OSError:
                    pass

    identities = {fd: _fd_identity(fd) for fd in (EVENTS_FD, SECOND_EVENTS_FD, CONTROL_FD)}
    rec.fd_identity = identities[EVENTS_FD]
    if hasattr(os, 'register_at_fork'):
        os.register_at_fork(after_in_child=forked_child)
    _thread.start_new_thread(blocks.watch, ())
    _thread.start_new_thread(_control_loop, (control, rec, blocks, taps, identities[CONTROL_FD]))

    import _awtl_recorder as recorder_module
    # Our modules leave sys.modules: a module of the program's with one of their names is its own.
    ours = {name: sys.modules.pop(name, None) for name in ('_awtl_recorder', '_awtl_hooks', '_awtl_transform', '_awtl_warp', '_awtl_runner')}
    _hide_from_tracers(os.path.dirname(os.path.abspath(__file__)) + os.sep)
    rec.start_clock()
    _awtl_warp.holds_from_now()
    recorder_module.install_span_helpers(rec, builtins.__dict__)
    rec.emit({'type': 'started'})
    rec.flush()
    try:
        exec(code, module.__dict__)
    except SystemExit as exc:
        state['code'] = _exit_code(exc)
        _without_our_frames(exc, file)
        raise  # python3 prints a non-int code itself
    except BaseException as exc:
        _without_our_frames(exc, file)
        tb = exc.__traceback__
        # Drop the runner's own frames: the traceback starts in the snippet, as under python3.
        while tb is not None and tb.tb_frame.f_code.co_filename != file:
            tb = tb.tb_next
        if tb is None:
            tb = exc.__traceback__.tb_next or exc.__traceback__
        exc.__traceback__ = tb
        try:
            rec.emit(_exception_mark(rec, exc, tb, file))
        except Exception:
            pass
        sys.excepthook(type(exc), exc, tb)
        if isinstance(exc, KeyboardInterrupt):
            state['code'] = 130
            state['sigint'] = True
        else:
            state['code'] = 1
        return state['code']
    return 0

