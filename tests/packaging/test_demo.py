"""`make run`'s demo: a local mailbox with sample mail, connected as an account, tickets on the board."""
import os
import shutil
import subprocess
import tempfile

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
TEMPLATE = os.environ.get('POSTCENTER_TEST_DB', 'postcenter_test')
DB = TEMPLATE + '_demo'


def psql(query):
    return subprocess.run(['psql', '-d', DB, '-tAc', query], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def demo():
    folder = tempfile.mkdtemp(prefix='postcenter-demo-')
    os.chmod(folder, 0o755)
    env = dict(os.environ, POSTCENTER_DEMO_FOLDER=folder, POSTCENTER_DEMO_IMAP_PORT=str(free_port()))
    subprocess.run(['dropdb', '--if-exists', DB], check=True, capture_output=True)
    subprocess.run(['createdb', '-T', TEMPLATE, DB], check=True)
    run = lambda *args: subprocess.run([os.path.join(ROOT, '.venv', 'bin', 'python'),  # noqa: E731
                                        os.path.join(ROOT, 'scripts', 'demo.py')] + list(args),
                                       check=True, env=env, capture_output=True, text=True)
    yield run
    run('stop')
    subprocess.run(['dropdb', '--if-exists', DB], check=True, capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


def free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_demo_puts_sample_mail_on_the_board_and_takes_more(demo):
    out = demo('start', DB).stdout
    assert 'connected' in out
    assert psql("SELECT state FROM postcenter_email_account WHERE name = 'Demo Soporte'") == 'connected'
    assert psql('SELECT count(*) FROM helpdesk_ticket WHERE email_account_id IS NOT NULL') == '5'
    assert psql('SELECT count(*) FROM helpdesk_ticket WHERE is_important') == '1'
    assert psql("SELECT partner_email FROM helpdesk_ticket WHERE name = 'Nuevo mensaje desde el sitio web'") == \
        'carla.diaz@correo.example'
    demo('send', '--subject', 'Otra consulta', '--body', 'Hola de nuevo')
    demo('stop')
    demo('start', DB)
    assert psql('SELECT count(*) FROM helpdesk_ticket WHERE email_account_id IS NOT NULL') == '6'
