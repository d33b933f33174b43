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


def report(tasks, snippet_file):
    """The 'pending' message for the live tasks in `tasks` (the runtime's task map), or None."""
    live = [t for t in list(tasks) if not t.done()][:_MAX_TASKS]
    if not live:
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
    return {'type': 'pending', 'at': 'stop', 'waits': waits, 'returns': [], 'cleared': [], 'floating': []}


def _label_of(frame):
    """A frame's label: its source line as the snippet wrote it (linecache holds unsaved buffers too)."""
    text = linecache.getline(frame.f_code.co_filename, frame.f_lineno or 0).strip() or frame.f_code.co_name
    return text[:119] + '\u2026' if len(text) > 120 else text
