"""When to log in to an IMAP account again after a fetch failed.

Only a rejected login backs off: 1, 2, 4 … minutes after each rejection in a row, never more than
60. With OAuth, the refusals that need a person count as rejected logins too: the provider no
longer honours the refresh token (``oauth_grant``, until Reconnect), it refuses the helpdesk's
client ID or secret (``oauth_client``), or the mail server refuses the token (``oauth_refused``).
Gmail and Microsoft lock a mailbox that keeps failing to log in, so retrying a wrong password
every minute would turn a typo into a locked account. Every other failure keeps the normal pace
(the next scheduled run), because none of them is a failed login:

- a timeout, a refused connection, a lost connection, a server saying it is unavailable for now
  (``transient``) pass by themselves; waiting longer would only delay the mail;
- a server name that cannot be found (``dns``) or a failed TLS handshake (``tls``) never reach
  the login: no password is tried, nothing counts against the mailbox, and a resolver or
  certificate fixed on the other side is picked up at the next run;
- INBOX that cannot be opened (``mailbox``) comes after a login that worked, which is what a
  healthy account does every minute anyway.

The rejections are counted in a row: a failure of another kind between two rejections neither adds
nor clears one (the provider's own count does not reset either); a connection that works clears it.
"""
import datetime

BACKS_OFF = frozenset({'auth', 'oauth_grant', 'oauth_client', 'oauth_refused'})
FIRST_DELAY = datetime.timedelta(minutes=1)
LONGEST_DELAY = datetime.timedelta(minutes=60)


def backs_off(kind):
    """Whether a failure of ``kind`` (a ``MailServerError.kind``) makes the next attempt wait."""
    return kind in BACKS_OFF


def delay(rejections, first=FIRST_DELAY, longest=LONGEST_DELAY):
    """The wait after the ``rejections``-th rejected login in a row: ``first``, doubled each time, at most
    ``longest``; none before the first rejection."""
    if rejections < 1:
        return datetime.timedelta(0)
    doublings = min(rejections - 1, 32)  # 2 ** 32 minutes is far past any cap
    return min(longest, first * 2 ** doublings)


def after_failure(kind, rejections, now):
    """``(rejections, next_attempt)`` after a failed fetch of ``kind`` at ``now``, given the rejections in a
    row before it; ``next_attempt`` is ``None`` when the next scheduled run may try."""
    if not backs_off(kind):
        return rejections, None
    rejections += 1
    return rejections, now + delay(rejections)


def is_due(next_attempt, now):
    """Whether the scheduled fetch may try an account whose next attempt is ``next_attempt`` (or ``None``)."""
    return next_attempt is None or next_attempt <= now
