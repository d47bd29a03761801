"""Which IMAP messages a fetch must read, from what was stored after the last one.

IMAP UIDs only mean something together with the folder's UIDVALIDITY:
- ``first``: the folder was never read; take the unread messages, then go on from UIDNEXT.
- ``resync``: UIDVALIDITY changed, so the stored UID is meaningless; take what arrived since
  the last fetch (a day of margin) and every unread message: the per-account Message-ID
  ledger drops what was imported before, and nothing new is skipped.
- ``after``: the usual case, every UID above the last one done.
"""
import datetime
from collections import namedtuple

Plan = namedtuple('Plan', 'mode last_uid since')

MARGIN = datetime.timedelta(days=1)


def plan(stored_uidvalidity, current_uidvalidity, last_uid, last_fetch):
    """The ``Plan`` for a folder; ``last_fetch`` is a ``datetime`` or ``None``."""
    if not stored_uidvalidity:
        return Plan('first', 0, None)
    if str(stored_uidvalidity) != str(current_uidvalidity):
        since = (last_fetch - MARGIN).date() if last_fetch else None
        return Plan('resync', 0, since)
    return Plan('after', int(last_uid or 0), None)


def batches(uids, size):
    """``uids`` in consecutive lists of at most ``size``."""
    size = max(1, int(size))
    return [uids[start:start + size] for start in range(0, len(uids), size)]
