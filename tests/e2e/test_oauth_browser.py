"""An administrator adds a Microsoft 365 account with "Sign in with Microsoft": the local authorization server's
consent page, Allow, and back in Odoo the account is Connected and its mail reaches the board. Real Odoo server,
real Dovecot checking the XOAUTH2 token, real Authlib server (.venv-oauth)."""
import imaplib
import os
import xmlrpc.client

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen

from tests.support.dovecot import Dovecot
from tests.support.oauth import OAuthServer

from .test_add_account_browser import click_button, clickable, log_in, open_web, type_into, visible, wait

MAILBOX, PASSWORD = 'mesa@example.com', 'mesa-password'


@pytest.fixture(scope='module')
def authorization():
    server = OAuthServer(users={MAILBOX: {'email': MAILBOX}}).start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def oauth_dovecot(authorization):
    client_id, client_secret = authorization.introspection_client
    server = Dovecot(users={MAILBOX: PASSWORD}, oauth2={
        'introspection_url': authorization.url + '/introspect', 'client_id': client_id,
        'client_secret': client_secret}).start()
    yield server
    server.destroy()


def point_microsoft_at(odoo_url, authorization):
    """A manager's Settings, done over XML-RPC: the Microsoft profile points at the local server."""
    database = os.environ['POSTCENTER_E2E_DB']
    uid = xmlrpc.client.ServerProxy(odoo_url + '/xmlrpc/2/common').authenticate(database, 'admin', 'admin', {})
    models = xmlrpc.client.ServerProxy(odoo_url + '/xmlrpc/2/object')
    for key, value in authorization.endpoints().items():
        models.execute_kw(database, uid, 'admin', 'ir.config_parameter', 'set_param',
                          ['postcenter_email.oauth.microsoft.' + key, value])


def deliver(dovecot, subject):
    client = imaplib.IMAP4('127.0.0.1', dovecot.imap_port)
    client.login(MAILBOX, PASSWORD)
    raw = ('From: Ana Perez <ana@cliente.cl>\r\nTo: %s\r\nSubject: %s\r\n'
           'Message-ID: <oauth-e2e@cliente.cl>\r\n\r\nHola, necesito ayuda.\r\n' % (MAILBOX, subject))
    client.append('INBOX', None, None, raw.encode())
    client.logout()


def test_admin_signs_in_with_microsoft(browser, odoo_url, oauth_dovecot, authorization, artifacts):
    point_microsoft_at(odoo_url, authorization)
    deliver(oauth_dovecot, 'Pedido por Microsoft 365')
    log_in(browser, odoo_url)
    open_web(browser, odoo_url, 'action=postcenter_email.action_postcenter_email_account')
    clickable(browser, '.o_list_button_add').click()
    dialog = '.modal-dialog '
    clickable(browser, dialog + 'button[name=action_next]').click()
    type_into(browser, dialog + 'input[name=name]', 'Mesa Microsoft')
    type_into(browser, dialog + 'input[name=email]', MAILBOX)
    wait(browser, seen.element_to_be_clickable((By.XPATH, '//div[@name="imap_auth"]//label[contains(., "Microsoft")]'))
         ).click()
    # the provider's IMAP server is the local Dovecot here (the choice above filled in Microsoft's)
    wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, dialog + 'input[name=imap_host]').get_attribute('value')
         == 'outlook.office365.com')
    type_into(browser, dialog + 'input[name=imap_host]', '127.0.0.1')
    type_into(browser, dialog + 'input[name=imap_port]', str(oauth_dovecot.imap_port))
    ssl_box = dialog + 'div[name=imap_ssl] input'
    browser.execute_script('arguments[0].click();', browser.find_element(By.CSS_SELECTOR, ssl_box))
    wait(browser, lambda b: not b.find_element(By.CSS_SELECTOR, ssl_box).is_selected())
    browser.save_screenshot(os.path.join(artifacts, 'oauth-wizard.png'))
    click_button(browser, 'Sign in with Microsoft')

    allow = visible(browser, '#allow')
    assert MAILBOX in browser.find_element(By.ID, 'signed-in').text
    browser.save_screenshot(os.path.join(artifacts, 'oauth-consent.png'))
    allow.click()

    visible(browser, '.o_form_view')
    wait(browser, lambda b: 'Mesa Microsoft' in b.find_element(By.CSS_SELECTOR, '.o_form_view').text)
    status = visible(browser, '.o_statusbar_status .btn-primary')
    wait(browser, lambda _b: 'Connected' in status.text)
    browser.save_screenshot(os.path.join(artifacts, 'oauth-connected.png'))
    click_button(browser, 'Fetch Now')
    wait(browser, lambda b: b.execute_script("return !document.querySelector('.blockUI');"))

    open_web(browser, odoo_url, 'action=helpdesk_mgmt.helpdesk_ticket_action&view_type=kanban')
    visible(browser, '.o_kanban_view')
    wait(browser, lambda b: any('Pedido por Microsoft 365' in card.text
                                for card in b.find_elements(By.CSS_SELECTOR, '.o_kanban_record')))
    browser.save_screenshot(os.path.join(artifacts, 'oauth-board.png'))

    # a forged or replayed answer from "the provider" gets a page in plain words, not a traceback
    browser.get(odoo_url + '/postcenter_email/oauth/callback?code=stolen&state=forged.state')
    error = visible(browser, '#o_postcenter_oauth_error')
    assert 'not valid any more' in error.text
