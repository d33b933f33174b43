"""What every asyncio task still waits on when the engine stops a run (Stop, --timeout).

Read once, from the control thread, from what asyncio already holds: each live task's coroutine
stack (task.get_stack()) and the future it is suspended on (task._fut_waiter), and, through
gc.get_referrers, what holds that future: an Event's, a Queue's or a Lock's waiters, a gather,
a sleep's timer. Nothing is tracked while the snippet runs.
"""

import asyncio
import collections
import gc
import linecache
import sys

_MAX_TASKS = 200


def _name_of(obj, scopes):
    """The snippet's name for an object: a variable, or an attribute of one (`self.ready`)."""
    for scope in scopes:
        try:
            items = list(scope.items())
        except Exception:
            continue
        for key, value in items:
            if value is obj and not key.startswith('_awtl'):
                return key
        for key, value in items:
            attrs = getattr(value, '__dict__', None)
            if isinstance(attrs, dict) and not isinstance(value, type):
                for attr, inner in list(attrs.items()):
                    if inner is obj:
                        return key + '.' + attr
    return None


def _owners(obj):
    """Objects holding `obj` in an attribute: through their __dict__ or directly."""
    for ref in gc.get_referrers(obj):
        if isinstance(ref, dict):
            for owner in gc.get_referrers(ref):
                if getattr(owner, '__dict__', None) is ref:
                    yield owner
        else:
            yield ref


def _holder(fut):
    """(kind, primitive) for the asyncio primitive whose waiters hold `fut`, else (None, None)."""
    for ref in gc.get_referrers(fut):
        if isinstance(ref, collections.deque):
            for owner in _owners(ref):
                if isinstance(owner, asyncio.Event) and owner._waiters is ref:
                    return 'event-wait', owner
                if isinstance(owner, asyncio.Queue) and getattr(owner, '_getters', None) is ref:
                    return 'queue-get', owner
                if isinstance(owner, asyncio.Condition) and owner._waiters is ref:
                    return 'condition', owner
                if isinstance(owner, (asyncio.Lock, asyncio.Semaphore)) and getattr(owner, '_waiters', None) is ref:
                    return 'lock', owner
        elif isinstance(ref, tuple):
            for owner in gc.get_referrers(ref):
                if isinstance(owner, asyncio.TimerHandle) and not owner.cancelled():
                    return 'sleep', owner
    return None, None


def _target(task, fut, names, scopes):
    if fut is None:
        return {'kind': 'other', 'text': 'nothing (it is ready to run)'}
    if isinstance(fut, asyncio.Task):
        return {'kind': 'task', 'task': names.get(fut) or fut.get_name()}
    children = getattr(fut, '_children', None)
    if children is not None:  # gather's future
        pending = [names.get(c) or c.get_name() for c in children if isinstance(c, asyncio.Task) and not c.done()]
        return {'kind': 'gather', 'tasks': pending}
    kind, owner = _holder(fut)
    name = _name_of(owner, scopes) if owner is not None else None
    if kind == 'event-wait':
        for queue in _owners(owner):
            if isinstance(queue, asyncio.Queue) and getattr(queue, '_finished', None) is owner:
                qname = _name_of(queue, scopes) or 'the queue'
                return {'kind': 'other', 'text': '%s.join(): task_done() was called for fewer items than were put (%d unfinished)'
                        % (qname, getattr(queue, '_unfinished_tasks', 0))}
        return _named({'kind': 'event-wait'}, name)
    if kind == 'queue-get':
        return _named({'kind': 'queue-get', 'size': owner.qsize()}, name)
    if kind == 'condition':
        return {'kind': 'other', 'text': 'Condition %s that nobody notified' % (name or '')}
    if kind == 'lock':
        return _named({'kind': 'lock'}, name)
    if kind == 'sleep':
        left = max(0.0, owner.when() - fut.get_loop().time()) * 1000.0
        return {'kind': 'sleep', 'leftMs': round(left, 3)}
    out = _named({'kind': 'future'}, _name_of(fut, scopes))
    tb = getattr(fut, '_source_traceback', None)
    if tb:
        out['line'] = int(tb[-1][1])
    return out


def _task_name(task):
    """The task's own name, or its coroutine's for the default `Task-N`."""
    name = task.get_name()
    if name.startswith('Task-'):
        coro = task.get_coro()
        qualname = getattr(coro, '__qualname__', None)
        if qualname:
            return qualname.replace('.<locals>', '') + '()'
    return name


def _coroutine_stack(task):
    """The task's coroutine and every coroutine it awaits, outermost first (task.get_stack() stops
    at the first one)."""
    frames = []
    c = task.get_coro()
    for _ in range(100):
        if c is None:
            break
        frame = getattr(c, 'cr_frame', None) or getattr(c, 'gi_frame', None)
        if frame is not None:
            frames.append(frame)
        c = getattr(c, 'cr_await', None) or getattr(c, 'gi_yieldfrom', None)
    return frames


def _named(target, name):
    if name:
        target['name'] = name
    return target


def _floating(rec):
    """What became of each task or coroutine a statement dropped (see _awtl_hooks._awtl_fl)."""
    out = []
    for site, ref, sid in list(getattr(rec, 'floating', ())):
        info = rec.sites[site]
        entry = {'line': int(info.line), 'column': int(info.column), 'label': str(info.label), 'id': int(sid)}
        if ref is None:
            entry['state'] = 'pending'
            entry['neverRan'] = True
        else:
            task = ref()
            if task is None:
                # Collected: python3 logged "Task exception was never retrieved" if it failed.
                outcome, label = getattr(rec, 'floating_ends', {}).get(sid, (None, None))
                reason = label.split(' \u2192 ', 1)[1] if outcome == 'rejected' and label and ' \u2192 ' in label else None
                if reason is None or reason == 'cancelled':
                    continue
                entry['state'] = 'rejected'
                entry['reason'] = reason[:200]
                out.append(entry)
                continue
            if task.cancelled():
                continue  # cancelled by the program
            if not task.done():
                entry['state'] = 'pending'
            else:
                # _exception, not exception(): "Task exception was never retrieved" stays as it was.
                exc = getattr(task, '_exception', None)
                if exc is None or getattr(task, '_log_traceback', True) is False:
                    continue  # finished, or someone retrieved its exception
                entry['state'] = 'rejected'
                entry['reason'] = ('%s: %s' % (type(exc).__name__, exc) if str(exc) else type(exc).__name__)[:200]
        out.append(entry)
    return out


def report(tasks, snippet_file, rec=None, at='stop'):
    """The 'pending' message for the live tasks in `tasks` (the runtime's task map) and the
    floating calls `rec` noted, or None when there is neither. `at`: 'stop' (Stop, --timeout) or
    'exit' (the program ended: asyncio.run is about to cancel what is left)."""
    live = [t for t in list(tasks) if not t.done()][:_MAX_TASKS]
    floating = _floating(rec) if rec is not None else []
    if not live and not floating:
        return None
    names = {t: _task_name(t) for t in live}
    main = sys.modules.get('__main__')
    waits = []
    for task in live:
        try:
            frames = [f for f in _coroutine_stack(task) if f.f_code.co_filename == snippet_file]
        except Exception:
            frames = []
        scopes = [f.f_locals for f in reversed(frames)]
        if main is not None:
            scopes.append(main.__dict__)
        stack = [{'line': int(f.f_lineno or 0), 'label': str(_label_of(f))} for f in frames]
        try:
            on = _target(task, getattr(task, '_fut_waiter', None), names, scopes)
        except Exception as exc:
            on = {'kind': 'other', 'text': 'unknown (%s)' % type(exc).__name__}
        waits.append({'id': 0, 'task': str(names[task]), 'on': on, 'stack': stack})
    return {'type': 'pending', 'at': at, 'waits': waits, 'returns': [], 'cleared': [], 'floating': floating}


def _label_of(frame):
    """A frame's label: its source line as the snippet wrote it (linecache holds unsaved buffers too)."""
    text = linecache.getline(frame.f_code.co_filename, frame.f_lineno or 0).strip() or frame.f_code.co_name
    return text[:119] + '\u2026' if len(text) > 120 else text
