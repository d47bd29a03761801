"""Service metrics of an Email-channel ticket: the first response (clock and working time) and whether it met
the response time (SLA), the emails each way, the time to close, the reopenings and the time spent late.

One set of rules serves both ways the metrics are written. Live, each event is applied as it happens, to the
metrics stored on the ticket and its response clock (``customer_email``, ``agent_answer``, ``close``,
``reopen``, ``became_late``: each returns the values that change). The backfill replays a ticket's chatter
through the same functions (``replay``), running the response clock as the helpdesk runs it. Times are naive
UTC datetimes; the clock is always passed in.
"""
import collections
import datetime

MET, MISSED = 'met', 'missed'
CUSTOMER, AGENT, CLOSE, REOPEN = 'customer', 'agent', 'close', 'reopen'

# The stored metrics, in the order of the ticket's columns.
FIELDS = ('first_customer_email_date', 'first_answer_date', 'first_response_time', 'first_response_work_time',
          'first_answer_sla', 'customer_email_count', 'agent_answer_count', 'time_to_close', 'reopen_count',
          'late_count', 'late_time')
COUNTERS = ('customer_email_count', 'agent_answer_count', 'reopen_count', 'late_count', 'late_time')

Event = collections.namedtuple('Event', 'at kind')


def blank():
    """The metrics of a ticket before anything happened."""
    values = dict.fromkeys(FIELDS)
    values.update(dict.fromkeys(COUNTERS, 0))
    return values


def _seconds(duration):
    return max(0, int(duration.total_seconds()))


def customer_email(metrics, at):
    """A customer's email arrived at ``at``."""
    changes = {'customer_email_count': metrics['customer_email_count'] + 1}
    if metrics['first_customer_email_date'] is None:
        changes['first_customer_email_date'] = at
    return changes


def became_late(metrics):
    """The response deadline passed with no answer: one more time late, and a first answer not given yet missed
    the SLA."""
    changes = {'late_count': metrics['late_count'] + 1}
    if metrics['first_answer_date'] is None and metrics['first_answer_sla'] is None:
        changes['first_answer_sla'] = MISSED
    return changes


def _wait_ended(metrics, at, deadline, late):
    """The customer's wait ended at ``at`` (answered or closed). Past its ``deadline`` it was late from the
    deadline on (``late``: already marked so by the scheduled action; if not, it becomes late now)."""
    if deadline is None or at < deadline:
        return {}
    changes = {} if late else became_late(metrics)
    changes['late_time'] = metrics['late_time'] + _seconds(at - deadline)
    return changes


def agent_answer(metrics, at, deadline=None, late=False, working_seconds=None):
    """An agent answered the customer at ``at``; ``deadline`` and ``late``: the response clock just before.

    The first answer sets the first response, from the first customer email: in clock time, and in working time
    by ``working_seconds(start, end)`` (without a schedule every hour is a working hour: the clock time). It met
    the SLA when the customer was waiting with a deadline still ahead (never late before it)."""
    changes = _wait_ended(metrics, at, deadline, late)
    changes['agent_answer_count'] = metrics['agent_answer_count'] + 1
    if metrics['first_answer_date'] is None:
        changes['first_answer_date'] = at
        start = metrics['first_customer_email_date']
        if start is not None:
            changes['first_response_time'] = _seconds(at - start)
            changes['first_response_work_time'] = working_seconds(start, at) if working_seconds \
                else changes['first_response_time']
        if changes.get('first_answer_sla', metrics['first_answer_sla']) is None and deadline is not None:
            changes['first_answer_sla'] = MET
    return changes


def close(metrics, at, deadline=None, late=False):
    """The ticket was closed at ``at`` (the last close counts for the time to close, from the first email)."""
    changes = _wait_ended(metrics, at, deadline, late)
    if metrics['first_customer_email_date'] is not None:
        changes['time_to_close'] = _seconds(at - metrics['first_customer_email_date'])
    return changes


def reopen(metrics):
    """A closed ticket was opened again."""
    return {'reopen_count': metrics['reopen_count'] + 1}


def replay(events, sla_seconds, now, working_seconds=None, closed_at=None):
    """The metrics of a ticket whose chatter holds ``events`` (``Event``: customer emails, agents' answers, closes
    and reopenings, in the order they happened), computed as the live events would have: the response clock runs
    as the helpdesk runs it (from the oldest unanswered customer email, for ``sla_seconds``, 0 for none; stopped
    by an answer or a close), and a wait still open past its deadline at ``now`` is late, as the scheduled action
    has marked it. ``closed_at``: the ticket is closed and was closed then, in a way the chatter may not show
    (closed by SQL): a close then, unless the events end closed."""
    metrics, waiting, closed = blank(), None, False
    deadline, late = None, False

    def apply(changes):
        metrics.update(changes)

    for event in events:
        if event.kind == CUSTOMER:
            apply(customer_email(metrics, event.at))
            if waiting is None:
                waiting, late = event.at, False
                deadline = event.at + datetime.timedelta(seconds=sla_seconds) if sla_seconds > 0 else None
        elif event.kind == AGENT:
            apply(agent_answer(metrics, event.at, deadline, late, working_seconds))
            waiting = deadline = None
            late = False
        elif event.kind == CLOSE and not closed:
            apply(close(metrics, event.at, deadline, late))
            waiting = deadline = None
            late, closed = False, True
        elif event.kind == REOPEN and closed:
            apply(reopen(metrics))
            closed = False
    if closed_at is not None and not closed:
        apply(close(metrics, closed_at, deadline, late))
        waiting = deadline = None
    if deadline is not None and deadline <= now and not late:
        apply(became_late(metrics))
    return metrics
