"""Starts the real servers that the Odoo tests (pytest-odoo) talk to.

Dovecot runs for the whole session on loopback ports. The addon's tests find it
through ``POSTCENTER_TEST_*`` environment variables (see postcenter_email/tests/common.py),
and its self-signed certificate is trusted through ``SSL_CERT_FILE``.
"""
import logging
import os

from tests.support.dovecot import Dovecot
from tests.support.tls import trust_bundle

TEST_USERS = {
    'support@example.com': 'right-password',
    'ventas@example.com': 'otra-clave',
    'bench@example.com': 'bench',
}

SMTP_USERS = {'soporte@acme.example': 'smtp-password'}

_servers = []


def pytest_configure(config):
    if not config.getoption('--odoo-config', default=None):
        return
    from tests.support.smtp import AuthSmtpServer, SmtpSink  # aiosmtpd lives in the Odoo venv only
    logging.getLogger('mail.log').setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    dovecot = Dovecot(users=TEST_USERS).start()
    _servers.append(dovecot)
    sink = SmtpSink(os.path.join(dovecot.root, 'smtp-sink')).start()
    _servers.append(sink)
    relays = {}
    for mode in ('none', 'starttls', 'ssl'):
        relay = AuthSmtpServer(os.path.join(dovecot.root, 'relay-' + mode), SMTP_USERS, mode,
                               dovecot.cert_path, os.path.join(dovecot.root, 'key.pem')).start()
        _servers.append(relay)
        relays[mode] = relay.port
    os.environ.update({
        'POSTCENTER_TEST_SMTP_RELAYS': ','.join('%s:%d' % item for item in relays.items()),
        'POSTCENTER_TEST_SMTP_USER': 'soporte@acme.example',
        'POSTCENTER_TEST_SMTP_PASSWORD': SMTP_USERS['soporte@acme.example'],
        'POSTCENTER_TEST_DOVECOT_CONFIG': dovecot.config_path,
        'POSTCENTER_TEST_SMTP_PORT': str(sink.port),
        'POSTCENTER_TEST_SMTP_SPOOL': sink.folder,
        'POSTCENTER_TEST_IMAP_PORT': str(dovecot.imap_port),
        'POSTCENTER_TEST_IMAPS_PORT': str(dovecot.imaps_port),
        'POSTCENTER_TEST_IMAP_USER': 'support@example.com',
        'POSTCENTER_TEST_IMAP_PASSWORD': TEST_USERS['support@example.com'],
        'POSTCENTER_TEST_IMAP_USER2': 'ventas@example.com',
        'POSTCENTER_TEST_IMAP_PASSWORD2': TEST_USERS['ventas@example.com'],
        'SSL_CERT_FILE': trust_bundle(dovecot.cert_path, os.path.join(dovecot.root, 'trust.pem')),
    })


def pytest_unconfigure(config):
    while _servers:
        server = _servers.pop()
        getattr(server, 'destroy', server.stop)()
