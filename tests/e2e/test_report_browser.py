"""The Email Service report (graph and pivot) and the account dashboard, in a running Odoo, over tickets of a
forwarding account that came in through Odoo's mail gateway and were answered by an agent."""
import os
from email.message import EmailMessage

from selenium.webdriver.common.by import By

from .test_add_account_browser import clickable, log_in, open_web, visible, wait
from .test_board_browser import rpc
from .test_mailgate import pipe


def receive(url, address, number, subject):
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = 'Rosa Díaz <rosa@cliente.example>', address, subject
    message['Message-ID'] = '<report-browser-%d@cliente.example>' % number
    message.set_content('Hola, necesito ayuda con mi pedido %d.' % number)
    assert pipe(url, message.as_bytes()).returncode == 0
    return rpc(url, 'helpdesk.ticket', 'search', [('name', '=', subject)])[0]


def test_the_report_and_the_account_dashboard(browser, odoo_url, artifacts):
    account = rpc(odoo_url, 'postcenter.email.account', 'create', {
        'name': 'Informes', 'email': 'informes@acme.example', 'connection_type': 'forward', 'sla_time': 4,
        'sla_unit': 'hours'})
    address = rpc(odoo_url, 'postcenter.email.account', 'read', [account], ['forward_address'])[0]['forward_address']
    tickets = [receive(odoo_url, address, number, 'Consulta %d' % number) for number in range(1, 4)]
    for ticket in tickets[:2]:
        rpc(odoo_url, 'helpdesk.ticket', 'message_post', [ticket], body='Hola Rosa, ya lo revisamos.',
            message_type='comment', subtype='mail.mt_comment')
    metrics = rpc(odoo_url, 'helpdesk.ticket', 'read', tickets, ['agent_answer_count', 'first_answer_sla'])
    assert [(m['agent_answer_count'], m['first_answer_sla']) for m in metrics] == [(1, 'met'), (1, 'met'),
                                                                                   (0, False)]

    log_in(browser, odoo_url)
    open_web(browser, odoo_url, 'action=postcenter_email.action_postcenter_email_report')
    visible(browser, '.o_graph_svg_container svg')
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '.o_graph_svg_container svg rect.nv-bar') or False)
    browser.save_screenshot(os.path.join(artifacts, 'report-graph.png'))

    clickable(browser, 'button.o_cp_switch_pivot').click()
    visible(browser, '.o_pivot table')
    wait(browser, lambda b: 'Informes' in b.find_element(By.CSS_SELECTOR, '.o_pivot table').text)
    header = browser.find_element(By.CSS_SELECTOR, '.o_pivot table').text
    assert 'First Response, Median (h)' in header and '% Within SLA' in header
    browser.save_screenshot(os.path.join(artifacts, 'report-pivot.png'))

    open_web(browser, odoo_url, 'action=postcenter_email.action_postcenter_email_account')
    clickable(browser, '.o_postcenter_dashboard_button').click()
    visible(browser, '.o_postcenter_dashboard')
    card = wait(browser, lambda b: [c for c in b.find_elements(By.CSS_SELECTOR, '.o_postcenter_dashboard_card')
                                    if 'Informes' in c.text] or False)[0]
    assert card.find_element(By.CSS_SELECTOR, '.o_postcenter_figure_open b').text == '3'
    assert card.find_element(By.CSS_SELECTOR, '.o_postcenter_figure_waiting b').text == '2'
    assert card.find_element(By.CSS_SELECTOR, '.o_postcenter_figure_sla b').text.startswith('100')
    browser.save_screenshot(os.path.join(artifacts, 'report-dashboard.png'))

    card.find_element(By.CSS_SELECTOR, '.o_postcenter_figure_open').click()
    wait(browser, lambda b: 'Informes: Open Tickets' in b.find_element(By.CSS_SELECTOR, '.breadcrumb').text)
    rows = wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '.o_list_view tbody tr.o_data_row') or False)
    assert len(rows) == 3 and all('Consulta' in row.text for row in rows)
    browser.save_screenshot(os.path.join(artifacts, 'report-dashboard-open-tickets.png'))
