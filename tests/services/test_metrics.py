"""Service metrics of a ticket, live one event at a time and replayed from its chatter, with the clock passed in."""
import datetime

from services import metrics, schedule
from services.metrics import AGENT, CLOSE, CUSTOMER, MET, MISSED, REOPEN, Event

FRIDAY = datetime.datetime(2026, 3, 6, 16, 0, 0)  # UTC
HOUR = datetime.timedelta(hours=1)


def office_hours(first_day, days):
    """Monday to Friday, 9:00 to 18:00 UTC, from ``first_day`` (a date) for ``days`` days."""
    intervals = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        if day.weekday() < 5:
            start = datetime.datetime.combine(day, datetime.time(9))
            intervals.append((start, start + 9 * HOUR))
    return intervals


def live(events, sla_seconds, working_seconds=None, late_at=()):
    """What the live events write, one at a time, with the response clock the helpdesk keeps, and the scheduled
    action marking late at the moments ``late_at``."""
    state, waiting, deadline, late, closed = metrics.blank(), False, None, False, False
    pending = sorted(late_at)

    def cron_until(moment):
        nonlocal late
        while pending and pending[0] <= moment:
            run = pending.pop(0)
            if deadline is not None and deadline <= run and not late:
                state.update(metrics.became_late(state))
                late = True
    for event in events:
        cron_until(event.at)
        if event.kind == CUSTOMER:
            state.update(metrics.customer_email(state, event.at))
            if not waiting:
                waiting, late = True, False
                deadline = event.at + datetime.timedelta(seconds=sla_seconds) if sla_seconds else None
        elif event.kind == AGENT:
            state.update(metrics.agent_answer(state, event.at, deadline, late, working_seconds))
            waiting, deadline, late = False, None, False
        elif event.kind == CLOSE:
            state.update(metrics.close(state, event.at, deadline, late))
            waiting, deadline, late, closed = False, None, False, True
        elif event.kind == REOPEN and closed:
            state.update(metrics.reopen(state))
            closed = False
    cron_until(datetime.datetime.max)
    return state


def test_working_seconds_cut_the_intervals_to_the_span_and_count_overlaps_once():
    day = datetime.datetime(2026, 3, 2)
    intervals = [(day + 9 * HOUR, day + 13 * HOUR), (day + 12 * HOUR, day + 18 * HOUR)]
    assert schedule.working_seconds(intervals, day, day + 24 * HOUR) == 9 * 3600
    assert schedule.working_seconds(intervals, day + 10 * HOUR, day + 11 * HOUR) == 3600
    assert schedule.working_seconds(intervals, day + 17 * HOUR, day + 30 * HOUR) == 3600
    assert schedule.working_seconds(intervals, day + 19 * HOUR, day + 20 * HOUR) == 0
    assert schedule.working_seconds([], day, day + HOUR) == 0


def test_first_response_across_a_weekend_in_working_hours_and_clock_time():
    """A customer writes on Friday at 16:00; the agent answers on Monday at 10:30: 2 h on Friday and 1 h 30 on
    Monday are working time, 66 h 30 are clock time."""
    intervals = office_hours(FRIDAY.date(), 4)
    answer = datetime.datetime(2026, 3, 9, 10, 30)
    state = metrics.blank()
    state.update(metrics.customer_email(state, FRIDAY))
    changes = metrics.agent_answer(state, answer, deadline=FRIDAY + 72 * HOUR,
                                   working_seconds=lambda a, b: schedule.working_seconds(intervals, a, b))
    assert changes['first_response_time'] == 66 * 3600 + 1800
    assert changes['first_response_work_time'] == 3 * 3600 + 1800
    assert changes['first_answer_sla'] == MET
    assert changes['agent_answer_count'] == 1


def test_without_a_schedule_the_working_time_is_the_clock_time():
    state = metrics.blank()
    state.update(metrics.customer_email(state, FRIDAY))
    changes = metrics.agent_answer(state, FRIDAY + 5 * HOUR)
    assert changes['first_response_work_time'] == changes['first_response_time'] == 5 * 3600
    assert 'first_answer_sla' not in changes  # no response time: the SLA is not measured


def test_answered_late_missed_the_sla_and_counts_the_time_late():
    state = metrics.blank()
    state.update(metrics.customer_email(state, FRIDAY))
    changes = metrics.agent_answer(state, FRIDAY + 3 * HOUR, deadline=FRIDAY + HOUR, late=False)
    assert changes['first_answer_sla'] == MISSED
    assert changes['late_count'] == 1  # the scheduled action had not marked it yet: it is late now
    assert changes['late_time'] == 2 * 3600
    # marked late by the scheduled action first: late once, not twice
    state.update(metrics.became_late(state))
    changes = metrics.agent_answer(state, FRIDAY + 3 * HOUR, deadline=FRIDAY + HOUR, late=True)
    assert 'late_count' not in changes and state['late_count'] == 1
    assert state['first_answer_sla'] == MISSED and 'first_answer_sla' not in changes


def test_answered_exactly_at_the_deadline_is_late():
    state = metrics.blank()
    state.update(metrics.customer_email(state, FRIDAY))
    changes = metrics.agent_answer(state, FRIDAY + HOUR, deadline=FRIDAY + HOUR)
    assert changes['first_answer_sla'] == MISSED and changes['late_time'] == 0 and changes['late_count'] == 1


def test_only_the_first_answer_sets_the_first_response():
    state = metrics.blank()
    state.update(metrics.customer_email(state, FRIDAY))
    state.update(metrics.agent_answer(state, FRIDAY + HOUR, deadline=FRIDAY + 2 * HOUR))
    state.update(metrics.customer_email(state, FRIDAY + 5 * HOUR))
    changes = metrics.agent_answer(state, FRIDAY + 9 * HOUR, deadline=FRIDAY + 6 * HOUR)
    assert set(changes) == {'agent_answer_count', 'late_count', 'late_time'}
    state.update(changes)
    assert (state['first_response_time'], state['first_answer_sla'], state['late_time']) == (3600, MET, 3 * 3600)
    assert (state['customer_email_count'], state['agent_answer_count']) == (2, 2)


def test_a_reopened_ticket_counts_its_reopening_and_its_last_close():
    events = [Event(FRIDAY, CUSTOMER), Event(FRIDAY + HOUR, AGENT), Event(FRIDAY + 2 * HOUR, CLOSE),
              Event(FRIDAY + 10 * HOUR, REOPEN), Event(FRIDAY + 10 * HOUR, CUSTOMER),
              Event(FRIDAY + 11 * HOUR, AGENT), Event(FRIDAY + 12 * HOUR, CLOSE)]
    result = metrics.replay(events, 4 * 3600, FRIDAY + 100 * HOUR)
    assert result['reopen_count'] == 1
    assert result['time_to_close'] == 12 * 3600
    assert (result['customer_email_count'], result['agent_answer_count']) == (2, 2)
    assert (result['late_count'], result['late_time'], result['first_answer_sla']) == (0, 0, MET)


def test_closing_a_late_ticket_ends_its_time_late_and_a_wait_still_open_is_late_now():
    events = [Event(FRIDAY, CUSTOMER), Event(FRIDAY + 5 * HOUR, CLOSE)]
    result = metrics.replay(events, 3600, FRIDAY + 100 * HOUR)
    assert (result['late_count'], result['late_time'], result['first_answer_sla']) == (1, 4 * 3600, MISSED)
    assert result['first_answer_date'] is None and result['time_to_close'] == 5 * 3600
    still_waiting = metrics.replay([Event(FRIDAY, CUSTOMER)], 3600, FRIDAY + 2 * HOUR)
    assert (still_waiting['late_count'], still_waiting['late_time']) == (1, 0)  # the time counts when it ends
    not_yet = metrics.replay([Event(FRIDAY, CUSTOMER)], 3600, FRIDAY + datetime.timedelta(minutes=59))
    assert not_yet['late_count'] == 0 and not_yet['first_answer_sla'] is None


def test_a_close_the_chatter_does_not_show_is_taken_from_the_ticket():
    result = metrics.replay([Event(FRIDAY, CUSTOMER)], 0, FRIDAY + 100 * HOUR, closed_at=FRIDAY + 7 * HOUR)
    assert result['time_to_close'] == 7 * 3600
    closed = [Event(FRIDAY, CUSTOMER), Event(FRIDAY + 2 * HOUR, CLOSE)]
    assert metrics.replay(closed, 0, FRIDAY, closed_at=FRIDAY + 7 * HOUR)['time_to_close'] == 2 * 3600


def test_the_replay_equals_the_live_events_whenever_the_scheduled_action_ran():
    """The same conversations, live (with the scheduled action marking late at various moments, or never) and
    replayed: the same metrics."""
    intervals = office_hours(FRIDAY.date(), 10)

    def working(a, b):
        return schedule.working_seconds(intervals, a, b)
    conversations = [
        [Event(FRIDAY, CUSTOMER), Event(FRIDAY + HOUR, CUSTOMER), Event(FRIDAY + 70 * HOUR, AGENT)],
        [Event(FRIDAY, CUSTOMER), Event(FRIDAY + 30 * HOUR, AGENT), Event(FRIDAY + 31 * HOUR, CLOSE),
         Event(FRIDAY + 40 * HOUR, REOPEN), Event(FRIDAY + 40 * HOUR, CUSTOMER), Event(FRIDAY + 90 * HOUR, AGENT),
         Event(FRIDAY + 91 * HOUR, CLOSE)],
        [Event(FRIDAY, CUSTOMER), Event(FRIDAY + 2 * HOUR, CLOSE), Event(FRIDAY + 3 * HOUR, REOPEN),
         Event(FRIDAY + 3 * HOUR, CUSTOMER)],
    ]
    now = FRIDAY + 200 * HOUR
    for events in conversations:
        replayed = metrics.replay(events, 24 * 3600, now, working)
        for late_at in ((), (FRIDAY + 25 * HOUR, FRIDAY + 80 * HOUR), tuple(FRIDAY + n * HOUR for n in range(200))):
            assert live(events, 24 * 3600, working, late_at + (now,)) == replayed
