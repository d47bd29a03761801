"""An administrator writes an automatic reply: the buttons put the placeholders where the cursor is."""
import os

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from .test_add_account_browser import click_button, log_in, open_web, wait
from .test_board_browser import rpc


def displayed(browser, css):
    """The first displayed element matching ``css`` (the web client keeps hidden ones, e.g. copies of text
    boxes it uses to size them)."""
    return wait(browser, lambda b: [e for e in b.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()] or False)[0]


def test_placeholder_buttons_insert_at_the_cursor(browser, odoo_url, artifacts):
    account = rpc(odoo_url, 'postcenter.email.account', 'create', {
        'name': 'Mesa Web', 'email': 'mesa-web-%d@example.com' % os.getpid(), 'connection_type': 'forward'})
    log_in(browser, odoo_url)
    open_web(browser, odoo_url, 'id=%d&model=postcenter.email.account&view_type=form' % account)
    click_button(browser, 'Edit')
    wait(browser, lambda b: [tab for tab in b.find_elements(By.CSS_SELECTOR, '.o_notebook .nav-tabs a')
                             if 'Automatic Actions' in tab.text][0]).click()
    row = wait(browser, lambda b: [r for r in b.find_elements(By.CSS_SELECTOR, '.o_field_one2many .o_data_row')
                                   if 'On ticket creation' in r.text] or False)[0]
    row.find_elements(By.CSS_SELECTOR, 'td')[1].click()
    dialog = displayed(browser, '.modal-dialog')
    text = displayed(browser, '.modal-dialog textarea')  # Text 1
    text.send_keys('Hola , tu solicitud ya está con nosotros.')
    text.send_keys(Keys.HOME)
    for _ in range(len('Hola ')):
        text.send_keys(Keys.ARROW_RIGHT)
    buttons = dialog.find_elements(By.CSS_SELECTOR, '.o_postcenter_placeholder[data-placeholder=customer_name]')
    buttons[0].click()
    text.send_keys(Keys.END)
    text.send_keys(' Ticket ')
    dialog.find_elements(By.CSS_SELECTOR, '.o_postcenter_placeholder[data-placeholder=ticket_number]')[0].click()
    expected = 'Hola {{customer_name}}, tu solicitud ya está con nosotros. Ticket {{ticket_number}}'
    wait(browser, lambda b: text.get_attribute('value') == expected)
    switch = dialog.find_element(By.CSS_SELECTOR, '[name=active] input[type=checkbox]')
    browser.execute_script('arguments[0].click();', switch)  # Odoo 11 draws the box over a transparent input
    wait(browser, lambda b: displayed(b, '.modal-dialog [name=active] input[type=checkbox]').is_selected())
    browser.save_screenshot(os.path.join(artifacts, 'autoreply-placeholders.png'))
    save = displayed(browser, '.modal-footer .btn-primary')
    assert save.text == 'Save', save.text
    save.click()
    wait(browser, lambda b: not [d for d in b.find_elements(By.CSS_SELECTOR, '.modal-dialog') if d.is_displayed()])
    click_button(browser, 'Save')
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '.o_form_readonly'))
    saved = rpc(odoo_url, 'postcenter.email.autoreply', 'search_read',
                [('account_id', '=', account), ('kind', '=', 'ticket_created')], ['text_1', 'active'])
    assert saved == [{'id': saved[0]['id'], 'text_1': expected, 'active': True}]
