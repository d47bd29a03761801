"""Failures of the mail servers we talk to, sorted by what to do about them.

``transient`` failures (a timeout, a server restarting) are retried on the
next run; the others (a refused password, a TLS mismatch) need the admin.
Each has a ``kind`` that the Odoo layer turns into a translated sentence.
"""
import socket
import ssl


class MailServerError(Exception):
    """A mail server could not be used; ``detail`` is the server's own words. ``midway`` is set when it
    happened in the middle of a session that had logged in (a fetch), not while connecting."""

    kind = 'unknown'
    transient = True
    midway = False

    def __init__(self, detail=''):
        super().__init__(detail)
        self.detail = str(detail or '')


class HostNotFound(MailServerError):
    kind = 'dns'
    transient = False


class ConnectionRefused(MailServerError):
    kind = 'refused'


class ConnectionTimeout(MailServerError):
    kind = 'timeout'


class TlsFailure(MailServerError):
    kind = 'tls'
    transient = False


class AuthenticationFailed(MailServerError):
    kind = 'auth'
    transient = False


class TokenRefused(MailServerError):
    """The mail server refused an OAuth access token for this mailbox (XOAUTH2): it is not a token of this
    mailbox, or access to it was withdrawn. Not a password, so no login backs off for it."""

    kind = 'oauth_refused'
    transient = False


class ServerUnavailable(MailServerError):
    """The server could not check the login just now (IMAP ``[UNAVAILABLE]``, RFC 5530): a subsystem of
    its own is down or restarting. Not a rejected password."""

    kind = 'unavailable'


class MailboxMissing(MailServerError):
    kind = 'mailbox'
    transient = False


class ProtocolFailure(MailServerError):
    kind = 'protocol'


class NetworkFailure(MailServerError):
    kind = 'network'


def from_transport(error, text=str):
    """The failure of the connection itself (name, refusal, timeout, TLS), whatever the protocol spoken
    over it; ``None`` for anything else. ``text`` gives the error's words."""
    if isinstance(error, socket.gaierror):
        return HostNotFound(text(error))
    if isinstance(error, (socket.timeout, TimeoutError)):
        return ConnectionTimeout(text(error) or 'timed out')
    if isinstance(error, ConnectionRefusedError):
        return ConnectionRefused(text(error))
    if isinstance(error, ssl.SSLError):
        return TlsFailure(text(error))
    return None
