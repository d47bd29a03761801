"""IMAP sessions: one way to connect, used by the "Connect" / "Test" buttons and the fetch alike.

Every failure leaves here as one of ``services.exceptions``, never as a raw
socket, SSL or IMAP error.
"""
import ssl
import threading

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from . import exceptions

DEFAULT_TIMEOUT = 30


class Bearer:
    """An OAuth 2.0 access token given where a password goes: the login is ``AUTHENTICATE XOAUTH2``."""

    def __init__(self, token):
        self.token = token


def classify(error, bearer=False):
    """Turn a low-level error into the ``MailServerError`` that says what happened."""
    if isinstance(error, exceptions.MailServerError):
        return error
    if isinstance(error, LoginError):
        if '[UNAVAILABLE]' in _text(error).upper():
            return exceptions.ServerUnavailable(_text(error))
        if bearer:
            return exceptions.TokenRefused(_text(error))
        return exceptions.AuthenticationFailed(_text(error))
    transport = exceptions.from_transport(error, _text)
    if transport:
        return transport
    if isinstance(error, IMAPClientAbortError):
        if _text(error).startswith('unexpected response'):  # imaplib's words for a line that is not IMAP
            return exceptions.ProtocolFailure(_text(error))
        return exceptions.NetworkFailure(_text(error))
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
    """Log in (with XOAUTH2 when ``password`` is a ``Bearer``) and return the ``IMAPClient`` (the caller logs
    out)."""
    client = None
    try:
        client = imapclient.IMAPClient(
            host, port=port, ssl=use_ssl, timeout=timeout,
            ssl_context=ssl_context or (ssl.create_default_context() if use_ssl else None),
        )
        if isinstance(password, Bearer):
            client.oauth2_login(user, password.token)
        else:
            client.login(user, password)
        return client
    except Exception as error:
        _quietly_close(client)
        raise classify(error, bearer=isinstance(password, Bearer)) from error


def check_mailbox(host, port, use_ssl, user, password, folder='INBOX', timeout=DEFAULT_TIMEOUT,
                  ssl_context=None):
    """Log in, select ``folder`` read-only and log out; return its UIDVALIDITY and message count."""
    with open_mailbox(host, port, use_ssl, user, password, folder, readonly=True, timeout=timeout,
                      ssl_context=ssl_context) as mailbox:
        return {'uidvalidity': int(mailbox.uidvalidity or 0), 'exists': mailbox.exists}


class Mailbox:
    """An open session on one folder: search by UID, fetch raw messages, flag them."""

    def __init__(self, client, folder, status):
        self.client = client
        self.folder = folder
        self.uidvalidity = str(status.get(b'UIDVALIDITY') or '')
        self.uidnext = int(status.get(b'UIDNEXT') or 0)
        self.exists = int(status.get(b'EXISTS') or 0)

    def _call(self, method, *args, **kwargs):
        """A command of the open session; its failures are ``midway``. A TLS error after the handshake that
        worked is the connection being cut, not a TLS setting to check."""
        try:
            return getattr(self.client, method)(*args, **kwargs)
        except Exception as error:
            failure = classify(error)
            if isinstance(failure, exceptions.TlsFailure):
                failure = exceptions.NetworkFailure(failure.detail)
            failure.midway = True
            raise failure from error

    def uids_after(self, last_uid):
        """UIDs above ``last_uid``, ascending (``N:*`` also answers the highest UID: it is dropped). When the
        folder's UIDNEXT (given by SELECT) says that no UID above ``last_uid`` has been given yet, there is nothing
        to search for (RFC 3501: every message's UID is below UIDNEXT): an idle poll is one round trip shorter."""
        if self.uidnext and self.uidnext <= last_uid + 1:
            return []
        return sorted(uid for uid in self._call('search', ['UID', '%d:*' % (last_uid + 1)]) if uid > last_uid)

    def unseen_uids(self):
        return sorted(self._call('search', ['UNSEEN']))

    def uids_since(self, day):
        """UIDs of the messages delivered on or after ``day`` (a ``datetime.date``)."""
        return sorted(self._call('search', ['SINCE', day]))

    def fetch(self, uids):
        """``[(uid, raw bytes)]`` for ``uids``, in UID order; the \\Seen flag is left alone."""
        if not uids:
            return []
        found = self._call('fetch', uids, ['BODY.PEEK[]'])
        return [(uid, found[uid][b'BODY[]']) for uid in sorted(found) if b'BODY[]' in found[uid]]

    def mark_seen(self, uids):
        if uids:
            self._call('add_flags', uids, [imapclient.SEEN], silent=True)

    def close(self):
        _quietly_close(self.client)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def fetch_ahead(mailbox, batches):
    """``(uids, [(uid, raw)])`` for each batch of ``batches`` in order, batch *i + 1* being fetched on a thread of
    its own while the caller works on batch *i* (on a far server, the wait for the next batch overlaps the storing of
    this one). The session is the mailbox's one connection: the caller must not use it while iterating, and must
    close the generator (``contextlib.closing``) so that a fetch in flight ends before the session does. A failure of
    a fetch is raised where the caller asks for that batch, as a plain ``fetch`` would have raised it then."""
    batches = [list(batch) for batch in batches]
    pending = None
    try:
        for index, batch in enumerate(batches):
            if pending is None:
                pending = _Fetch(mailbox, batch)
            messages = pending.result()
            pending = _Fetch(mailbox, batches[index + 1]) if index + 1 < len(batches) else None
            yield batch, messages
    finally:
        if pending is not None:
            pending.wait()


class _Fetch(threading.Thread):
    """One ``mailbox.fetch(uids)`` running on a thread; ``result()`` waits for it and returns or raises it."""

    def __init__(self, mailbox, uids):
        super().__init__(daemon=True, name='postcenter-imap-fetch')
        self.mailbox, self.uids = mailbox, uids
        self.messages = self.error = None
        self.start()

    def run(self):
        try:
            self.messages = self.mailbox.fetch(self.uids)
        except BaseException as error:  # handed to the caller's thread
            self.error = error

    def wait(self):
        self.join()

    def result(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.messages


def open_mailbox(host, port, use_ssl, user, password, folder='INBOX', readonly=True, timeout=DEFAULT_TIMEOUT,
                 ssl_context=None):
    """Log in and select ``folder``; the returned ``Mailbox`` closes the session."""
    client = connect(host, port, use_ssl, user, password, timeout=timeout, ssl_context=ssl_context)
    try:
        status = client.select_folder(folder, readonly=readonly)
    except IMAPClientError as error:
        _quietly_close(client)
        raise exceptions.MailboxMissing(_text(error)) from error
    except Exception as error:
        _quietly_close(client)
        raise classify(error) from error
    return Mailbox(client, folder, status)


def _quietly_close(client):
    """Log out if we can; a dead connection is simply dropped."""
    if client is None:
        return
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:  # pylint: disable=except-pass
            # The connection is dead already: nothing to close.
            pass
