"""Where the time of ingestion goes, for the benchmark: exclusive seconds per phase (parse, customer, ticket,
chatter, notifications), counted only while a recorder is switched on (``start``); otherwise ``phase`` costs one
attribute read."""
import time
from contextlib import contextmanager

_state = {'totals': None, 'stack': []}


def start():
    """Count from now on, from zero."""
    _state['totals'], _state['stack'] = {}, []


def stop():
    """Stop counting; returns ``{phase: seconds}`` (exclusive of the phases nested in each)."""
    totals, _state['totals'], _state['stack'] = _state['totals'] or {}, None, []
    return totals


@contextmanager
def phase(name):
    """Count the block's time under ``name``, minus the time of the phases nested in it."""
    totals = _state['totals']
    if totals is None:
        yield
        return
    stack = _state['stack']
    now = time.perf_counter()
    if stack:
        outer, since = stack[-1]
        totals[outer] = totals.get(outer, 0.0) + now - since
    stack.append((name, now))
    try:
        yield
    finally:
        end = time.perf_counter()
        _name, since = stack.pop()
        totals[name] = totals.get(name, 0.0) + end - since
        if stack:
            stack[-1] = (stack[-1][0], end)
