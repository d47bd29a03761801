"""Service times: response deadlines (SLA) and automatic closing.

Times are given as an amount and a unit, as the account's settings store them;
the clock is always passed in.
"""
import datetime

UNITS = ('seconds', 'minutes', 'hours')
_SECONDS = {'seconds': 1, 'minutes': 60, 'hours': 3600}


def delay(amount, unit):
    """The duration of ``amount`` ``unit``; ``None`` when the amount is zero or less (the rule is off)."""
    if not amount or amount <= 0:
        return None
    if unit not in _SECONDS:
        raise ValueError('Unknown time unit: %r' % (unit,))
    return datetime.timedelta(seconds=amount * _SECONDS[unit])


def seconds(amount, unit):
    """``delay`` in whole seconds (0 when the rule is off), for SQL interval arithmetic."""
    duration = delay(amount, unit)
    return int(duration.total_seconds()) if duration else 0


def deadline(start, amount, unit):
    """When something started at ``start`` is due, or ``None`` when there is no start or the rule is off."""
    duration = delay(amount, unit)
    if start is None or duration is None:
        return None
    return start + duration


def is_due(due_at, now):
    """Whether a deadline has been reached at ``now`` (a deadline of ``None`` never is)."""
    return due_at is not None and due_at <= now
