"""Which IMAP messages a fetch must read, from what was stored after the last one.

IMAP UIDs only mean something together with the folder's UIDVALIDITY:
- ``first``: the folder was never read; take the unread messages, then go on from UIDNEXT.
- ``resync``: UIDVALIDITY changed, so the stored UID is meaningless; take what arrived since
  the last fetch (a day of margin) and every unread message: the per-account Message-ID
  ledger drops what was imported before, and nothing new is skipped.
- ``after``: the usual case, every UID above the last one done.
- ``resume``: a ``first`` or ``resync`` read was interrupted (a crash, a lost connection).

A ``first`` or ``resync`` read chooses its messages by flag and date, which change while it
runs (someone reads a message, new mail arrives). So before its first batch it stores what it
chose: the UIDs (``Unfinished.uids``), the last UID to record when it ends (``end_uid``: the
folder's UIDNEXT - 1 then, so that later mail is read by UID afterwards) and, with each
committed batch, the last UID done (``done_uid``). An interrupted read resumes from there with
exactly the messages the uninterrupted one would have taken, whatever happened to their flags.
"""
import datetime
from collections import namedtuple

Plan = namedtuple('Plan', 'mode last_uid since')
Unfinished = namedtuple('Unfinished', 'uidvalidity uids end_uid done_uid')

MARGIN = datetime.timedelta(days=1)


def plan(stored_uidvalidity, current_uidvalidity, last_uid, last_fetch, unfinished=None):
    """The ``Plan`` for a folder; ``last_fetch`` is a ``datetime`` or ``None``; ``unfinished`` an
    ``Unfinished`` read or ``None``. An unfinished read of another UIDVALIDITY is meaningless: it is
    ignored and the folder is planned as if it had never started."""
    if unfinished and unfinished.uidvalidity and str(unfinished.uidvalidity) == str(current_uidvalidity):
        return Plan('resume', int(unfinished.done_uid or 0), None)
    if not stored_uidvalidity:
        return Plan('first', 0, None)
    if str(stored_uidvalidity) != str(current_uidvalidity):
        since = (last_fetch - MARGIN).date() if last_fetch else None
        return Plan('resync', 0, since)
    return Plan('after', int(last_uid or 0), None)


def full_read(unseen_uids, since_uids, uidnext):
    """What a ``first`` or ``resync`` read takes: ``(uids, end_uid)``, the unread UIDs and those since the
    date, ascending, and the last UID to record when it is done (mail from UIDNEXT on is read by UID)."""
    uids = sorted(set(unseen_uids) | set(since_uids))
    return uids, max([int(uidnext or 0) - 1] + uids + [0])


def still_to_read(unfinished):
    """The UIDs of an ``Unfinished`` read that are not done yet, ascending."""
    done = int(unfinished.done_uid or 0)
    return [uid for uid in expand(unfinished.uids) if uid > done]


def batches(uids, size):
    """``uids`` in consecutive lists of at most ``size``."""
    size = max(1, int(size))
    return [uids[start:start + size] for start in range(0, len(uids), size)]


def compact(uids):
    """UIDs as an IMAP sequence set (``'1:4,7,9:12'``): runs of consecutive UIDs take one item."""
    runs = []
    for uid in sorted(set(uids)):
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return ','.join(str(start) if start == end else '%d:%d' % (start, end) for start, end in runs)


def expand(text):
    """The UIDs of a sequence set written by ``compact``, ascending."""
    uids = []
    for item in (text or '').split(','):
        if not item.strip():
            continue
        start, _colon, end = item.partition(':')
        uids.extend(range(int(start), int(end or start) + 1))
    return uids
