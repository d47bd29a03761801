"""A real Odoo server, a real Dovecot and headless Chromium for the browser tests.

Runs in .venv-browser (system Python 3 + Selenium). The database named by
POSTCENTER_E2E_DB is prepared by scripts/test.sh (a copy of the freshly installed one).
"""
import os
import subprocess
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.support.dovecot import Dovecot
from tests.support.ports import free_port, wait_for_port
from tests.support.tls import trust_bundle

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
ARTIFACTS = os.path.join(ROOT, 'test-artifacts', 'e2e')
IMAP_USER, IMAP_PASSWORD = 'support@example.com', 'right-password'
BOARD_USER, BOARD_PASSWORD = 'ventas@example.com', 'ventas-password'


@pytest.fixture(scope='session')
def artifacts():
    os.makedirs(ARTIFACTS, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope='session')
def dovecot():
    server = Dovecot(users={IMAP_USER: IMAP_PASSWORD, BOARD_USER: BOARD_PASSWORD}).start()
    yield server
    server.destroy()


@pytest.fixture(scope='session')
def odoo_url(dovecot, artifacts):
    database = os.environ.get('POSTCENTER_E2E_DB')
    if not database:
        pytest.fail('POSTCENTER_E2E_DB is not set: run the browser tests with `make test`.')
    port = free_port()
    env = dict(os.environ, SSL_CERT_FILE=trust_bundle(dovecot.cert_path, os.path.join(dovecot.root, 'trust.pem')))
    log = open(os.path.join(artifacts, 'odoo.log'), 'w')
    server = subprocess.Popen(
        [os.path.join(ROOT, 'scripts', 'odoo.sh'), '-d', database, '--db-filter=^%s$' % database,
         '--http-interface=127.0.0.1', '--http-port=%d' % port, '--longpolling-port=%d' % free_port(),
         '--workers=0', '--max-cron-threads=0', '--log-level=info'],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    url = 'http://127.0.0.1:%d' % port
    os.environ['POSTCENTER_E2E_DB'] = database
    try:
        wait_for_port(port, timeout=60)
        _wait_for_page(url + '/web/login')
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _wait_for_page(url, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@pytest.fixture
def browser(artifacts, request):
    options = webdriver.ChromeOptions()
    options.binary_location = '/usr/bin/chromium'
    for flag in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync',
                 '--no-first-run', '--window-size=1400,1000', '--lang=en-US'):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
    driver.implicitly_wait(0)
    yield driver
    if request.node.rep_call.failed if hasattr(request.node, 'rep_call') else False:
        driver.save_screenshot(os.path.join(artifacts, request.node.name + '-failure.png'))
    driver.quit()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, 'rep_' + report.when, report)
