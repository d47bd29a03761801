"""Which messages a fetch reads, and how an interrupted first read resumes with exactly the same ones."""
import datetime

from services import progress

UNSEEN = [3, 4, 5, 9, 10, 11, 12, 20]


def test_a_folder_never_read_takes_its_unread_mail_then_goes_on_by_uid():
    plan = progress.plan(None, '777', '0', None)
    assert plan == progress.Plan('first', 0, None)
    uids, end_uid = progress.full_read(UNSEEN, [], uidnext=31)
    assert uids == UNSEEN
    assert end_uid == 30  # read mail up to UIDNEXT - 1 is left alone; later mail is read by UID


def test_the_usual_fetch_takes_every_uid_above_the_last_one():
    assert progress.plan('777', '777', '41', datetime.datetime(2024, 5, 2)) == progress.Plan('after', 41, None)


def test_a_uidvalidity_change_rereads_unread_and_recent_mail():
    plan = progress.plan('777', '888', '41', datetime.datetime(2024, 5, 2, 10, 0))
    assert plan == progress.Plan('resync', 0, datetime.date(2024, 5, 1))
    assert progress.full_read([7, 9], [5, 7, 8], uidnext=10) == ([5, 7, 8, 9], 9)
    assert progress.full_read([12], [], uidnext=10) == ([12], 12)  # arrived between SELECT and SEARCH


def test_an_interrupted_first_read_resumes_after_its_last_committed_batch():
    uids, end_uid = progress.full_read(UNSEEN, [], uidnext=31)
    stored = progress.Unfinished('777', progress.compact(uids), str(end_uid), '0')
    done = []
    for batch in progress.batches(progress.still_to_read(stored), 3)[:2]:  # two batches, then a crash
        done.extend(batch)
        stored = stored._replace(done_uid=str(max(batch)))
    assert progress.plan(None, '777', '0', None, stored) == progress.Plan('resume', 11, None)
    rest = progress.still_to_read(stored)
    assert rest == [12, 20]
    assert done + rest == UNSEEN  # exactly the messages of the uninterrupted read, none twice
    assert int(stored.end_uid) == end_uid


def test_a_resumed_read_does_not_look_at_flags_or_new_mail_again():
    # The read chose UNSEEN when it started; afterwards someone read message 20 and new mail came (31, 32):
    # the resumed read still takes 20, and leaves 31 and 32 to the fetches by UID after it.
    stored = progress.Unfinished('777', progress.compact(UNSEEN), '30', '10')
    assert progress.still_to_read(stored) == [11, 12, 20]


def test_a_resync_resumes_too():
    stored = progress.Unfinished('888', progress.compact([5, 7, 8, 9]), '9', '7')
    assert progress.plan('777', '888', '41', datetime.datetime(2024, 5, 2), stored).mode == 'resume'
    assert progress.still_to_read(stored) == [8, 9]


def test_an_unfinished_read_of_another_uidvalidity_is_started_again():
    stored = progress.Unfinished('777', '3:5', '30', '4')
    assert progress.plan(None, '999', '0', None, stored).mode == 'first'
    assert progress.plan('555', '999', '0', datetime.datetime(2024, 5, 2), stored).mode == 'resync'


def test_uid_sets_are_stored_compactly():
    assert progress.compact([]) == ''
    assert progress.compact([12, 3, 4, 5, 9, 10, 11, 20, 4]) == '3:5,9:12,20'
    assert progress.expand('3:5,9:12,20') == [3, 4, 5, 9, 10, 11, 12, 20]
    assert progress.expand('') == []
    many = list(range(1, 50001, 2))  # every other message of 50,000 unread: still a text of a few hundred KB
    assert progress.expand(progress.compact(many)) == many
    assert len(progress.compact(range(1, 50001))) == len('1:50000')


def test_batches():
    assert progress.batches([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert progress.batches([], 50) == []
