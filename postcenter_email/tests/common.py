"""Shared set-up of the addon's tests.

The IMAP server is a real Dovecot that the test run starts (the repository's
``conftest.py``) and announces through ``POSTCENTER_TEST_*`` environment variables.
"""
import os
import socket
import threading

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
