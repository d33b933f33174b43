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
    cache = _bytecode_cache_dir()
    saved = (sys.pycache_prefix, sys.dont_write_bytecode)
    if cache is not None:
        sys.pycache_prefix, sys.dont_write_bytecode = cache, False
    try:
        import _awtl_runner  # imports nothing of the standard library at its top but os and sys
    finally:
        sys.pycache_prefix, sys.dont_write_bytecode = saved
    return _awtl_runner, cache


if __name__ == '__main__':
    _runner, _cache = _load()
    sys.exit(_runner.main(_cache))
