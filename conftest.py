"""Starts the real servers that the Odoo tests (pytest-odoo) talk to.

Dovecot runs for the whole session on loopback ports, with the local OAuth 2.0 authorization
server (tests/support/oauth_server.py) checking its XOAUTH2 logins and an XOAUTH2 SMTP relay's.
The addon's tests find them through ``POSTCENTER_TEST_*`` environment variables (see
postcenter_email/tests/common.py), and Dovecot's self-signed certificate is trusted through ``SSL_CERT_FILE``.
"""
import logging
import os

from tests.support.dovecot import Dovecot
from tests.support.oauth import OAuthServer
from tests.support.tls import trust_bundle

TEST_USERS = {
    'support@example.com': 'right-password',
    'ventas@example.com': 'otra-clave',
    'bench@example.com': 'bench',
    'compartido@example.com': 'shared-mailbox',
}

# Who can sign in at the local authorization server; ``mailbox`` is the mailbox their tokens open (a delegate
# of a shared mailbox gets tokens for it, as Microsoft 365 gives a user with full access).
OAUTH_USERS = {
    'support@example.com': {'email': 'support@example.com'},
    'ventas@example.com': {'email': 'ventas@example.com'},
    'agente@example.com': {'email': 'agente@example.com', 'mailbox': 'compartido@example.com'},
}

SMTP_USERS = {'soporte@acme.example': 'smtp-password'}

_servers = []


def pytest_configure(config):
    if not config.getoption('--odoo-config', default=None):
        return
    from tests.support.smtp import AuthSmtpServer, SmtpSink  # aiosmtpd lives in the Odoo venv only
    logging.getLogger('mail.log').setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    authorization = OAuthServer(users=OAUTH_USERS).start()
    _servers.append(authorization)
    introspection = authorization.url + '/introspect'
    client_id, client_secret = authorization.introspection_client
    oauth2 = {'introspection_url': introspection, 'client_id': client_id, 'client_secret': client_secret}
    dovecot = Dovecot(users=TEST_USERS, oauth2=oauth2).start()
    _servers.append(dovecot)
    from tests.support.smtp import OAuthSmtpServer
    oauth_relay = OAuthSmtpServer(os.path.join(dovecot.root, 'relay-oauth'), introspection,
                                  authorization.introspection_client).start()
    _servers.append(oauth_relay)
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
        'POSTCENTER_TEST_OAUTH_URL': authorization.url,
        'POSTCENTER_TEST_OAUTH_CLIENT': '%s:%s' % (authorization.client_id, authorization.client_secret),
        'POSTCENTER_TEST_OAUTH_SMTP_PORT': str(oauth_relay.port),
        'POSTCENTER_TEST_OAUTH_SMTP_SPOOL': oauth_relay.folder,
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
