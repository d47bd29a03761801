"""Faults with real processes: a database of our own (a copy of POSTCENTER_TEST_DB), a Dovecot of our own,
Odoo in this process to arrange and inspect, and the code under test in child processes
(tests/support/odoo_process.py) that are killed, paused, or lose their servers."""
import contextlib
import email.utils
import os
import subprocess
from email.message import EmailMessage

import imapclient
import psycopg2
import pytest

from tests.support.dovecot import Dovecot
from tests.support.odoo_db import copy_database, open_registry
from tests.support.odoo_process import OdooProcess
from tests.support.waiting import wait_until  # noqa: F401 (the suite's tests import it from here)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TEMPLATE = os.environ.get('POSTCENTER_TEST_DB', 'postcenter_test')
DB = TEMPLATE + '_faults'
ARTIFACTS = os.path.join(ROOT, 'test-artifacts', 'faults')
PASSWORD = 'clave-de-prueba'
# Dovecot reads its password file again at most once a second: the users exist before it starts.
MAILBOXES = ['mailbox-%02d@example.com' % number for number in range(1, 21)]
_mailboxes = iter(MAILBOXES)


@pytest.fixture(scope='session')
def odoo_env():
    """``with odoo_env() as env:`` an Odoo environment (superuser) on the test database, committed at the end."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    copy_database(TEMPLATE, DB)
    odoo, registry = open_registry(ROOT, DB)

    @contextlib.contextmanager
    def session():
        with odoo.api.Environment.manage(), registry.cursor() as cr:
            yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
    yield session
    odoo.sql_db.close_all()
    subprocess.run(['dropdb', '--if-exists', DB], check=False, capture_output=True)


@pytest.fixture(scope='session')
def dovecot():
    server = Dovecot(users={login: PASSWORD for login in MAILBOXES}).start()
    yield server
    server.destroy()


@pytest.fixture
def account(odoo_env, dovecot):
    """An IMAP account with a mailbox of its own, fetched in batches of 10; archived after the test so that later
    scheduled fetches leave it alone."""
    login = next(_mailboxes)
    with odoo_env() as env:
        env['ir.config_parameter'].set_param('postcenter_email.fetch_batch_size', '10')
        env['ir.config_parameter'].set_param('postcenter_email.imap_timeout', '10')
        record = env['postcenter.email.account'].create({
            'name': 'Soporte %s' % login.split('@')[0], 'email': login, 'connection_type': 'imap',
            'imap_host': '127.0.0.1', 'imap_port': dovecot.imap_port, 'imap_ssl': False,
            'imap_user': login, 'imap_password': PASSWORD, 'state': 'connected'})
        found = Account(record.id, login, dovecot)
    yield found
    with odoo_env() as env:
        env['postcenter.email.account'].browse(found.id).active = False


class Account:
    """The test's account: its id, its mailbox in Dovecot."""

    def __init__(self, account_id, login, dovecot):
        self.id, self.login, self.dovecot = account_id, login, dovecot

    @contextlib.contextmanager
    def imap(self):
        client = imapclient.IMAPClient('127.0.0.1', port=self.dovecot.imap_port, ssl=False, timeout=30)
        client.login(self.login, PASSWORD)
        try:
            client.select_folder('INBOX')
            yield client
        finally:
            client.logout()

    def deliver(self, subjects, seen=False):
        """Put one customer email per subject into the mailbox (IMAP APPEND, as a provider delivers); their UIDs."""
        uids = []
        with self.imap() as client:
            for subject in subjects:
                response = client.append('INBOX', customer_email(subject, self.login).as_bytes(),
                                         flags=[imapclient.SEEN] if seen else [])
                uids.append(int(response.split(b']')[0].split()[-1]))
        return uids

    def mark_seen(self, uids):
        with self.imap() as client:
            client.add_flags(uids, [imapclient.SEEN])

    def sessions(self):
        return self.dovecot.finished_sessions(self.login)


def customer_email(subject, to, sender='Carla Cliente <carla@cliente.example>'):
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = sender, to, subject
    message['Date'] = email.utils.formatdate(localtime=True)
    message['Message-ID'] = email.utils.make_msgid(domain='cliente.example')
    message.set_content('Hola, escribo por "%s".\n\nCarla' % subject)
    return message


# ----------------------------------------------------------------------
# Reading the outcome with plain SQL
# ----------------------------------------------------------------------

def connect(database=DB, host=None, port=None):
    connection = psycopg2.connect(dbname=database, host=host, port=port)
    connection.autocommit = True
    return connection


def query(connection, sql, *params):
    with connection.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall()


def outcome(account_id, database=DB, host=None, port=None):
    """What the helpdesk holds for the account, counted by SQL: ledger rows, tickets, chatter emails (and their
    distinct keys), the ticket titles, and the account's state and last error."""
    connection = connect(database, host, port)
    try:
        (receipts, keys), = query(connection, 'SELECT count(*), count(DISTINCT message_key) '
                                              'FROM postcenter_email_receipt WHERE account_id = %s', account_id)
        titles = [row[0] for row in query(connection, 'SELECT name FROM helpdesk_ticket WHERE email_account_id = %s',
                                          account_id)]
        (emails, message_ids), = query(connection, """
            SELECT count(*), count(DISTINCT m.message_id) FROM mail_message m
              JOIN helpdesk_ticket t ON m.model = 'helpdesk.ticket' AND m.res_id = t.id
             WHERE t.email_account_id = %s AND m.message_type = 'email'""", account_id)
        (state, last_error), = query(connection, 'SELECT state, last_error FROM postcenter_email_account WHERE id = %s',
                                     account_id)
        return {'receipts': receipts, 'receipt_keys': keys, 'tickets': len(titles), 'titles': sorted(titles),
                'emails': emails, 'email_ids': message_ids, 'state': state, 'last_error': last_error}
    finally:
        connection.close()


def assert_exactly_once(found, subjects):
    """Every subject is one ledger row, one ticket and one chatter email; nothing else is there."""
    count = len(subjects)
    assert found['titles'] == sorted(subjects)
    assert (found['receipts'], found['receipt_keys']) == (count, count)
    assert found['tickets'] == count
    assert (found['emails'], found['email_ids']) == (count, count)


def receipts(account_id, database=DB, host=None, port=None):
    connection = connect(database, host, port)
    try:
        (count,), = query(connection, 'SELECT count(*) FROM postcenter_email_receipt WHERE account_id = %s', account_id)
        return count
    finally:
        connection.close()


def fetch_lock_holders(account_id, database=DB, host=None, port=None):
    """Backends holding the fetch lock of the account (``FETCH_LOCK`` of the account model, 7271)."""
    connection = connect(database, host, port)
    try:
        sql = """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 7271 AND objid = %s
                   AND granted"""
        return [row[0] for row in query(connection, sql, account_id)]
    finally:
        connection.close()


@pytest.fixture
def child(request):
    """``child(**options)``: an ``OdooProcess`` for the test database, logging to test-artifacts/faults/; every
    process still running at the end of the test is killed."""
    started = []

    def make(database=DB, **options):
        log = os.path.join(ARTIFACTS, '%s-%d.log' % (request.node.name, len(started) + 1))
        if os.path.exists(log):
            os.unlink(log)  # Odoo appends to its log file
        process = OdooProcess(database, log=log, **options)
        started.append(process)
        return process
    yield make
    for process in started:
        if process.process and process.running():
            process.resume()
            process.kill()
