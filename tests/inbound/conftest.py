"""A database of our own, Odoo in this process to arrange and inspect it, and the inbound SMTP server
running as its own process (scripts/inbound_smtp.py), as in production."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

from tests.support.odoo_db import copy_database, open_registry
from tests.support.ports import free_port, wait_for_port
from tests.support.tls import make_certificate

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TEMPLATE = os.environ.get('POSTCENTER_TEST_DB', 'postcenter_test')
DB = TEMPLATE + '_inbound'
MAX_SIZE = 300 * 1024


@pytest.fixture(scope='session')
def odoo_env_factory():
    copy_database(TEMPLATE, DB)
    odoo, registry = open_registry(ROOT, DB)

    class Session:
        """``with session() as env:`` commits at the end."""
        def __call__(self):
            return _Env(odoo, registry)
    yield Session()
    odoo.sql_db.close_all()
    subprocess.run(['dropdb', '--if-exists', DB], check=False, capture_output=True)


class _Env:
    def __init__(self, odoo, registry):
        self.odoo, self.registry = odoo, registry

    def __enter__(self):
        self.manage = self.odoo.api.Environment.manage()
        self.manage.__enter__()
        self.cr = self.registry.cursor()
        return self.odoo.api.Environment(self.cr, self.odoo.SUPERUSER_ID, {})

    def __exit__(self, *exc):
        if exc[0] is None:
            self.cr.commit()
        self.cr.close()
        self.manage.__exit__(*exc)


@pytest.fixture(scope='session')
def account(odoo_env_factory):
    """The forwarding account the tests write to: ``{'id', 'forward_address'}``."""
    with odoo_env_factory() as env:
        account = env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@acme.example', 'connection_type': 'forward'})
        return {'id': account.id, 'forward_address': account.forward_address}


@pytest.fixture(scope='session')
def certificate():
    folder = tempfile.mkdtemp(prefix='postcenter-inbound-tls-')
    cert, key = make_certificate(folder)
    yield cert, key
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope='session')
def inbound(odoo_env_factory, certificate):
    """The inbound SMTP server for the test database: ``(host, port)``."""
    port = free_port()
    log = open(os.path.join(ROOT, 'test-artifacts', 'inbound-smtp.log'), 'w')
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, 'scripts', 'inbound_smtp.py'), '--database', DB, '--port', str(port),
         '--max-size', str(MAX_SIZE), '--tls-cert', certificate[0], '--tls-key', certificate[1]],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, timeout=60)
        time.sleep(0.2)
        yield '127.0.0.1', port
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
