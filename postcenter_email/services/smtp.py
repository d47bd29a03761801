"""SMTP sessions of accounts that send through their own server: log in, with a timeout, and say what failed.

Mail itself leaves through Odoo's ``ir.mail_server`` (one per such account); this is what the
"Test" button uses, so that it answers in seconds and in plain words.
"""
import smtplib
import ssl

from . import exceptions

DEFAULT_TIMEOUT = 30
ENCRYPTIONS = ('none', 'ssl', 'starttls')


def classify(error):
    """The ``MailServerError`` that says what went wrong with an SMTP server."""
    if isinstance(error, exceptions.MailServerError):
        return error
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return exceptions.AuthenticationFailed(_reply(error))
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return exceptions.ProtocolFailure(str(error))
    transport = exceptions.from_transport(error)
    if transport:
        return transport
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return exceptions.NetworkFailure(str(error) or 'the server closed the connection')
    if isinstance(error, smtplib.SMTPException):
        return exceptions.ProtocolFailure(_reply(error))
    if isinstance(error, OSError):
        return exceptions.NetworkFailure(str(error) or type(error).__name__)
    return exceptions.MailServerError(str(error))


def _reply(error):
    code, text = getattr(error, 'smtp_code', ''), getattr(error, 'smtp_error', b'')
    text = text.decode('utf-8', 'replace') if isinstance(text, bytes) else str(text or error)
    return ('%s %s' % (code, text)).strip()


def authenticate_xoauth2(client, user, access_token):
    """``AUTH XOAUTH2`` on an open ``smtplib`` session, for ``user`` (the mailbox) with an OAuth 2.0 access token.
    A refusal comes as a 334 challenge (the provider's JSON) that must be answered with an empty line before the
    final 5xx; raises ``smtplib.SMTPAuthenticationError`` then."""
    from .oauth import xoauth2_base64
    client.ehlo_or_helo_if_needed()
    code, reply = client.docmd('AUTH', 'XOAUTH2 ' + xoauth2_base64(user, access_token))
    if code == 334:
        code, reply = client.docmd('')
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)
    return code, reply


def check_login(host, port, encryption, user, password, timeout=DEFAULT_TIMEOUT, ssl_context=None, access_token=None):
    """Connect with ``encryption`` ('none', 'ssl' on connect, or 'starttls'), log in if a user is given (with
    XOAUTH2 when an ``access_token`` is given), and quit. Raises a ``MailServerError``."""
    context = ssl_context or ssl.create_default_context()
    client = None
    try:
        if encryption == 'ssl':
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        client.ehlo()
        if encryption == 'starttls':
            client.starttls(context=context)
            client.ehlo()
        if access_token:
            authenticate_xoauth2(client, user, access_token)
        elif user:
            client.login(user, password or '')
        client.quit()
    except Exception as error:
        if client is not None:
            try:
                client.close()
            except Exception:  # pylint: disable=except-pass
                # The error being raised is the one that counts.
                pass
        raise classify(error) from error


_TEXT_KINDS = (
    ('auth', ('535', '534', 'authentication', 'username and password not accepted')),
    ('tls', ('ssl', 'tls', 'wrong version number', 'certificate')),
    ('refused', ('connection refused', 'errno 111')),
    ('timeout', ('timed out', 'timeout')),
    ('dns', ('name or service not known', 'nodename nor servname', 'getaddrinfo')),
    ('recipient', ('550', '551', '553', '554', 'recipient', 'mailbox unavailable')),
)


def failure_kind(reason):
    """What kind of failure Odoo's ``failure_reason`` (an exception or its text) is: 'auth', 'tls', ..., 'unknown'."""
    if isinstance(reason, Exception):
        return classify(reason).kind
    text = str(reason or '').lower()
    for kind, words in _TEXT_KINDS:
        if any(word in text for word in words):
            return kind
    return 'unknown'


def retry_delay_minutes(attempt):
    """Minutes to wait before sending again after the ``attempt``-th failure: 2, 4, 8, 16, 32, then hourly."""
    return min(2 ** max(1, attempt), 60)
