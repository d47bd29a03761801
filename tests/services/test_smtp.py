"""Logging in to an account's own SMTP server, against real aiosmtpd relays (AUTH, STARTTLS, TLS on connect)."""
import socket
import ssl
import tempfile

import pytest

from services import exceptions, providers, smtp
from tests.support.smtp import AuthSmtpServer
from tests.support.tls import make_certificate

USERS = {'soporte@acme.example': 'clave-correcta'}


@pytest.fixture(scope='module')
def certificate():
    return make_certificate(tempfile.mkdtemp(prefix='postcenter-smtp-tls-'))


@pytest.fixture(scope='module')
def servers(certificate):
    started = {mode: AuthSmtpServer(tempfile.mkdtemp(), USERS, mode, *certificate).start()
               for mode in ('none', 'starttls', 'ssl')}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture
def trusting(certificate):
    return ssl.create_default_context(cafile=certificate[0])


@pytest.mark.parametrize('mode', ['none', 'starttls', 'ssl'])
def test_right_password(servers, trusting, mode):
    smtp.check_login('localhost', servers[mode].port, mode, 'soporte@acme.example', 'clave-correcta',
                     ssl_context=trusting)


@pytest.mark.parametrize('mode', ['none', 'starttls', 'ssl'])
def test_wrong_password(servers, trusting, mode):
    with pytest.raises(exceptions.AuthenticationFailed) as caught:
        smtp.check_login('localhost', servers[mode].port, mode, 'soporte@acme.example', 'mala', ssl_context=trusting)
    assert '535' in caught.value.detail


def test_tls_on_connect_against_a_starttls_port(servers, trusting):
    with pytest.raises((exceptions.TlsFailure, exceptions.ConnectionTimeout)):
        smtp.check_login('localhost', servers['starttls'].port, 'ssl', 'soporte@acme.example', 'clave-correcta',
                         ssl_context=trusting, timeout=3)


def test_no_encryption_where_starttls_is_required(servers):
    with pytest.raises(exceptions.MailServerError) as caught:
        smtp.check_login('localhost', servers['starttls'].port, 'none', 'soporte@acme.example', 'clave-correcta')
    assert caught.value.kind in ('protocol', 'auth')


def test_untrusted_certificate(servers):
    with pytest.raises(exceptions.TlsFailure):
        smtp.check_login('localhost', servers['ssl'].port, 'ssl', 'soporte@acme.example', 'clave-correcta',
                         ssl_context=ssl.create_default_context(cafile='/etc/ssl/certs/ca-certificates.crt'))


def test_closed_port_and_unknown_host():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with pytest.raises(exceptions.ConnectionRefused):
        smtp.check_login('127.0.0.1', port, 'none', '', '')
    with pytest.raises(exceptions.HostNotFound):
        smtp.check_login('smtp.does-not-exist.invalid', 465, 'ssl', '', '')


def test_presets():
    gmail, outlook = providers.smtp_preset('gmail'), providers.smtp_preset('outlook')
    assert (gmail.host, gmail.port, gmail.encryption) == ('smtp.gmail.com', 465, 'ssl')
    assert (outlook.host, outlook.port, outlook.encryption) == ('smtp.office365.com', 587, 'starttls')
    assert providers.smtp_preset('custom') is None
