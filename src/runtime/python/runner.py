"""The engine's Python runtime entry: `<python> runner.py`, channel on fds 61-63 (see _awtl_runner)."""
# Only this file is compiled at every start (python3 keeps no bytecode for the script it runs):
# the runner itself, as our other modules, loads from bytecode kept in the user's cache folder.

import os
import sys


def _bytecode_cache_dir():
    """Where our own modules' bytecode is kept: the user's cache folder (as the JS runtime's code
    cache), whether or not our folder is writable or PYTHONDONTWRITEBYTECODE is set."""
    if os.environ.get('AWAIT_TIMELINE_CODE_CACHE') == '0':
        return None
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
    path = os.path.join(base, 'await-timeline', 'python')
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return path


def _load():
    """Imports the runtime's modules, their bytecode from our cache when it is there (compiling them
    was a third of the runner's start), while sys.path[0] is still this folder. The standard library
    they use loads first, from its own __pycache__ as under python3; the program's imports never
    see our cache or settings."""
    import asyncio, asyncio.base_events, ast, collections, contextvars, functools, json, linecache, re, struct  # noqa: E401,F401
    import threading, types, weakref  # noqa: E401,F401
    cache = _bytecode_cache_dir()
    saved = (sys.pycache_prefix, sys.dont_write_bytecode)
    if cache is not None:
        sys.pycache_prefix, sys.dont_write_bytecode = cache, False
    try:
        import _awtl_recorder  # noqa: F401
        import _awtl_hooks  # noqa: F401
        import _awtl_transform  # noqa: F401
        import _awtl_warp  # noqa: F401
        import _awtl_pending  # noqa: F401 (the control thread reads tasks with it at a stop)
        import _awtl_runner
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = saved
    return _awtl_runner


if __name__ == '__main__':
    sys.exit(_load().main())
