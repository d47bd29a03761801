"""IMAP fetches in real Odoo processes that are killed, run side by side, or lose their IMAP server: every message
ends up exactly once (ledger, ticket, chatter email), and the account says what happened in plain words."""
from .conftest import assert_exactly_once, fetch_lock_holders, outcome, receipts, wait_until

BATCH = 10  # postcenter_email.fetch_batch_size, set by the ``account`` fixture

CUT_MIDWAY = ('The connection to the IMAP server 127.0.0.1 was cut in the middle of the fetch. What was fetched '
              'before is kept; the next fetch goes on from there. If this keeps happening, check the network between '
              'the helpdesk and the server, or ask your mail provider whether it limits connections.')


def bodies_sent(sessions):
    """How many message bodies Dovecot sent over these IMAP sessions."""
    return sum(session['body_count'] for session in sessions)


def test_fetch_killed_in_the_middle_of_a_first_fetch_resumes_where_it_stopped(account, child):
    account.deliver(['Leído antes %d' % n for n in range(3)], seen=True)  # read before the first fetch: left alone
    subjects = ['Mensaje %03d' % n for n in range(150)]
    uids = account.deliver(subjects)
    sessions = len(account.dovecot.wait_sessions(account.login, 2))

    first = child().start('fetch', account.id)
    wait_until(lambda: receipts(account.id) >= 3 * BATCH, what='three batches of the first fetch committed')
    first.pause()
    committed = receipts(account.id)
    first.kill()
    assert 3 * BATCH <= committed < len(subjects)
    assert committed % BATCH == 0, 'a batch is committed whole or not at all'
    killed = account.dovecot.wait_sessions(account.login, sessions + 1, timeout=60)[sessions:]
    assert len(killed) == 1 and killed[0]['reason'] != 'Logged out'  # cut: 'Connection closed' or '... reset ...'
    wait_until(lambda: not fetch_lock_holders(account.id), what='the killed process to let go of the fetch lock')
    found = outcome(account.id)
    assert_exactly_once(found, subjects[:committed])
    assert (found['state'], found['last_error']) == ('connected', None)  # it had no chance to say anything

    # Before it runs again, someone reads a message it has not reached, and new mail arrives.
    account.mark_seen([uids[-1]])
    late = ['Llegó después, leído', 'Llegó después']
    account.deliver(late[:1], seen=True)
    account.deliver(late[1:])
    sessions = len(account.dovecot.wait_sessions(account.login, sessions + 4))

    assert child().run('fetch', account.id)['ok']
    second = account.dovecot.wait_sessions(account.login, sessions + 1)[sessions:]
    # It resumed: it downloaded only what the killed fetch had not committed, including the message read meanwhile
    # (the first fetch had chosen it), and not the mail that came after the first fetch had started.
    assert bodies_sent(second) == len(subjects) - committed
    found = outcome(account.id)
    assert_exactly_once(found, subjects)
    assert (found['state'], found['last_error']) == ('connected', None)

    assert child().run('fetch', account.id)['ok']  # later mail is read by UID, read or not
    assert bodies_sent(account.dovecot.wait_sessions(account.login, sessions + 2)[sessions + 1:]) == 2
    assert_exactly_once(outcome(account.id), subjects + late)


def test_scheduled_fetch_and_fetch_now_at_the_same_time(account, child):
    subjects = ['Consulta %02d' % n for n in range(40)]
    account.deliver(subjects)
    sessions = len(account.dovecot.wait_sessions(account.login, 1))

    cron = child().start('cron')  # the scheduled action, as Odoo's cron worker runs it
    wait_until(lambda: fetch_lock_holders(account.id), what='the scheduled fetch to take the account')
    cron.pause()  # it holds the account while a user presses Fetch Now
    try:
        assert fetch_lock_holders(account.id)
        now = child().run('fetch', account.id)
    finally:
        cron.resume()
    assert now['returncode'] == 1
    assert now['user_error'] == '"Soporte %s" is being fetched right now; try again in a minute.' % \
        account.login.split('@')[0]
    assert cron.wait()['ok']
    found = outcome(account.id)
    assert_exactly_once(found, subjects)
    assert (found['state'], found['last_error']) == ('connected', None)

    # The other way round: Fetch Now holds the account when the scheduled action comes; it leaves it alone.
    more = ['Otra consulta %02d' % n for n in range(20)]
    account.deliver(more)
    now = child().start('fetch', account.id)
    wait_until(lambda: fetch_lock_holders(account.id), what='Fetch Now to take the account')
    now.pause()
    try:
        assert fetch_lock_holders(account.id)
        assert child().run('cron')['ok']
    finally:
        now.resume()
    assert now.wait()['ok']
    found = outcome(account.id)
    assert_exactly_once(found, subjects + more)
    assert (found['state'], found['last_error']) == ('connected', None)
    # Only the process holding the account spoke to the IMAP server: each message was downloaded once.
    fetches = account.dovecot.wait_sessions(account.login, sessions + 3)[sessions:]
    assert len(fetches) == 3  # the scheduled fetch, a delivery, Fetch Now
    assert bodies_sent(fetches) == len(subjects + more)


def test_imap_server_gone_in_the_middle_of_a_fetch(account, child):
    dovecot = account.dovecot
    subjects = ['Reclamo %02d' % n for n in range(80)]
    account.deliver(subjects)

    run = child().start('fetch', account.id)
    wait_until(lambda: receipts(account.id) >= 2 * BATCH, what='two batches committed')
    run.pause()
    dovecot.stop()  # ends every session, as a server going down does
    try:
        run.resume()
        assert run.wait()['ok']  # Fetch Now ends normally: the account says what happened
        found = outcome(account.id)
        assert 2 * BATCH <= found['receipts'] < len(subjects)
        assert_exactly_once(found, subjects[:found['receipts']])
        assert found['state'] == 'error'
        assert found['last_error'] == CUT_MIDWAY

        assert child().run('fetch', account.id)['ok']  # while it is down
        found = outcome(account.id)
        assert found['state'] == 'error'
        assert found['last_error'].startswith('The server 127.0.0.1 refused the connection on port %d.'
                                              % dovecot.imap_port)
    finally:
        dovecot.start()
    kept = found['receipts']
    sessions = len(account.sessions())

    assert child().run('fetch', account.id)['ok']
    assert account.dovecot.wait_sessions(account.login, sessions + 1)[-1]['body_count'] == len(subjects) - kept
    found = outcome(account.id)
    assert_exactly_once(found, subjects)
    assert (found['state'], found['last_error']) == ('connected', None)
