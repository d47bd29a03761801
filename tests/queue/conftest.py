"""The job queue with real processes: a database with queue_job (a copy of POSTCENTER_TEST_DB where queue_job, and
with it postcenter_email_queue, is installed), and a copy without it (the sequential scheduled action); one Dovecot
whose mailboxes both read (the mailbox is left as it is), one SMTP sink per database; two Odoo HTTP servers on the
job database behind a round-robin balancer, and queue_job's runner dispatching to the balancer."""
import contextlib
import email.utils
import os
import shutil
import subprocess
from email.message import EmailMessage

import imapclient
import psycopg2
import pytest

from tests.support import waiting
from tests.support.balancer import Balancer
from tests.support.dovecot import Dovecot
from tests.support.odoo_db import copy_database, open_registry
from tests.support.odoo_server import OdooServer
from tests.support.ports import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TEMPLATE = os.environ.get('POSTCENTER_TEST_DB', 'postcenter_test')
DB_JOBS, DB_PLAIN = TEMPLATE + '_queue', TEMPLATE + '_queue_plain'
ARTIFACTS = os.path.join(ROOT, 'test-artifacts', 'queue')
PASSWORD = 'clave-de-prueba'
ACCOUNTS = 20
MAILBOXES = ['buzon-%02d@example.com' % number for number in range(1, ACCOUNTS + 1)]
BROKEN = 'roto@example.com'  # its fetch raises in the Odoo servers (forced)
STALLED = ['lento-%d@example.com' % number for number in range(1, 5)]  # their replies meet a stalled SMTP server
CHANNELS = 'root:4,root.postcenter_email:4,root.postcenter_email_send:2'


def filestore(db):
    return os.path.join(ROOT, '.data', 'filestore', db)


def copy_with_files(template, db):
    copy_database(template, db)
    shutil.rmtree(filestore(db), ignore_errors=True)
    if os.path.isdir(filestore(template)):
        shutil.copytree(filestore(template), filestore(db))


@pytest.fixture(scope='session')
def databases():
    """``{'jobs': env factory, 'plain': env factory}``: ``with databases['jobs']() as env:`` (superuser), committed
    at the end."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    copy_with_files(TEMPLATE, DB_PLAIN)
    copy_with_files(TEMPLATE, DB_JOBS)
    with open(os.path.join(ARTIFACTS, 'install-queue_job.log'), 'w') as log:
        subprocess.run([os.path.join(ROOT, 'scripts', 'initdb.sh'), DB_JOBS, '/dev/stdout', 'queue_job'],
                       check=True, stdout=log, stderr=subprocess.STDOUT)
    odoo, registry = open_registry(ROOT, DB_JOBS)
    registries = {'jobs': registry, 'plain': odoo.registry(DB_PLAIN)}

    def factory(registry):
        @contextlib.contextmanager
        def session():
            with odoo.api.Environment.manage(), registry.cursor() as cr:
                yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        return session
    yield {name: factory(registry) for name, registry in registries.items()}
    odoo.sql_db.close_all()
    for db in (DB_JOBS, DB_PLAIN):
        subprocess.run(['dropdb', '--if-exists', db], check=False, capture_output=True)
        shutil.rmtree(filestore(db), ignore_errors=True)


@pytest.fixture(scope='session')
def dovecot():
    server = Dovecot(users={login: PASSWORD for login in MAILBOXES + [BROKEN] + STALLED}).start()
    yield server
    server.destroy()


@pytest.fixture(scope='session')
def sinks():
    """One SMTP sink per database: what each one really sent."""
    from tests.support.smtp import SmtpSink
    found = {}
    for name in ('jobs', 'plain'):
        folder = os.path.join(ARTIFACTS, 'sent-' + name)
        shutil.rmtree(folder, ignore_errors=True)
        found[name] = SmtpSink(folder).start()
    yield found
    for sink in found.values():
        sink.stop()


class StalledSink:
    """An SMTP server that takes each message's DATA and answers only once the test releases it (``release()``): a
    mail server that has stopped answering. ``waiting`` counts the messages it holds, ``accepted`` those it took."""

    def __init__(self):
        import threading

        from aiosmtpd.controller import Controller
        self.released = threading.Event()
        self.waiting = self.accepted = 0
        self.port = free_port()
        self.controller = Controller(self, hostname='127.0.0.1', port=self.port)

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        self.waiting += 1
        await asyncio.get_event_loop().run_in_executor(None, self.released.wait)
        self.accepted += 1
        return '250 OK'

    def start(self):
        self.controller.start()
        return self

    def release(self):
        self.released.set()

    def stop(self):
        self.release()
        self.controller.stop()


def customer_email(subject, to, sender, replying_to=None):
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = sender, to, subject
    message['Date'] = email.utils.formatdate(localtime=True)
    message['Message-ID'] = email.utils.make_msgid(domain='cliente.example')
    if replying_to:
        message['In-Reply-To'] = message['References'] = replying_to['Message-ID']
    message.set_content('Hola, escribo por "%s".\n\nSaludos' % subject)
    return message


def fill(dovecot, login, index):
    """Five emails: three conversations from three customers, two of them answered (by the customer, and by a
    colleague with the customer in Cc)."""
    customers = ['Cliente %d-%d <cliente%d-%d@cliente.example>' % (index, n, index, n) for n in range(3)]
    firsts = [customer_email('Consulta %d de %s' % (n, login), login, customers[n]) for n in range(3)]
    answer = customer_email('Re: ' + firsts[0]['Subject'], login, customers[0], replying_to=firsts[0])
    colleague = customer_email('Re: ' + firsts[1]['Subject'], login,
                               'Colega %d <colega%d@cliente.example>' % (index, index), replying_to=firsts[1])
    colleague['Cc'] = customers[1]
    client = imapclient.IMAPClient('127.0.0.1', port=dovecot.imap_port, ssl=False, timeout=30)
    client.login(login, PASSWORD)
    try:
        for message in firsts + [answer, colleague]:
            client.append('INBOX', message.as_bytes(), flags=[])
    finally:
        client.logout()


@pytest.fixture(scope='session')
def mailboxes(dovecot):
    """The 20 mailboxes and the broken one, filled once (both databases read them)."""
    for index, login in enumerate(MAILBOXES + [BROKEN]):
        fill(dovecot, login, index)
    return MAILBOXES


def set_up(env, dovecot, sink, logins):
    """The outgoing server (the database's sink), an IMAP account per login with its "ticket created" automatic
    reply on; returns ``{login: account id}``."""
    env['ir.mail_server'].search([]).write({'active': False})
    env['ir.mail_server'].create({'name': 'sink', 'smtp_host': '127.0.0.1', 'smtp_port': sink.port,
                                  'smtp_encryption': 'none', 'sequence': 0})
    env['postcenter.email.account'].search([]).write({'active': False})
    found = {}
    for login in logins:
        account = env['postcenter.email.account'].create({
            'name': 'Soporte %s' % login.split('@')[0], 'email': login, 'connection_type': 'imap',
            'imap_host': '127.0.0.1', 'imap_port': dovecot.imap_port, 'imap_ssl': False, 'imap_user': login,
            'imap_password': PASSWORD, 'state': 'connected'})
        account.autoreply_ids.filtered(lambda reply: reply.kind == 'ticket_created').write(
            {'active': True, 'text_1': 'Recibido, gracias.'})
        found[login] = account.id
    return found


class Cluster:
    """Two Odoo HTTP servers on the job database, a balancer in front, queue_job's runner dispatching to it."""

    def __init__(self, fail_fetch=()):
        self.ports = [free_port(), free_port()]
        self.logs = [os.path.join(ARTIFACTS, 'http-%d.log' % number) for number in (1, 2)]
        extra = [arg for account_id in fail_fetch for arg in ('--fail-fetch', account_id)]
        self.servers = [OdooServer(DB_JOBS, log).start('http', port, *extra)
                        for port, log in zip(self.ports, self.logs)]
        self.balancer = Balancer(self.ports).start()
        self.runner = None

    def start(self):
        for server in self.servers:
            server.wait_ready()
        self.runner = OdooServer(DB_JOBS, os.path.join(ARTIFACTS, 'runner.log')).start(
            'runner', CHANNELS, '--target-port', self.balancer.port)
        return self

    def stop(self):
        for process in ([self.runner] if self.runner else []) + self.servers:
            process.stop()
        self.balancer.stop()

    def jobs_run_by(self, number):
        """The uuids of the jobs the server ``number`` (0 or 1) was asked to run (its HTTP log)."""
        with open(self.logs[number], encoding='utf-8', errors='replace') as handle:
            return {line.split('job_uuid=')[1].split()[0].split('&')[0] for line in handle
                    if '/queue_job/runjob' in line and 'job_uuid=' in line}


def clean_logs():
    for name in ('http-1.log', 'http-2.log', 'runner.log'):
        path = os.path.join(ARTIFACTS, name)
        if os.path.exists(path):
            os.unlink(path)  # Odoo appends to its log file


def query(database, sql, *params):
    connection = psycopg2.connect(dbname=database)
    connection.autocommit = True
    try:
        with connection.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall() if cr.description else cr.rowcount
    finally:
        connection.close()


def wait_until(condition, timeout=120, what='the condition'):
    """Poll ``condition`` (processes getting somewhere), failing after ``timeout`` seconds."""
    return waiting.wait_until(condition, timeout, what, interval=0.1)


def results(database, account_ids):
    """What the helpdesk holds for each account, by SQL, independent of ids and order: per account, each ticket's
    title, customer and chatter (the Message-IDs of its emails, the subjects of its automatic replies)."""
    found = {}
    for login, account_id in account_ids.items():
        tickets = query(database, """
            SELECT t.id, t.name, p.email FROM helpdesk_ticket t LEFT JOIN res_partner p ON p.id = t.partner_id
             WHERE t.email_account_id = %s""", account_id)
        summary = []
        for ticket_id, name, customer in tickets:
            chatter = query(database, """
                SELECT m.message_type, coalesce(m.message_id, ''), coalesce(m.subject, ''), coalesce(s.name, '')
                  FROM mail_message m LEFT JOIN mail_message_subtype s ON s.id = m.subtype_id
                 WHERE m.model = 'helpdesk.ticket' AND m.res_id = %s AND m.message_type IN ('email', 'comment')""",
                            ticket_id)
            emails = sorted(message_id for kind, message_id, _subject, _subtype in chatter if kind == 'email')
            replies = sorted(subject for kind, _id, subject, _subtype in chatter if kind == 'comment')
            summary.append((name, customer, tuple(emails), tuple(replies)))
        found[login] = sorted(summary)
    return found


def sent(sink):
    """What the SMTP sink received: ``(recipients, subject)`` of each email, sorted."""
    import email as email_module
    found = []
    for name in sorted(os.listdir(sink.folder)):
        if name.endswith('.eml'):
            with open(os.path.join(sink.folder, name), 'rb') as handle:
                message = email_module.message_from_binary_file(handle)
            with open(os.path.join(sink.folder, name[:-4] + '.env')) as handle:
                recipients = handle.read().splitlines()[1]
            found.append((recipients, str(email_module.header.make_header(
                email_module.header.decode_header(message['Subject'])))))
    return sorted(found)
