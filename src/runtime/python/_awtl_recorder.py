"""Records spans and marks inside the snippet's process and sends them to the engine as frames."""
# Frame = u32 LE payload length | u8 frame type | payload (see src/shared/runtimeProtocol.ts).
# Await spans travel as binary records against an interned site table (the hot path); call, task,
# block and with-block spans travel as JSON `span` messages (full upserts with the same id).
#
# Every thread appends to one ordered list; whoever flushes (the main thread at exit, the watchdog
# thread every few ms, the control thread on `stop`) takes the write lock, so two threads never
# interleave inside the pipe and an update never overtakes the message it updates.

import contextvars
import json
import os
import struct
import sys
import time
import _thread

PROTOCOL_VERSION = 1
FRAME_EVENTS = 1
FRAME_JSON = 2
FRAME_SEALED = 3
SEAL_MAC_BYTES = 16
SEAL_KEY_BYTES = 32
OP_OPEN = 1.0
OP_CLOSE = 2.0
OP_DROPPED = 3.0
OUTCOME_FULFILLED = 1.0
OUTCOME_REJECTED = 2.0

_perf = time.perf_counter
_getframe = sys._getframe

# The innermost span open in this task / thread; 0 = top level. Tasks copy it when created.
current_span = contextvars.ContextVar('await_timeline_span', default=0)
_cur_get = current_span.get
_cur_set = current_span.set
_cur_reset = current_span.reset


def make_sealer(key):
    """The sealed channel (see runtimeProtocol.ts): each write is one FRAME_SEALED frame, numbered
    from 0 on stream 0, its tag HMAC-SHA256(key, nonce | frames) cut to 16 bytes. One tag per write,
    not per event: the hot paths never see it. The key stays in this closure."""
    # HMAC (RFC 2104) over OpenSSL's SHA-256 from _hashlib itself: hashlib.py would build its
    # whole table of algorithms first, and the interpreter's own _sha256 hashes 6x slower (65
    # against 11 ns a byte here), which a flood of events would feel. asyncio has loaded ssl, and
    # with it OpenSSL, by the time this runs: the import takes about a millisecond.
    try:
        from _hashlib import openssl_sha256 as sha256
    except ImportError:
        try:
            from _sha256 import sha256  # CPython 3.9-3.11
        except ImportError:
            try:
                from _sha2 import sha256  # CPython 3.12+
            except ImportError:
                from hashlib import sha256
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b'\0')
    inner = sha256(bytes(b ^ 0x36 for b in key))
    outer = sha256(bytes(b ^ 0x5C for b in key))
    del key
    pack_head = struct.Struct('<IB').pack
    pack_nonce = struct.Struct('<IIi').pack
    seq = [0]

    def seal(data):
        n = seq[0]
        seq[0] = n + 1
        h = inner.copy()
        h.update(pack_nonce(0, n & 0xFFFFFFFF, 0))
        h.update(data)
        o = outer.copy()
        o.update(h.digest())
        return b''.join((pack_head(len(data) + SEAL_MAC_BYTES, FRAME_SEALED), data, o.digest()[:SEAL_MAC_BYTES]))
    return seal


class Recorder:
    def __init__(self, fd, seal=None):
        self.fd = fd
        # Turns the frames of one write into one sealed frame; None: the engine did not ask.
        self._seal = seal
        self.lock = _thread.allocate_lock()
        self.out = []
        self.t0 = _perf()
        self.broken = False
        # (device, inode) of the events pipe once the run starts: writes check it is still ours.
        self.fd_identity = None
        self.snippet_file = None
        self.sites = []
        self.counts = []
        self.cap = 1000
        self.dropped_sent = 0
        self.extra_dropped = 0
        self.next_id = _counter()
        # span id -> (site, context token, parent) of await spans still pending.
        self.open_awaits = {}
        # span id -> [message, context token, parent, site, frame, reason] of open calls/with-blocks.
        self.open_scopes = {}
        # coroutine frame -> task span id: that call is the task itself, no separate call span.
        self.task_roots = {}
        # Per site: scopes (calls, async with) recorded and still open.
        self.site_open = []
        # Per site: BELOW_CAP, then a past_cap() iterator that counts the awaits and calls past the
        # cap (see _awtl_transform.SITE_DROPPED).
        self.dropped_counters = []
        # The sites whose code tests its iterator by its own name (Instrumented.counted).
        self.counted = []
        # (co_firstlineno, co_name) -> call site of the snippet's functions (see Instrumented).
        self.definitions = {}
        # task span id -> when its coroutine (the snippet's function) returned or raised, ms.
        self.task_finished = {}
        # task span id -> open span message of tasks whose coroutine is the snippet's own: closed
        # when that coroutine ends (no done-callback shows in print(task)).
        self.root_tasks = {}
        # coroutine frame -> why the task's own coroutine raised.
        self.root_reasons = {}
        # span id -> parent id of the awaits, scopes and tasks recorded: a task created in the
        # context of a span that has ended (a server's connection handler) goes under the
        # nearest ancestor still open.
        self.parents = {}
        # Task spans, and combinator spans under an await, still open.
        self.open_tasks = set()
        self.open_inner = set()
        self._positions = {}
        # Functions that move copies of t0 held in closures (the hot paths keep it local).
        self.clock_shifters = []
        # Calls whose task or coroutine a statement dropped: (site, weakref to the task or None
        # for a coroutine that never ran, task span id or 0). See _awtl_hooks._awtl_fl.
        self.floating = []
        # An end-of-run report of what was still waiting went out (asyncio.run's end).
        self.reported = False
        # Task span id -> (outcome, closing label) of floating tasks that ended.
        self.floating_ends = {}

    # -- time ------------------------------------------------------------------------------------
    def start_clock(self):
        self.t0 = _perf()

    def now_ms(self):
        return (_perf() - self.t0) * 1000.0

    def shift_clock(self, seconds):
        """Time warp: the clock jumped `seconds` ahead; what is recorded from now on is that much later."""
        self.t0 -= seconds
        for shift in self.clock_shifters:
            shift(seconds)

    # -- transport -------------------------------------------------------------------------------
    def send_now(self, message):
        """Writes one JSON message at once (hello, before the run starts)."""
        with self.lock:
            self._write(_json_frame(message))

    def emit(self, message):
        self.out.append(message)

    def flush(self, final_messages=()):
        with self.lock:
            self._flush_locked(final_messages)

    def _flush_locked(self, final_messages=()):
        out = self.out
        n = len(out)
        # Only the first n items: the main thread may be appending while we encode (atomic
        # append + deleting exactly what we took keeps both sides consistent under the GIL).
        items = out[:n]
        del out[:n]
        dropped = self.dropped_total()
        if dropped > self.dropped_sent:
            items.append((OP_DROPPED, float(dropped - self.dropped_sent), 0.0, 0.0, 0.0))
            self.dropped_sent = dropped
        items.extend(final_messages)
        if not items:
            return
        chunks = []
        records = []
        for item in items:
            if type(item) is tuple:
                records.extend(item)
                continue
            if records:
                chunks.append(_events_frame(records))
                records = []
            chunks.append(_json_frame(item))
        if records:
            chunks.append(_events_frame(records))
        self._write(b''.join(chunks))

    def _write(self, data):
        if self.broken:
            return
        if self.fd_identity is not None:
            # The program may have closed our fd and opened a file of its own under its number.
            try:
                st = os.fstat(self.fd)
                same = (st.st_dev, st.st_ino) == self.fd_identity
            except OSError:
                same = False
            if not same:
                self.broken = True
                return
        if self._seal is not None:
            data = self._seal(data)
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        except OSError:
            # The engine went away; the snippet keeps running as it would without us.
            self.broken = True

    def dropped_total(self):
        cap = self.cap
        total = self.extra_dropped
        counters = self.dropped_counters
        for site, c in enumerate(self.counts):
            if c > cap:
                total += c - cap
            elif c == cap and site < len(counters) and counters[site] is not BELOW_CAP:
                # A site in a loop, or a function, stops counting at the cap; what comes after is
                # counted in C, by its past_cap() iterator.
                total += dropped_past_cap(counters[site])
        return total

    # -- positions -------------------------------------------------------------------------------
    def is_open(self, sid):
        return sid in self.open_awaits or sid in self.open_scopes or sid in self.open_tasks or sid in self.open_inner

    def open_ancestor(self, sid):
        """`sid` if it is still open, else its nearest ancestor that is; 0 for none."""
        parents = self.parents
        while sid and not self.is_open(sid):
            sid = parents.get(sid, 0)
        return sid

    def snippet_frame(self, frame):
        """The innermost frame of the snippet's own file at or above `frame`."""
        file = self.snippet_file
        while frame is not None and frame.f_code.co_filename != file:
            frame = frame.f_back
        return frame

    def frame_position(self, frame):
        """(line, column) the frame is executing, 1-based; columns from 3.11's co_positions."""
        line = frame.f_lineno or 0
        column = 1
        code = frame.f_code
        positions = self._positions.get(code)
        if positions is None and hasattr(code, 'co_positions'):
            positions = self._positions[code] = list(code.co_positions())
        if positions:
            index = frame.f_lasti // 2
            if 0 <= index < len(positions):
                start_line, _end_line, start_col, _end_col = positions[index]
                if start_line == line and start_col is not None:
                    column = start_col + 1
        return line, column

    # -- spans -----------------------------------------------------------------------------------
    def span(self, sid, parent, kind, label, line, column, start, end=None, outcome='pending'):
        message = {
            'type': 'span', 'id': sid, 'parentId': parent or None, 'kind': kind, 'label': label,
            'line': line, 'column': column, 'startMs': start, 'endMs': end, 'outcome': outcome,
        }
        self.out.append(message)
        return message

    def close_span(self, message, outcome, label=None, end_ms=None):
        if message.get('floating'):
            # A task nobody keeps may be collected before the end of the run: how it ended is kept.
            self.floating_ends[message['id']] = (outcome, label)
        done = dict(message)
        done['endMs'] = self.now_ms() if end_ms is None else end_ms
        done['outcome'] = outcome
        if label is not None:
            done['label'] = label
        self.out.append(done)
        return done

    def close_scope(self, message, outcome, label=None):
        """Ends a call or `async with` span, which travels as binary records (see _open_scope in
        install_span_helpers): a close record, and the new label after it when it is rejected."""
        sid = message['id']
        self.out.append((OP_CLOSE, sid, OUTCOME_FULFILLED if outcome == 'fulfilled' else OUTCOME_REJECTED,
                         0.0, (_perf() - self.t0) * 1000.0))
        if label is not None:
            self.out.append({'type': 'label', 'id': sid, 'label': label})


import itertools
_repeat = itertools.repeat

# The per-site iterators of _awtl_transform.SITE_DROPPED. Below the cap: next() gives False, for
# ever. Past it: next() gives True and counts down from sys.maxsize, which is the count of what was
# dropped; no object is made per call (an itertools.count made a new int on each one).
BELOW_CAP = _repeat(False)
_PAST_CAP_FROM = sys.maxsize


def past_cap():
    return _repeat(True, _PAST_CAP_FROM)


def dropped_past_cap(counter):
    return _PAST_CAP_FROM - counter.__length_hint__()


def _counter():
    return itertools.count(1).__next__


def site_counters(n, cap):
    """The per-site iterators of _awtl_transform.SITE_DROPPED for `n` sites, none past the cap."""
    return [BELOW_CAP if cap > 0 else past_cap() for _ in range(n)]


_pack_head = struct.Struct('<IB').pack
# The string encoder json.dumps(ensure_ascii=False) uses (C where there is one).
_json_str = json.encoder.encode_basestring
_SPAN_JSON = ('{"type":"span","id":%d,"parentId":%s,"kind":%s,"label":%s,"line":%d,"column":%d,'
              '"startMs":%r,"endMs":%s,"outcome":%s}')
_LABEL_JSON = '{"type":"label","id":%d,"label":%s}'


def _json_body(message):
    """json.dumps(message) as the frame has it (no spaces, not ASCII-only, no NaN), as text.

    A span message, the one the recorder sends by the thousand (a call span's open and close),
    is formatted from a template: the same text as json.dumps in a quarter of the time (a flush of
    1,000 calls' spans took 23 ms of CPU through json.dumps, 9 ms so; most of what is left is
    writing the floats). Anything else, or a span with a field of another type, another field or
    a value json.dumps would refuse, goes through json.dumps.
    """
    if type(message) is dict and len(message) == 10 and message.get('type') == 'span':
        try:
            sid = message['id']
            parent = message['parentId']
            kind = message['kind']
            label = message['label']
            line = message['line']
            column = message['column']
            start = message['startMs']
            end = message['endMs']
            outcome = message['outcome']
        except KeyError:
            pass
        else:
            # Exactly these types (a subclass may print itself otherwise); floats finite (x - x
            # is NaN for an infinity or a NaN).
            if (type(sid) is int and type(line) is int and type(column) is int
                    and type(kind) is str and type(label) is str and type(outcome) is str
                    and type(start) is float and start - start == 0.0
                    and (parent is None or type(parent) is int)
                    and (end is None or (type(end) is float and end - end == 0.0))):
                return _SPAN_JSON % (
                    sid, 'null' if parent is None else '%d' % parent, _json_str(kind), _json_str(label),
                    line, column, start, 'null' if end is None else repr(end), _json_str(outcome))
    elif type(message) is dict and len(message) == 3 and message.get('type') == 'label':
        # A call's label (its arguments), one per recorded call.
        sid = message.get('id')
        label = message.get('label')
        if type(sid) is int and type(label) is str:
            return _LABEL_JSON % (sid, _json_str(label))
    return json.dumps(message, ensure_ascii=False, separators=(',', ':'), allow_nan=False)


def _json_frame(message):
    body = _json_body(message).encode('utf-8')
    return _pack_head(len(body), FRAME_JSON) + body


def _events_frame(values):
    body = struct.pack('<%dd' % len(values), *values)
    return _pack_head(len(body), FRAME_EVENTS) + body


def reason_of(exc):
    """Why a span was rejected, short enough for a label: `cancelled`, `TimeoutError`, `ValueError`."""
    if exc is None:
        return 'failed'
    name = type(exc).__name__
    return 'cancelled' if name == 'CancelledError' else name


def preview_value(value):
    """A short Python-looking rendering of an argument: strings in double quotes."""
    try:
        if isinstance(value, str):
            text = value if len(value) <= 24 else value[:23] + '\u2026'
            return '"' + text.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'
        if value is None or isinstance(value, (bool, int, float)):
            text = repr(value)
            return text if len(text) <= 24 else text[:23] + '\u2026'
        if isinstance(value, (list, tuple, dict, set, frozenset)):
            # Small containers as written; big ones are not even rendered.
            text = repr(value) if len(value) <= 8 else type(value).__name__ + '(\u2026)'
            return text if len(text) <= 24 else text[:23] + '\u2026'
        name = getattr(value, '__qualname__', None)
        if isinstance(name, str) and callable(value):
            return name
        return '<' + type(value).__name__ + '>'
    except Exception:
        return '<?>'


def call_preview(name, values, params):
    """`fetch_data("Weather API")` from the frame's locals at entry."""
    positional, varargs, kwonly, varkw = params
    parts = []
    for p in positional:
        if p in values:
            parts.append(preview_value(values[p]))
    if varargs and varargs in values:
        parts.extend(preview_value(v) for v in values[varargs])
    for p in kwonly:
        if p in values:
            parts.append(p + '=' + preview_value(values[p]))
    if varkw and varkw in values and isinstance(values[varkw], dict):
        parts.extend(str(k) + '=' + preview_value(v) for k, v in values[varkw].items())
    text = name + '(' + ', '.join(parts) + ')'
    return text if len(text) <= 120 else text[:118] + '\u2026)'


def _asyncio_identities():
    """id -> what it is, for asyncio's combinators as this interpreter has them (by identity: a
    user's own `wait()` or `as_completed()` is never taken for asyncio's)."""
    import asyncio
    found = {}
    for name in ('gather', 'wait', 'wait_for', 'shield'):
        fn = getattr(asyncio, name, None)
        if fn is not None:
            found[id(fn)] = 'combinator'
    for name in ('TaskGroup', 'timeout', 'timeout_at'):
        fn = getattr(asyncio, name, None)
        if fn is not None:
            found[id(fn)] = 'scope'
    fn = getattr(asyncio, 'as_completed', None)
    if fn is not None:
        found[id(fn)] = 'as_completed'
    return found


def install_span_helpers(rec, namespace):
    """Defines the functions the instrumented code calls (see _awtl_transform) in `namespace`."""
    counts = rec.counts
    sites = rec.sites
    cap = rec.cap
    out_append = rec.out.append
    open_awaits = rec.open_awaits
    next_id = rec.next_id
    perf = _perf
    t0 = rec.t0
    task_roots = rec.task_roots
    task_finished = rec.task_finished
    root_tasks = rec.root_tasks
    root_reasons = rec.root_reasons
    site_open = rec.site_open
    parents = rec.parents
    open_inner = rec.open_inner
    identities = _asyncio_identities()

    def shift_t0(seconds):
        nonlocal t0
        t0 -= seconds
    rec.clock_shifters.append(shift_t0)

    dropped_counters = rec.dropped_counters
    # The code reads each counted site's iterator by a name of its own (_awtl_transform.SITE_DROPPED):
    # all of them are there before the program runs, so that the program's code never sees the
    # builtins change their keys (which would undo the interpreter's caching of these lookups).
    dropped_names = {site: '_awtl_d%d' % site for site in rec.counted}
    for site, name in dropped_names.items():
        namespace[name] = dropped_counters[site]

    def _past_cap_from_now(site):
        # The last span of the site recorded: from now on the emitted code counts it in C.
        counter = dropped_counters[site] = past_cap()
        name = dropped_names.get(site)
        if name is not None:
            namespace[name] = counter

    def _awtl_ab(site):
        # Hot path: past the cap an await only costs a count.
        n = counts[site] + 1
        counts[site] = n
        if n >= cap:
            if n > cap:
                return 0
            # The last one recorded: from now on the emitted code counts this site in C.
            _past_cap_from_now(site)
        sid = next_id()
        parent = _cur_get()
        parents[sid] = parent
        open_awaits[sid] = (site, _cur_set(sid), parent, 0)
        out_append((OP_OPEN, sid, parent, site, (perf() - t0) * 1000.0))
        scope = sites[site].scope
        if scope is not None:
            # Closed by its function's `finally` if it raises: that `finally` must call us.
            site_open[scope] += 1
        return sid

    def _awtl_aq(site, callee):
        # An await whose callee may be one of asyncio's combinators (the next site is the
        # combinator's own row): when it is, the combinator span opens under the await span.
        n = counts[site] + 1
        counts[site] = n
        if n >= cap:
            if n > cap:
                return 0
            _past_cap_from_now(site)
        sid = next_id()
        parent = _cur_get()
        parents[sid] = parent
        now = (perf() - t0) * 1000.0
        out_append((OP_OPEN, sid, parent, site, now))
        if identities.get(id(callee)) == 'combinator':
            inner = next_id()
            parents[inner] = sid
            open_inner.add(inner)
            out_append((OP_OPEN, inner, sid, site + 1, now))
            open_awaits[sid] = (site, _cur_set(inner), parent, inner)
        else:
            open_awaits[sid] = (site, _cur_set(sid), parent, 0)
        scope = sites[site].scope
        if scope is not None:
            site_open[scope] += 1
        return sid

    def _awtl_ae(sid, value):
        if sid:
            entry = open_awaits.pop(sid, None)
            if entry is not None:
                try:
                    _cur_reset(entry[1])
                except ValueError:
                    _cur_set(entry[2])
                now = (perf() - t0) * 1000.0
                if entry[3]:
                    open_inner.discard(entry[3])
                    out_append((OP_CLOSE, entry[3], OUTCOME_FULFILLED, 0.0, now))
                out_append((OP_CLOSE, sid, OUTCOME_FULFILLED, 0.0, now))
                scope = sites[entry[0]].scope
                if scope is not None:
                    site_open[scope] -= 1
        return value

    def _awtl_af(statement_sites):
        # The statement raised. The innermost open spans of its own awaits are current in this
        # task; close them as rejected (a raise outside any await finds none).
        _close_awaits(statement_sites, sys.exc_info()[1])

    def _close_awaits(statement_sites, exc):
        while True:
            sid = _cur_get()
            entry = None
            if sid:
                entry = open_awaits.get(sid)
                if entry is None:
                    # The current span may be the combinator under an await.
                    for key, candidate in open_awaits.items():
                        if candidate[3] == sid:
                            sid, entry = key, candidate
                            break
            if entry is None or entry[0] not in statement_sites:
                return
            del open_awaits[sid]
            try:
                _cur_reset(entry[1])
            except ValueError:
                _cur_set(entry[2])
            now = (perf() - t0) * 1000.0
            suffix = ' \u2192 ' + reason_of(exc)
            if entry[3]:
                open_inner.discard(entry[3])
                out_append((OP_CLOSE, entry[3], OUTCOME_REJECTED, 0.0, now))
                out_append({'type': 'label', 'id': entry[3], 'label': sites[entry[0] + 1].label + suffix})
            out_append((OP_CLOSE, sid, OUTCOME_REJECTED, 0.0, now))
            out_append({'type': 'label', 'id': sid, 'label': sites[entry[0]].label + suffix})
            scope = sites[entry[0]].scope
            if scope is not None:
                site_open[scope] -= 1

    open_scopes = rec.open_scopes
    # coroutine or function frame -> its open scope's span id (found again when it is not current)
    scope_of_frame = {}

    def _open_scope(site, shown, frame):
        # shown: the site whose kind and label the span takes (a scope's combinator row).
        info = sites[shown]
        label = info.label
        if info.kind == 'call':
            if frame in task_roots:
                return  # the task span stands for this call; it ends at _awtl_se
            try:
                label = call_preview(label, frame.f_locals, info.params)
            except Exception:
                label = label + '(\u2026)'
        sid = next_id()
        parent = _cur_get()
        parents[sid] = parent
        start = (perf() - t0) * 1000.0
        # The span travels as binary records against its site (kind, line and column are the
        # site's), with its label after the open when it is not the site's (a call's arguments):
        # a JSON span message cost five times as much to write, most of it the times as text.
        # Its parent went out before it: it was opened before it became current. The message is
        # kept here for what reads the open spans (labels, the end-of-run report).
        out_append((OP_OPEN, sid, parent, shown, start))
        if label != info.label:
            out_append({'type': 'label', 'id': sid, 'label': label})
        message = {'type': 'span', 'id': sid, 'parentId': parent or None, 'kind': info.kind, 'label': label,
                   'line': info.line, 'column': info.column, 'startMs': start, 'endMs': None, 'outcome': 'pending'}
        # [message, context token, parent, site, frame, reason]
        open_scopes[sid] = [message, _cur_set(sid), parent, site, frame, None]
        scope_of_frame[frame] = sid
        site_open[site] += 1

    def _awtl_sb(site):
        n = counts[site] + 1
        counts[site] = n
        if n <= cap:
            if n == cap:
                # The last call recorded: from now on the function's entry counts it in C.
                _past_cap_from_now(site)
            _open_scope(site, site, _getframe(1))

    def _awtl_sq(site, callee):
        # `async with` on something that may be asyncio's TaskGroup or timeout: a combinator row
        # when it is (by identity), else an await row.
        n = counts[site] + 1
        counts[site] = n
        if n <= cap:
            _open_scope(site, site + 1 if identities.get(id(callee)) == 'scope' else site, _getframe(1))

    def _own_scope(site, frame):
        # The scope `frame` opened at `site` is the current span, if it was recorded at all
        # (past the cap, or as a task's own coroutine, nothing was opened).
        sid = _cur_get()
        entry = open_scopes.get(sid)
        if entry is None or entry[3] != site or entry[4] is not frame:
            sid = scope_of_frame.get(frame)
            if sid is None:
                return None
            # Its own scope is open but not current: deeper ones could not close (their clean-up
            # hit the recursion limit). They end here, with what ended this one.
            reason = reason_of(sys.exc_info()[1]) if sys.exc_info()[1] is not None else 'RecursionError'
            inner = _cur_get()
            while inner and inner != sid:
                deeper = open_scopes.get(inner)
                if deeper is None:
                    break
                rec.close_scope(deeper[0], 'rejected', deeper[0]['label'] + ' \u2192 ' + (deeper[5] or reason))
                del open_scopes[inner]
                scope_of_frame.pop(deeper[4], None)
                site_open[deeper[3]] -= 1
                inner = deeper[2]
            entry = open_scopes.get(sid)
            if entry is None:
                return None
        return sid, entry

    def _awtl_sx(site):
        frame = _getframe(1)
        found = _own_scope(site, frame)
        if found is not None:
            found[1][5] = reason_of(sys.exc_info()[1])
            return
        if frame in task_roots:
            root_reasons[frame] = reason_of(sys.exc_info()[1])

    def _awtl_se(site):
        _end_scope(site, _getframe(1), None)

    def _awtl_sf(site):
        # A function's `finally` (no `except` clause is emitted): it is raising when the exception
        # being handled has this very frame at the head of its traceback. Once it leaves a frame
        # an exception's traceback starts at the frame that handles it, and this `finally` is the
        # function's outermost statement: on a return, whatever is being handled (a caller's
        # `except` block) was caught in another frame.
        frame = _getframe(1)
        exc = sys.exc_info()[1]
        reason = None
        if exc is not None:
            tb = exc.__traceback__
            if tb is not None and tb.tb_frame is frame:
                reason = reason_of(exc)
                awaits = sites[site].awaits
                if awaits:
                    # Awaits whose statements have no `except` of their own (nothing of the
                    # program's runs between them and this `finally`): closed here, as there.
                    _close_awaits(awaits, exc)
        _end_scope(site, frame, reason)

    def _end_scope(site, frame, raised):
        # raised: why the scope is ending by an exception, when _awtl_sf saw one (else the one
        # _awtl_sx noted, or none).
        found = _own_scope(site, frame)
        if found is None:
            if raised is not None and frame in task_roots:
                root_reasons[frame] = raised
            sid = task_roots.get(frame)
            if sid is not None:
                # A task's own coroutine ends: the task ends here, not when its done-callbacks
                # run (another task's step may hold the loop in between).
                del task_roots[frame]
                site_open[site] -= 1
                end_ms = (perf() - t0) * 1000.0
                task_finished[sid] = end_ms
                message = root_tasks.pop(sid, None)
                if message is not None:
                    rec.open_tasks.discard(sid)
                    reason = root_reasons.pop(frame, None)
                    if reason is None:
                        rec.close_span(message, 'fulfilled', None, end_ms)
                    else:
                        rec.close_span(message, 'rejected', message['label'] + ' \u2192 ' + reason, end_ms)
            return
        sid, entry = found
        if raised is not None:
            entry[5] = raised
        message, ctx_token, parent, _site, frame, reason = entry
        # Closed first, forgotten after: at the recursion limit this may raise midway, and then
        # the span is still found (and closed) from the next level up.
        if reason is None:
            rec.close_scope(message, 'fulfilled')
        else:
            rec.close_scope(message, 'rejected', message['label'] + ' \u2192 ' + reason)
        del open_scopes[sid]
        scope_of_frame.pop(frame, None)
        site_open[site] -= 1
        try:
            _cur_reset(ctx_token)
        except ValueError:
            _cur_set(parent)

    def _awtl_ac(site, callee):
        # `as_completed(fs)` -> `_awtl_ac(site, as_completed)(fs)`: only asyncio's gets a row.
        if identities.get(id(callee)) != 'as_completed':
            return callee

        def as_completed(*args, **kwargs):
            iterable = callee(*args, **kwargs)
            n = counts[site] + 1
            counts[site] = n
            if n > cap:
                return iterable
            info = sites[site]
            message = rec.span(next_id(), _cur_get(), info.kind, info.label, info.line, info.column, rec.now_ms())
            return _AsCompleted(rec, iterable, message)
        return as_completed

    for fn in (_awtl_ab, _awtl_aq, _awtl_ae, _awtl_af, _awtl_sb, _awtl_sq, _awtl_sx, _awtl_se, _awtl_sf, _awtl_ac):
        namespace[fn.__name__] = fn
    # Set by the asyncio hooks; without them a dropped call is only a call.
    namespace.setdefault('_awtl_fl', lambda site, value: value)
    namespace['_awtl_o'] = site_open
    namespace['_awtl_nx'] = next

    def _awtl_rx():
        # The RecursionError being handled, without the recorder's frames it went through.
        return sys.exc_info()[1].with_traceback(None)
    namespace['_awtl_rx'] = _awtl_rx


class _AsCompleted:
    """as_completed() as the snippet sees it, with a combinator span until it is used up."""

    def __init__(self, rec, iterable, message):
        self._rec = rec
        self._inner = iterable
        self._iter = None
        self._message = message

    def __iter__(self):
        self._iter = iter(self._inner)
        return self

    def __next__(self):
        if self._iter is None:
            self._iter = iter(self._inner)
        try:
            return next(self._iter)
        except StopIteration:
            self._finish(None)
            raise
        except BaseException as exc:
            self._finish(reason_of(exc))
            raise

    def __aiter__(self):
        return self._inner.__aiter__()

    def _finish(self, reason):
        message, self._message = self._message, None
        if message is None:
            return
        if reason is None:
            self._rec.close_span(message, 'fulfilled')
        else:
            self._rec.close_span(message, 'rejected', message['label'] + ' \u2192 ' + reason)

    def __del__(self):
        # Left before the end (a `break` after the first result): it stopped waiting here.
        if self._message is not None:
            try:
                self._finish(None)
            except Exception:
                pass
