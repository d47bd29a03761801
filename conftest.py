"""Starts the real servers that the Odoo tests (pytest-odoo) talk to.

Dovecot runs for the whole session on loopback ports. The addon's tests find it
through ``POSTCENTER_TEST_*`` environment variables (see postcenter_email/tests/common.py),
and its self-signed certificate is trusted through ``SSL_CERT_FILE``.
"""
import os

from tests.support.dovecot import Dovecot
from tests.support.tls import trust_bundle

TEST_USERS = {
    'support@example.com': 'right-password',
    'ventas@example.com': 'otra-clave',
}

_servers = []


def pytest_configure(config):
    if not config.getoption('--odoo-config', default=None):
        return
    dovecot = Dovecot(users=TEST_USERS).start()
    _servers.append(dovecot)
    os.environ.update({
        'POSTCENTER_TEST_IMAP_PORT': str(dovecot.imap_port),
        'POSTCENTER_TEST_IMAPS_PORT': str(dovecot.imaps_port),
        'POSTCENTER_TEST_IMAP_USER': 'support@example.com',
        'POSTCENTER_TEST_IMAP_PASSWORD': TEST_USERS['support@example.com'],
        'SSL_CERT_FILE': trust_bundle(dovecot.cert_path, os.path.join(dovecot.root, 'trust.pem')),
    })


def pytest_unconfigure(config):
    while _servers:
        _servers.pop().destroy()
