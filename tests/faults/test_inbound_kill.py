"""The inbound SMTP server (scripts/inbound_smtp.py, its own process) killed while it stores a message: the sender
never heard 250, nothing half-stored remains, and the sender's retry makes exactly one ticket."""
import os
import smtplib
import subprocess
import sys
import threading

import psycopg2
import pytest

from tests.support.ports import free_port, wait_for_port

from .conftest import ARTIFACTS, DB, ROOT, assert_exactly_once, connect, customer_email, outcome, query, wait_until


class InboundServer:
    """scripts/inbound_smtp.py for the test database, as a process."""

    def __init__(self, port):
        self.port, self.process = port, None

    def start(self):
        log = open(os.path.join(ARTIFACTS, 'inbound-smtp.log'), 'a')
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(ROOT, 'scripts', 'inbound_smtp.py'), '--database', DB,
             '--port', str(self.port)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for_port(self.port, timeout=60)
        return self

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=20)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.fixture
def inbound():
    server = InboundServer(free_port())
    yield server
    server.stop()


@pytest.fixture
def forwarding(odoo_env):
    with odoo_env() as env:
        record = env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@tienda.example', 'connection_type': 'forward', 'state': 'connected'})
        found = {'id': record.id, 'address': record.forward_address}
    yield found
    with odoo_env() as env:
        env['postcenter.email.account'].browse(found['id']).active = False


def send(port, message, rcpt, outcome):
    """Send as a mail provider does, keeping what it heard: ``{'refused': {}}`` on 250, else the exception."""
    try:
        with smtplib.SMTP('127.0.0.1', port, timeout=60) as client:
            outcome['refused'] = client.send_message(message, to_addrs=[rcpt])
    except Exception as error:  # noqa: B902 - what the sender heard is the point of the test
        outcome['error'] = error


def waiting_on_the_ledger():
    """Sessions of the test database waiting for a lock while inserting into the ledger."""
    connection = connect()
    try:
        return query(connection, """
            SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
               AND query LIKE '%%INSERT INTO postcenter_email_receipt%%'""")
    finally:
        connection.close()


def session_alive(pid):
    connection = connect()
    try:
        return query(connection, 'SELECT 1 FROM pg_stat_activity WHERE pid = %s', pid)
    finally:
        connection.close()


def test_inbound_server_killed_while_storing_a_message(inbound, forwarding):
    message = customer_email('Mi pedido no llegó', 'ventas@tienda.example')
    inbound.start()

    # The ledger is held, so the server's store waits in the middle of its transaction: the sender has sent its
    # data and waits for the answer.
    holder = psycopg2.connect(dbname=DB)
    holder.cursor().execute('LOCK TABLE postcenter_email_receipt IN SHARE MODE')
    heard = {}
    sender = threading.Thread(target=send, args=(inbound.port, message, forwarding['address'], heard))
    sender.start()
    try:
        (storing,), = wait_until(waiting_on_the_ledger, what='the server to be storing the message')
        assert sender.is_alive() and not heard
        inbound.kill()
        sender.join(timeout=60)
    finally:
        holder.close()
    assert 'refused' not in heard, 'the sender heard 250 for a message that was not stored'
    assert isinstance(heard['error'], smtplib.SMTPServerDisconnected)
    wait_until(lambda: not session_alive(storing), what='the killed server\'s database session to end')
    found = outcome(forwarding['id'])
    assert_exactly_once(found, [])  # nothing half-stored

    # The provider keeps the message and tries again later, when the server is back.
    inbound.start()
    again = {}
    send(inbound.port, message, forwarding['address'], again)
    assert again == {'refused': {}}  # 250
    found = outcome(forwarding['id'])
    assert_exactly_once(found, ['Mi pedido no llegó'])
    assert (found['state'], found['last_error']) == ('connected', None)
