"""The IMAP session against a real Dovecot: each failure comes out as the error that names it."""
import contextlib
import socket
import ssl
import threading

import imapclient
import pytest

from services import exceptions, imap
from tests.support.dovecot import Dovecot

USER, PASSWORD = 'support@example.com', 'right-password'


@pytest.fixture(scope='module')
def dovecot():
    server = Dovecot(users={USER: PASSWORD}).start()
    yield server
    server.destroy()


@pytest.fixture
def trusting(dovecot):
    return ssl.create_default_context(cafile=dovecot.cert_path)


def test_plain_login_and_inbox(dovecot):
    status = imap.check_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD)
    assert status['exists'] == 0
    assert status['uidvalidity'] > 0


def test_implicit_tls_login(dovecot, trusting):
    status = imap.check_mailbox('localhost', dovecot.imaps_port, True, USER, PASSWORD, ssl_context=trusting)
    assert status['uidvalidity'] > 0


def test_untrusted_certificate_is_a_tls_failure(dovecot):
    with pytest.raises(exceptions.TlsFailure) as caught:
        imap.check_mailbox('localhost', dovecot.imaps_port, True, USER, PASSWORD,
                           ssl_context=ssl.create_default_context(cafile='/etc/ssl/certs/ca-certificates.crt'))
    assert 'certificate' in caught.value.detail.lower()


def test_tls_against_plain_port(dovecot, trusting):
    with pytest.raises(exceptions.TlsFailure):
        imap.check_mailbox('localhost', dovecot.imap_port, True, USER, PASSWORD, ssl_context=trusting, timeout=5)


def test_wrong_password(dovecot):
    with pytest.raises(exceptions.AuthenticationFailed) as caught:
        imap.check_mailbox('127.0.0.1', dovecot.imap_port, False, USER, 'wrong')
    assert not caught.value.transient


def test_missing_folder(dovecot):
    with pytest.raises(exceptions.MailboxMissing):
        imap.check_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD, folder='Nope')


def test_closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    with pytest.raises(exceptions.ConnectionRefused) as caught:
        imap.check_mailbox('127.0.0.1', port, False, USER, PASSWORD)
    assert caught.value.transient


def test_unknown_host():
    with pytest.raises(exceptions.HostNotFound):
        imap.check_mailbox('imap.does-not-exist.invalid', 993, True, USER, PASSWORD)


def test_silent_server_times_out():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    try:
        with pytest.raises(exceptions.ConnectionTimeout) as caught:
            imap.check_mailbox('127.0.0.1', listener.getsockname()[1], False, USER, PASSWORD, timeout=0.5)
        assert caught.value.transient
    finally:
        listener.close()


def test_server_restart_is_seen_as_down_then_up(dovecot):
    dovecot.stop()
    try:
        with pytest.raises(exceptions.ConnectionRefused):
            imap.check_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD)
    finally:
        dovecot.start()
    assert imap.check_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD)['exists'] == 0


@pytest.mark.parametrize('use_ssl', [False, True], ids=['plain', 'tls'])
def test_connection_cut_during_a_session_is_a_network_failure_midway(dovecot, trusting, use_ssl):
    port = dovecot.imaps_port if use_ssl else dovecot.imap_port
    mailbox = imap.open_mailbox('127.0.0.1', port, use_ssl, USER, PASSWORD, ssl_context=trusting if use_ssl else None)
    try:
        dovecot.stop()
        with pytest.raises(exceptions.NetworkFailure) as caught:
            mailbox.unseen_uids()  # a search (on the empty INBOX, ``uids_after`` would ask the server nothing)
        assert caught.value.midway
    finally:
        mailbox.close()
        dovecot.start()
    with pytest.raises(exceptions.ConnectionRefused) as refused:
        imap.check_mailbox('127.0.0.1', 1, False, USER, PASSWORD)
    assert not refused.value.midway


def test_a_server_that_is_not_imap_is_a_protocol_failure():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def smtp_greeting():
        client, _address = listener.accept()
        client.sendall(b'220 smtp.example.com ESMTP ready\r\n')
        client.recv(100)
        client.close()
    threading.Thread(target=smtp_greeting, daemon=True).start()
    try:
        with pytest.raises(exceptions.ProtocolFailure) as caught:
            imap.check_mailbox('127.0.0.1', listener.getsockname()[1], False, USER, PASSWORD, timeout=5)
        assert '220 smtp.example.com' in caught.value.detail
        assert not caught.value.midway
    finally:
        listener.close()


def test_a_server_that_cannot_check_logins_for_now_is_not_a_rejected_password():
    """``NO [UNAVAILABLE]`` to LOGIN (RFC 5530; Dovecot and Gmail say it while their password check is down) is a
    temporary failure, not a wrong password: a scripted IMAP server on a real socket answers it."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def serve():
        client, _address = listener.accept()
        with client, client.makefile('rwb') as stream:
            stream.write(b'* OK ready\r\n')
            stream.flush()
            for line in stream:
                tag, command = line.split(b' ')[:2]
                if command.strip().upper() == b'CAPABILITY':
                    stream.write(b'* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n' + tag + b' OK done\r\n')
                elif command.upper() == b'LOGIN':
                    stream.write(tag + b' NO [UNAVAILABLE] Temporary authentication failure.\r\n')
                else:
                    stream.write(b'* BYE\r\n' + tag + b' OK bye\r\n')
                    stream.flush()
                    return
                stream.flush()

    threading.Thread(target=serve, daemon=True).start()
    try:
        with pytest.raises(exceptions.ServerUnavailable) as caught:
            imap.check_mailbox('127.0.0.1', listener.getsockname()[1], False, USER, PASSWORD, timeout=5)
        assert caught.value.transient
        assert caught.value.kind == 'unavailable'
    finally:
        listener.close()


def _fill(port, count):
    client = imapclient.IMAPClient('127.0.0.1', port=port, ssl=False)
    client.login(USER, PASSWORD)
    client.select_folder('INBOX')
    old = client.search('ALL')
    if old:
        client.delete_messages(old)
        client.expunge()
    for number in range(count):
        client.append('INBOX', b'From: a@b.example\r\nSubject: %d\r\nMessage-ID: <%d@b.example>\r\n\r\nHola\r\n'
                      % (number, number))
    client.logout()


def test_fetching_ahead_gives_the_batches_in_order_the_next_one_asked_for_before_this_one_is_used(dovecot):
    _fill(dovecot.imap_port, 5)
    with imap.open_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD) as mailbox:
        uids = mailbox.uids_after(0)
        batches = [uids[:2], uids[2:4], uids[4:]]
        expected = [mailbox.fetch(batch) for batch in batches]
        second_asked = threading.Event()
        fetch = mailbox.fetch

        def spy(batch):
            if batch == batches[1]:
                second_asked.set()
            return fetch(batch)
        mailbox.fetch = spy
        got = []
        with contextlib.closing(imap.fetch_ahead(mailbox, batches)) as fetched:
            for _batch, messages in fetched:
                if not got:
                    assert second_asked.wait(10), 'the second batch is read while the first is worked on'
                got.append(messages)
    assert got == expected and b'Subject: 4' in got[2][0][1]


def test_a_failed_fetch_ahead_is_raised_where_its_batch_is_asked_for(dovecot):
    _fill(dovecot.imap_port, 4)
    with imap.open_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD) as mailbox:
        uids = mailbox.uids_after(0)
        fetch = mailbox.fetch

        def second_fails(batch):
            if batch == uids[2:]:
                raise exceptions.NetworkFailure('cut')
            return fetch(batch)
        mailbox.fetch = second_fails
        got = []
        with pytest.raises(exceptions.NetworkFailure):
            with contextlib.closing(imap.fetch_ahead(mailbox, [uids[:2], uids[2:]])) as fetched:
                for _batch, messages in fetched:
                    got.append(len(messages))
        assert got == [2], 'the first batch came out whole before the failure of the second'
        assert len(fetch(uids)) == 4, 'the session is still usable afterwards'


def test_no_search_when_uidnext_says_nothing_new_arrived(dovecot):
    _fill(dovecot.imap_port, 3)
    with imap.open_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD) as mailbox:
        uids = mailbox.uids_after(0)
        searches, search = [], mailbox.client.search
        mailbox.client.search = lambda criteria: searches.append(criteria) or search(criteria)
        assert mailbox.uids_after(max(uids)) == []
        assert searches == [], 'UIDNEXT (%d) is the next UID: nothing above %d' % (mailbox.uidnext, max(uids))
        assert mailbox.uids_after(max(uids) - 1) == [max(uids)]
        assert len(searches) == 1
    client = imapclient.IMAPClient('127.0.0.1', port=dovecot.imap_port, ssl=False)
    client.login(USER, PASSWORD)
    client.append('INBOX', b'From: a@b.example\r\nSubject: new\r\nMessage-ID: <new@b.example>\r\n\r\nHola\r\n')
    client.logout()
    with imap.open_mailbox('127.0.0.1', dovecot.imap_port, False, USER, PASSWORD) as mailbox:
        new = mailbox.uids_after(max(uids))
        assert len(new) == 1 and new[0] > max(uids), 'a message arrived since: found by the search'
