"""Shared set-up of the addon's tests.

The IMAP server is a real Dovecot that the test run starts (the repository's
``conftest.py``) and announces through ``POSTCENTER_TEST_*`` environment variables.
"""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
import contextlib
import email.policy
import email.utils
import os
import socket
import subprocess
import threading
import time
from email.message import EmailMessage
from unittest import mock

import imapclient
from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, sql_db
from odoo.modules.registry import Registry
from odoo.tests import common


def imap_test_server():
    """Where the test Dovecot listens, and a user that exists on it."""
    try:
        return {
            'host': '127.0.0.1',
            'port': int(os.environ['POSTCENTER_TEST_IMAP_PORT']),
            'ssl_port': int(os.environ['POSTCENTER_TEST_IMAPS_PORT']),
            'user': os.environ['POSTCENTER_TEST_IMAP_USER'],
            'password': os.environ['POSTCENTER_TEST_IMAP_PASSWORD'],
        }
    except KeyError as missing:
        raise RuntimeError('No test IMAP server (%s is not set): run the tests with `make test`.' % missing)


class SilentServer:
    """Accepts TCP connections and never says a word: a server that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.clients = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                client, _address = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)

    def close(self):
        for client in self.clients:
            client.close()
        self.sock.close()


def closed_port():
    """A loopback port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class PostcenterCase(common.SavepointCase):
    """Users of each group, and quick ways to make accounts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.imap = imap_test_server()
        users = cls.env['res.users'].with_context(no_reset_password=True)
        cls.manager = users.create({
            'name': 'Marta Manager', 'login': 'pc_manager', 'email': 'marta@example.com',
            'groups_id': [(6, 0, [cls.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])],
        })
        cls.agent = users.create({
            'name': 'Andrés Agente', 'login': 'pc_agent', 'email': 'andres@example.com',
            'groups_id': [(6, 0, [cls.env.ref('helpdesk_mgmt.group_helpdesk_user').id])],
        })
        cls.Account = cls.env['postcenter.email.account'].sudo(cls.manager)
        cls.env['ir.config_parameter'].sudo().set_param('mail.catchall.domain', 'helpdesk.example.org')

    def imap_values(self, **overrides):
        values = {
            'name': 'Soporte', 'email': self.imap['user'], 'connection_type': 'imap',
            'imap_host': self.imap['host'], 'imap_port': self.imap['port'], 'imap_ssl': False,
            'imap_user': self.imap['user'], 'imap_password': self.imap['password'],
        }
        values.update(overrides)
        return values


# ----------------------------------------------------------------------
# Mail in the test Dovecot
# ----------------------------------------------------------------------


def second_imap_user():
    return os.environ['POSTCENTER_TEST_IMAP_USER2'], os.environ['POSTCENTER_TEST_IMAP_PASSWORD2']


class Mailbox:
    """The INBOX of a test Dovecot user, written to as a mail provider would (IMAP APPEND)."""

    def __init__(self, user, password):
        self.server = imap_test_server()
        self.user, self.password = user, password

    @contextlib.contextmanager
    def session(self):
        client = imapclient.IMAPClient(self.server['host'], port=self.server['port'], ssl=False, timeout=30)
        client.login(self.user, self.password)
        try:
            client.select_folder('INBOX')
            yield client
        finally:
            client.logout()

    def clear(self):
        with self.session() as client:
            uids = client.search(['ALL'])
            if uids:
                client.delete_messages(uids)
                client.expunge()

    def append(self, *messages, seen=False):
        """Deliver raw messages (bytes or ``EmailMessage``); returns their UIDs."""
        uids = []
        with self.session() as client:
            for message in messages:
                raw = message if isinstance(message, bytes) else message.as_bytes()
                response = client.append('INBOX', raw, flags=[imapclient.SEEN] if seen else [])
                uids.append(int(response.split(b']')[0].split()[-1]))
        return uids

    def flags(self):
        with self.session() as client:
            return {uid: data[b'FLAGS'] for uid, data in client.fetch(client.search(['ALL']), ['FLAGS']).items()}

    def uidvalidity(self):
        with self.session() as client:
            return client.folder_status('INBOX', ['UIDVALIDITY'])[b'UIDVALIDITY']


class DovecotControl:
    """Stop, start and reconfigure the test Dovecot (its config path comes from the test run)."""

    config = property(lambda self: os.environ['POSTCENTER_TEST_DOVECOT_CONFIG'])

    def stop(self):
        """Stop the server and wait until its master process (and with it every session) is gone."""
        pid_file = os.path.join(os.path.dirname(self.config), 'run', 'master.pid')
        with open(pid_file) as handle:
            pid = int(handle.read().strip())
        subprocess.run(['doveadm', '-c', self.config, 'kick', '*'], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(['doveadm', '-c', self.config, 'stop'], check=True)
        wait_closed(imap_test_server()['port'])
        wait_gone(pid)

    def start(self):
        subprocess.run(['dovecot', '-c', self.config], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_open(imap_test_server()['port'])

    def set_password(self, user, password):
        """Change ``user``'s password on the server, as a provider would (Dovecot re-reads its password file)."""
        path = os.path.join(os.path.dirname(self.config), 'passwd')
        with open(path) as handle:
            lines = [line for line in handle.read().splitlines() if not line.startswith(user + ':')]
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines + ['%s:{PLAIN}%s' % (user, password)]) + '\n')
        server = imap_test_server()
        deadline = time.monotonic() + 20
        while True:  # Dovecot looks at the file again at most once a second: wait until the new password works
            client = imapclient.IMAPClient(server['host'], port=server['port'], ssl=False, timeout=10)
            try:
                client.login(user, password)
                client.logout()
                return
            except imapclient.exceptions.LoginError:
                client.shutdown()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def set_uidvalidity(self, user, value):
        subprocess.run(['doveadm', '-c', self.config, 'mailbox', 'update', '-u', user, '--uid-validity',
                        str(value), 'INBOX'], check=True)


def wait_open(port, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def wait_closed(port, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
        except OSError:
            return
        if time.monotonic() > deadline:
            raise RuntimeError('port %s still open' % port)
        time.sleep(0.05)


def wait_gone(pid, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        if time.monotonic() > deadline:
            raise RuntimeError('process %s still running' % pid)
        time.sleep(0.05)


_counter = iter(range(1, 10 ** 9))


def make_email(subject='Necesito ayuda', body='Hola, tengo un problema con mi pedido.',
               sender='Ana Pérez <ana@cliente.cl>',
               to='support@example.com', message_id=None, html=None, attachments=(), headers=None):
    """A realistic customer email; each call gets its own Message-ID unless one is given."""
    message = EmailMessage()
    message['From'] = sender
    message['To'] = to
    message['Subject'] = subject
    message['Date'] = email.utils.formatdate(localtime=True)
    message['Message-ID'] = message_id or '<msg-%d-%s@cliente.cl>' % (next(_counter), os.getpid())
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype='html')
    for filename, content, mimetype in attachments:
        maintype, subtype = mimetype.split('/')
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def reply_to(original, body='Gracias, sigo esperando.', sender=None, subject=None):
    """The customer's answer to ``original`` (an ``EmailMessage``), threaded by In-Reply-To/References."""
    message = make_email(subject=subject or 'Re: ' + original['Subject'], body=body,
                         sender=sender or original['From'], to=original['To'])
    message['In-Reply-To'] = original['Message-ID']
    message['References'] = original['Message-ID']
    return message


def read_spool(folder):
    """What the test SMTP sink received: ``[(mail_from, [rcpt_tos], Message)]``."""
    found = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith('.eml'):
            base = os.path.join(folder, name[:-4])
            with open(base + '.env') as handle:
                mail_from, rcpt = handle.read().splitlines()[:2]
            with open(base + '.eml', 'rb') as handle:
                message = email.message_from_bytes(handle.read(), policy=email.policy.default)
            found.append((mail_from, rcpt.split(','), message))
    return found


@contextlib.contextmanager
def recording_statements():
    """The SQL statements run inside the block, as the list it yields (each query's text, without its parameters)."""
    statements = []
    original = sql_db.Cursor.execute

    def execute(cr, query, params=None, log_exceptions=None):
        statements.append(str(query))
        return original(cr, query, params, log_exceptions)
    with mock.patch.object(sql_db.Cursor, 'execute', execute):
        yield statements


@contextlib.contextmanager
def real_smtp_delivery():
    """Let Odoo really hand mail to an SMTP server inside a test (Odoo skips sending while testing)."""
    thread = threading.current_thread()
    testing = getattr(thread, 'testing', False)
    thread.testing = False
    try:
        with mock.patch.object(Registry, 'in_test_mode', lambda self: False):
            yield
    finally:
        thread.testing = testing


class IngestCase(common.TransactionCase):
    """Tests of the fetch, on Odoo's test cursor: the code under test opens and commits cursors of its own,
    which in test mode all share one transaction that is thrown away at the end."""

    def setUp(self):
        super().setUp()
        original = (self.cr, self.env)

        def restore():
            self.cr, self.env = original
        self.addCleanup(restore)
        self.registry.enter_test_mode()
        self.addCleanup(self.registry.leave_test_mode)
        self.cr = self.registry.cursor()
        self.addCleanup(self.cr.close)
        self.env = api.Environment(self.cr, SUPERUSER_ID, {})
        self.imap = imap_test_server()
        self.mailbox = Mailbox(self.imap['user'], self.imap['password'])
        self.mailbox.clear()
        self.env['ir.config_parameter'].set_param('mail.catchall.domain', 'helpdesk.example.org')
        self.team = self.env['helpdesk.ticket.team'].create({'name': 'Soporte Chile'})
        self.account = self.env['postcenter.email.account'].create({
            'name': 'Soporte', 'email': self.imap['user'], 'connection_type': 'imap',
            'imap_host': self.imap['host'], 'imap_port': self.imap['port'], 'imap_ssl': False,
            'imap_user': self.imap['user'], 'imap_password': self.imap['password'], 'team_id': self.team.id,
        })

    def use_platform_smtp(self):
        """Odoo's outgoing server is the test SMTP sink, and the platform's no-reply address is set."""
        self.spool = os.environ['POSTCENTER_TEST_SMTP_SPOOL']
        self.env['ir.mail_server'].create({'name': 'platform', 'smtp_host': '127.0.0.1', 'sequence': 0,
                                           'smtp_port': int(os.environ['POSTCENTER_TEST_SMTP_PORT'])})
        self.env['ir.config_parameter'].set_param('postcenter_email.noreply_address', 'noreply@helpdesk.example.org')

    def fetch(self, account=None):
        """Commit what the test wrote (so the fetch's own cursors keep it), fetch, and read afresh."""
        account = account or self.account
        self.cr.commit()
        result = account._fetch_imap()
        self.refresh()
        return result

    def refresh(self):
        """Forget cached values: the code under test wrote through environments of its own."""
        self.env['res.users'].invalidate_cache()

    def tickets(self, account=None):
        return self.env['helpdesk.ticket'].search([('email_account_id', '=', (account or self.account).id)],
                                                  order='id')

    def emails(self, ticket):
        return ticket.message_ids.filtered(lambda m: m.message_type == 'email').sorted('id')


class ChannelCase(IngestCase):
    """Mail received through the account's pipeline (as forwarding delivers it) at chosen moments, an agent of
    its team, and the mail that really leaves through the test SMTP sink."""

    def setUp(self):
        super().setUp()
        self.use_platform_smtp()
        self.agent = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Andrea Agente', 'login': 'pc_channel_agent', 'email': 'andrea@empresa.example',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_user').id])],
        })
        self.team.user_ids = self.agent
        self.spool_mark = len(read_spool(self.spool))

    @contextlib.contextmanager
    def moment(self, at):
        """Run the block at UTC time ``at`` ('YYYY-MM-DD HH:MM:SS'), committing it as a request or a cron would:
        the mail it queues really leaves (by the test SMTP sink) after the commit, or later by the queue."""
        with real_smtp_delivery(), freeze_time(at):
            yield
            self.cr.commit()
        self.refresh()

    def receive(self, message, at):
        """Deliver ``message`` (an ``EmailMessage``) to the account at ``at``; the ticket it went to."""
        with self.moment(at):
            receipt = self.account._receive(message.as_bytes())
        return receipt.ticket_id

    def answer(self, ticket, at, text='Hola, ya lo revisamos.', subtype='mail.mt_comment'):
        """The agent writes to the customer (or a note, with ``subtype='mail.mt_note'``) at ``at``."""
        with self.moment(at):
            ticket.sudo(self.agent).message_post(body=text, message_type='comment', subtype=subtype)

    def close(self, ticket, at, user=None):
        """An agent moves ``ticket`` to the Done stage at ``at``."""
        with self.moment(at):
            done = self.env.ref('helpdesk_mgmt.helpdesk_ticket_stage_done')
            ticket.sudo(user or self.agent).write({'stage_id': done.id})

    def sent(self):
        """The mail that left since the last call (the queue processed as Odoo's cron does, really delivered)."""
        with real_smtp_delivery():
            self.cr.commit()
            self.env['mail.mail'].process_email_queue()
        found = read_spool(self.spool)
        new, self.spool_mark = found[self.spool_mark:], len(found)
        return new
