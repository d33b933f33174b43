# A peer for the Python bench: the tracer a developer writes with sys.setprofile to see every
# coroutine call: each call and return event (Python and C) with its code object and the time,
# kept in a list, one tuple an event.
# Usage: python3 bench/peers/setprofile.py program.py [args]
import runpy
import sys
import time

events = []
append = events.append
clock = time.perf_counter


def profile(frame, event, arg):
    append((event, frame.f_code, clock()))


target = sys.argv[1]
sys.argv = sys.argv[1:]
sys.setprofile(profile)
try:
    runpy.run_path(target, run_name='__main__')
finally:
    sys.setprofile(None)
    print(f'PEER setprofile {len(events)} events', file=sys.stderr)
