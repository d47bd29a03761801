"""After a rejected login the next attempt waits 1, 2, 4 … up to 60 minutes; other failures keep the pace."""
import datetime

import pytest

from services import backoff, outage

T0 = datetime.datetime(2026, 3, 2, 12, 0, 0)
MINUTE = datetime.timedelta(minutes=1)


def test_rejections_in_a_row_double_the_wait_up_to_an_hour():
    assert [backoff.delay(n) for n in range(0, 10)] == [
        datetime.timedelta(0), MINUTE, 2 * MINUTE, 4 * MINUTE, 8 * MINUTE, 16 * MINUTE, 32 * MINUTE,
        60 * MINUTE, 60 * MINUTE, 60 * MINUTE]
    assert backoff.delay(10 ** 6) == 60 * MINUTE


def test_each_rejected_login_counts_and_sets_the_next_attempt():
    rejections, now, waits = 0, T0, []
    for _attempt in range(8):
        rejections, next_attempt = backoff.after_failure('auth', rejections, now)
        waits.append(int((next_attempt - now).total_seconds() // 60))
        now = next_attempt
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert rejections == 8


@pytest.mark.parametrize('kind', ['timeout', 'refused', 'network', 'unavailable', 'protocol', 'unknown',
                                  'dns', 'tls', 'mailbox', 'oauth_unavailable'])
def test_other_failures_keep_the_pace_and_the_count(kind):
    assert not backoff.backs_off(kind)
    assert backoff.after_failure(kind, 0, T0) == (0, None)
    assert backoff.after_failure(kind, 3, T0) == (3, None)


def test_only_a_rejected_login_backs_off():
    assert backoff.backs_off('auth')
    assert backoff.BACKS_OFF == {'auth', 'oauth_grant', 'oauth_client', 'oauth_refused'}


@pytest.mark.parametrize('kind', ['oauth_grant', 'oauth_client', 'oauth_refused'])
def test_a_dead_sign_in_backs_off_like_a_rejected_password(kind):
    """A refresh token the provider no longer honours is not asked about every minute until Reconnect."""
    rejections, next_attempt = backoff.after_failure(kind, 0, T0)
    assert rejections == 1 and next_attempt == T0 + datetime.timedelta(minutes=1)


def test_due_at_the_next_attempt_not_before():
    assert backoff.is_due(None, T0)
    assert not backoff.is_due(T0 + MINUTE, T0 + MINUTE - datetime.timedelta(seconds=1))
    assert backoff.is_due(T0 + MINUTE, T0 + MINUTE)
    assert backoff.is_due(T0 + MINUTE, T0 + 2 * MINUTE)


@pytest.mark.parametrize('delta, expected', [
    (datetime.timedelta(seconds=59), []),
    (datetime.timedelta(seconds=-30), []),
    (datetime.timedelta(minutes=1), [(1, 'min')]),
    (datetime.timedelta(minutes=45, seconds=59), [(45, 'min')]),
    (datetime.timedelta(hours=3), [(3, 'h')]),
    (datetime.timedelta(hours=3, minutes=20, seconds=5), [(3, 'h'), (20, 'min')]),
    (datetime.timedelta(days=2, minutes=5), [(2, 'd')]),
    (datetime.timedelta(days=2, hours=4, minutes=5), [(2, 'd'), (4, 'h')]),
    (datetime.timedelta(days=400), [(400, 'd')]),
])
def test_how_long_an_account_has_been_failing(delta, expected):
    assert outage.elapsed(T0, T0 + delta) == expected
