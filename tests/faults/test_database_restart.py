"""PostgreSQL restarted in the middle of a fetch, on a private cluster of the test's own (never the machine's): the
fetch stops cleanly, and the next one ends with every message exactly once.

The restart is put at two chosen moments, each made certain rather than left to chance: while the fetch is storing
a batch (its transaction is cut), and while it waits for the IMAP server between two batches (no transaction of it
is open, but the connection holding the account's fetch lock is cut: it must not go on without the lock).
"""
import os
import shutil
import signal

import psycopg2
import pytest

from tests.support.postgres import PrivateCluster

from .conftest import DB, ROOT, assert_exactly_once, connect, fetch_lock_holders, outcome, query, receipts, wait_until

BATCH = 10
COPY = DB + '_restart'


@pytest.fixture
def cluster():
    server = PrivateCluster().start()
    yield server
    server.destroy()
    shutil.rmtree(os.path.join(ROOT, '.data', 'filestore', COPY), ignore_errors=True)


def backends(where):
    """``(pid, state, wait_event_type, xact_start)`` of the sessions of the database other than this one."""
    connection = connect(**where)
    try:
        return query(connection, 'SELECT pid, state, wait_event_type, xact_start FROM pg_stat_activity '
                                 'WHERE datname = current_database() AND pid != pg_backend_pid()')
    finally:
        connection.close()


def stopped_storing_a_batch(where):
    """Hold the ledger table so that the fetch's next batch waits in the middle of its transaction, and wait until
    it does; returns what to undo once the database has restarted."""
    holder = psycopg2.connect(dbname=where['database'], host=where['host'], port=where['port'])
    holder.cursor().execute('LOCK TABLE postcenter_email_receipt IN SHARE MODE')
    wait_until(lambda: any(row[2] == 'Lock' for row in backends(where)),
               what='the fetch to wait for the ledger in the middle of a batch')
    return holder.close


def stopped_between_batches(where, account):
    """Freeze Dovecot's process of the fetch's IMAP session, and wait until the fetch waits for it with none of its
    transactions open but the one of its lock; returns what to undo once the database has restarted."""
    imap = account.dovecot.session_process(account.login)
    os.kill(imap, signal.SIGSTOP)
    holder, = fetch_lock_holders(account.id, **where)
    locked_at = [row[3] for row in backends(where) if row[0] == holder][0]
    stable = []

    def waiting_for_imap():
        # The transactions open since the lock was taken are batches; the older ones are the lock's and the
        # caller's (the request or cron job that pressed Fetch Now), open for the whole fetch.
        batches = [row for row in backends(where) if row[3] and row[3] > locked_at]
        stable.append(receipts(account.id, **where))
        return not batches and len(stable) > 3 and len(set(stable[-3:])) == 1
    wait_until(waiting_for_imap, what='the fetch to wait for the IMAP server between two batches')
    return lambda: os.kill(imap, signal.SIGCONT)


@pytest.mark.parametrize('moment', ['storing_a_batch', 'between_batches'])
def test_postgres_restarted_in_the_middle_of_a_fetch(account, child, cluster, moment):
    subjects = ['Pedido %02d' % n for n in range(80)]
    account.deliver(subjects)
    cluster.copy_database(DB, COPY)  # the test database, with the account, into the private cluster
    where = {'database': COPY, 'host': cluster.host, 'port': cluster.port}
    odoo = {'database': COPY, 'db_host': cluster.host, 'db_port': cluster.port}

    run = child(**odoo).start('fetch', account.id)
    wait_until(lambda: receipts(account.id, **where) >= 2 * BATCH, what='two batches committed')
    undo = stopped_storing_a_batch(where) if moment == 'storing_a_batch' else stopped_between_batches(where, account)
    stored = receipts(account.id, **where)
    try:
        cluster.restart()  # every session is cut: the batch being stored, the one holding the fetch lock
    finally:
        undo()
    failed = run.wait()
    assert (failed['ok'], failed['returncode']) == (False, 2), \
        'a fetch whose database went away in the middle must not report success: %s' % failed
    found = outcome(account.id, **where)
    # It stopped there: the batch being stored is rolled back, and no batch is stored after the restart (with its
    # lock gone, another fetch of the account could be running beside it).
    assert found['receipts'] == stored
    assert 2 * BATCH <= stored < len(subjects) and stored % BATCH == 0
    assert_exactly_once(found, subjects[:stored])
    assert not fetch_lock_holders(account.id, **where)

    assert child(**odoo).run('fetch', account.id)['ok']
    found = outcome(account.id, **where)
    assert_exactly_once(found, subjects)
    assert (found['state'], found['last_error']) == ('connected', None)
