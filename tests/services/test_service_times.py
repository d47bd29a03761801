"""Response time (SLA), auto-close, working hours and agent availability, with the clock passed in."""
import datetime

import pytest

from services import availability, schedule, sla

T0 = datetime.datetime(2026, 3, 2, 12, 0, 0)


@pytest.mark.parametrize('amount, unit, expected', [
    (30, 'seconds', datetime.timedelta(seconds=30)),
    (15, 'minutes', datetime.timedelta(minutes=15)),
    (4, 'hours', datetime.timedelta(hours=4)),
    (48, 'hours', datetime.timedelta(days=2)),
])
def test_each_unit(amount, unit, expected):
    assert sla.delay(amount, unit) == expected
    assert sla.seconds(amount, unit) == expected.total_seconds()
    assert sla.deadline(T0, amount, unit) == T0 + expected


def test_zero_or_negative_turns_the_rule_off():
    for amount in (0, -5, None):
        assert sla.delay(amount, 'hours') is None
        assert sla.deadline(T0, amount, 'hours') is None
        assert sla.seconds(amount, 'minutes') == 0


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        sla.delay(3, 'days')


def test_due_exactly_at_the_deadline_and_after_not_before():
    due = sla.deadline(T0, 10, 'minutes')
    assert not sla.is_due(due, T0 + datetime.timedelta(minutes=9, seconds=59))
    assert sla.is_due(due, T0 + datetime.timedelta(minutes=10))
    assert sla.is_due(due, T0 + datetime.timedelta(hours=3))
    assert not sla.is_due(None, T0 + datetime.timedelta(days=999))
    assert sla.deadline(None, 10, 'minutes') is None


def test_working_time_end_excluded():
    intervals = [(T0, T0 + datetime.timedelta(hours=4))]
    assert schedule.is_working_time(intervals, T0)
    assert schedule.is_working_time(intervals, T0 + datetime.timedelta(hours=3, minutes=59))
    assert not schedule.is_working_time(intervals, T0 + datetime.timedelta(hours=4))
    assert not schedule.is_working_time(intervals, T0 - datetime.timedelta(seconds=1))
    assert not schedule.is_working_time([], T0)


def agent(seconds_since_poll, seconds_since_presence, available=True):
    ago = lambda seconds: None if seconds is None else T0 - datetime.timedelta(seconds=seconds)  # noqa: E731
    return availability.Agent(1, available, ago(seconds_since_poll), ago(seconds_since_presence))


@pytest.mark.parametrize('poll, presence, expected', [
    (10, 10, 'online'),           # polling, active
    (10, 1799, 'online'),
    (10, 1801, 'away'),            # tab open, idle for more than 30 minutes
    (56, 10, 'offline'),           # no poll for longer than the disconnection timer
    (None, None, 'offline'),       # never connected
])
def test_presence_as_odoo_computes_it(poll, presence, expected):
    a = agent(poll, presence)
    assert availability.presence(a.last_poll, a.last_presence, T0, 55, 1800) == expected


def test_an_agent_is_available_when_switched_on_and_online():
    assert availability.is_available(agent(5, 5), T0, 55, 1800)
    assert not availability.is_available(agent(5, 5, available=False), T0, 55, 1800)
    assert not availability.is_available(agent(5, 4000), T0, 55, 1800)
    assert not availability.is_available(agent(120, 5), T0, 55, 1800)
    assert availability.anyone_available([agent(120, 5), agent(5, 5)], T0, 55, 1800)
    assert not availability.anyone_available([agent(120, 5), agent(5, 5, available=False)], T0, 55, 1800)
    assert not availability.anyone_available([], T0, 55, 1800)
