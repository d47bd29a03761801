"""Mail fetched by an IMAP account shows on the helpdesk board with its account and badges."""
import imaplib
import os
import time
import xmlrpc.client
from email.message import EmailMessage

from selenium.webdriver.common.by import By

from .conftest import BOARD_PASSWORD, BOARD_USER
from .test_add_account_browser import click_button, log_in, open_web, visible, wait


def rpc(url, model, method, *args, **kwargs):
    database = os.environ['POSTCENTER_E2E_DB']
    uid = xmlrpc.client.ServerProxy(url + '/xmlrpc/2/common').authenticate(database, 'admin', 'admin', {})
    return xmlrpc.client.ServerProxy(url + '/xmlrpc/2/object').execute_kw(
        database, uid, 'admin', model, method, list(args), kwargs)


def deliver(port, subject, body):
    message = EmailMessage()
    message['From'] = 'Carla Díaz <carla@cliente.cl>'
    message['To'] = BOARD_USER
    message['Subject'] = subject
    message['Message-ID'] = '<board-%s-%s@cliente.cl>' % (abs(hash(subject)), time.time())
    message.set_content(body)
    client = imaplib.IMAP4('127.0.0.1', port)
    client.login(BOARD_USER, BOARD_PASSWORD)
    client.append('INBOX', '', imaplib.Time2Internaldate(time.time()), message.as_bytes())
    client.logout()


def test_fetched_mail_on_the_board(browser, odoo_url, dovecot, artifacts):
    keyword = rpc(odoo_url, 'postcenter.email.keyword', 'create', {'name': 'urgente'})
    account = rpc(odoo_url, 'postcenter.email.account', 'create', {
        'name': 'Ventas', 'email': BOARD_USER, 'connection_type': 'imap', 'imap_host': '127.0.0.1',
        'imap_port': dovecot.imap_port, 'imap_ssl': False, 'imap_user': BOARD_USER,
        'imap_password': BOARD_PASSWORD, 'important_keyword_ids': [(6, 0, [keyword])]})
    deliver(dovecot.imap_port, 'Pedido atrasado', 'Hola, ¿dónde está mi pedido?')
    deliver(dovecot.imap_port, 'URGENTE: cobro duplicado', 'Me cobraron dos veces.')

    log_in(browser, odoo_url)
    open_web(browser, odoo_url, 'id=%d&model=postcenter.email.account&view_type=form' % account)
    click_button(browser, 'Fetch Now')
    wait(browser, lambda b: 'Connected' in b.find_element(By.CSS_SELECTOR, '.o_statusbar_status').text)

    open_web(browser, odoo_url, 'action=helpdesk_mgmt.helpdesk_ticket_action&view_type=kanban')
    visible(browser, '.o_kanban_view')
    cards = wait(browser, lambda b: [card for card in b.find_elements(By.CSS_SELECTOR, '.o_kanban_record')
                                     if 'Ventas' in card.text] or False)
    wait(browser, lambda b: len([c for c in b.find_elements(By.CSS_SELECTOR, '.o_kanban_record')
                                 if 'Ventas' in c.text]) == 2)
    important = browser.find_elements(By.CSS_SELECTOR, '.o_kanban_record .o_postcenter_important')
    assert len(important) == 1
    assert 'cobro duplicado' in important[0].find_element(By.XPATH, './ancestor::div[contains(@class, '
                                                                    '"o_kanban_record")]').text
    assert cards
    browser.save_screenshot(os.path.join(artifacts, 'board-email-tickets.png'))

    # a ticket past its response time (as the SLA scheduled action marks it) shows a Late badge
    late = rpc(odoo_url, 'helpdesk.ticket', 'search', [('name', '=', 'Pedido atrasado')])
    rpc(odoo_url, 'helpdesk.ticket', 'write', late, {'is_late': True})
    open_web(browser, odoo_url, 'action=helpdesk_mgmt.helpdesk_ticket_action&view_type=kanban')
    badges = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '.o_kanban_record .o_postcenter_late') or False)
    assert len(badges) == 1
    assert 'Pedido atrasado' in badges[0].find_element(By.XPATH, './ancestor::div[contains(@class, '
                                                                 '"o_kanban_record")]').text
    browser.save_screenshot(os.path.join(artifacts, 'board-late-ticket.png'))
