"""IMAP sessions: one way to connect, used by the "Connect" / "Test" buttons and the fetch alike.

Every failure leaves here as one of ``services.exceptions``, never as a raw
socket, SSL or IMAP error.
"""
import socket
import ssl

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from . import exceptions

DEFAULT_TIMEOUT = 30


def classify(error):
    """Turn a low-level error into the ``MailServerError`` that says what happened."""
    if isinstance(error, exceptions.MailServerError):
        return error
    if isinstance(error, LoginError):
        return exceptions.AuthenticationFailed(_text(error))
    if isinstance(error, socket.gaierror):
        return exceptions.HostNotFound(_text(error))
    if isinstance(error, (socket.timeout, TimeoutError)):
        return exceptions.ConnectionTimeout(_text(error) or 'timed out')
    if isinstance(error, ConnectionRefusedError):
        return exceptions.ConnectionRefused(_text(error))
    if isinstance(error, ssl.SSLError):
        return exceptions.TlsFailure(_text(error))
    if isinstance(error, IMAPClientError):
        return exceptions.ProtocolFailure(_text(error))
    if isinstance(error, (OSError, EOFError)):
        return exceptions.NetworkFailure(_text(error) or type(error).__name__)
    return exceptions.MailServerError(_text(error))


def _text(error):
    """The server's or the library's own words, as text."""
    args = getattr(error, 'args', ())
    parts = [a.decode('utf-8', 'replace') if isinstance(a, bytes) else str(a) for a in args]
    return ' '.join(part for part in parts if part) or str(error)


def connect(host, port, use_ssl, user, password, timeout=DEFAULT_TIMEOUT, ssl_context=None):
    """Log in and return the ``IMAPClient`` (the caller logs out)."""
    client = None
    try:
        client = imapclient.IMAPClient(
            host, port=port, ssl=use_ssl, timeout=timeout,
            ssl_context=ssl_context or (ssl.create_default_context() if use_ssl else None),
        )
        client.login(user, password)
        return client
    except Exception as error:
        _quietly_close(client)
        raise classify(error) from error


def check_mailbox(host, port, use_ssl, user, password, folder='INBOX', timeout=DEFAULT_TIMEOUT,
                  ssl_context=None):
    """Log in, select ``folder`` read-only and log out; return its UIDVALIDITY and message count."""
    client = connect(host, port, use_ssl, user, password, timeout=timeout, ssl_context=ssl_context)
    try:
        try:
            status = client.select_folder(folder, readonly=True)
        except IMAPClientError as error:
            raise exceptions.MailboxMissing(_text(error)) from error
        except Exception as error:
            raise classify(error) from error
        return {
            'uidvalidity': status.get(b'UIDVALIDITY'),
            'exists': status.get(b'EXISTS', 0),
        }
    finally:
        _quietly_close(client)


def _quietly_close(client):
    """Log out if we can; a dead connection is simply dropped."""
    if client is None:
        return
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass
