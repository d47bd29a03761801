"""An MTA piping mail for a forwarding address to the running Odoo, through scripts/postcenter_mailgate.py."""
import os
import subprocess
import sys
from email.message import EmailMessage

from tests.support.ports import free_port

from .conftest import ROOT
from .test_board_browser import rpc

MAILGATE = os.path.join(ROOT, 'scripts', 'postcenter_mailgate.py')


def pipe(url, raw):
    return subprocess.run([sys.executable, MAILGATE, '--url', url, '--database', os.environ['POSTCENTER_E2E_DB'],
                           '--user', 'admin', '--password', 'admin'], input=raw, capture_output=True)


def test_mta_pipe_to_a_forwarding_address(odoo_url):
    account = rpc(odoo_url, 'postcenter.email.account', 'create', {
        'name': 'Reenvío MTA', 'email': 'mta@acme.example', 'connection_type': 'forward'})
    address = rpc(odoo_url, 'postcenter.email.account', 'read', [account], ['forward_address'])[0]['forward_address']
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = 'Eva <eva@cliente.example>', address, 'Llegó por Postfix'
    message['Message-ID'] = '<mta-pipe-1@cliente.example>'
    message.set_content('Hola desde el MTA')
    assert pipe(odoo_url, message.as_bytes()).returncode == 0
    assert pipe(odoo_url, message.as_bytes()).returncode == 0
    found = rpc(odoo_url, 'helpdesk.ticket', 'search_read', [('email_account_id', '=', account)], ['name'])
    assert [ticket['name'] for ticket in found] == ['Llegó por Postfix']


def test_odoo_unreachable_asks_the_mta_to_retry():
    done = pipe('http://127.0.0.1:%d' % free_port(), b'Subject: x\n\nx')
    assert done.returncode == 75
    assert b'could not be reached' in done.stderr
