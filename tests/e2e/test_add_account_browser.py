"""An administrator adds an IMAP account through the web client, against the real Dovecot."""
import os

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import IMAP_PASSWORD, IMAP_USER

WAIT = 60


def wait(browser, condition):
    return WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def visible(browser, css):
    return wait(browser, seen.visibility_of_element_located((By.CSS_SELECTOR, css)))


def clickable(browser, css):
    return wait(browser, seen.element_to_be_clickable((By.CSS_SELECTOR, css)))


def click_button(browser, label):
    """Click the displayed button whose text is ``label`` (form header buttons carry no name in the page)."""
    def shown(b):
        found = [element for element in b.find_elements(By.XPATH, '//button[normalize-space(.)="%s"]' % label)
                 if element.is_displayed() and element.is_enabled()]
        return found[0] if found else False
    wait(browser, shown).click()


def type_into(browser, css, text):
    """Type into the field; the wizard re-renders its dialog between steps, so a stale field is found again."""
    def typed(b):
        field = clickable(b, css)
        field.clear()
        field.send_keys(text)
        return True
    wait(browser, typed)


_loads = iter(range(1, 10 ** 6))


def open_web(browser, url, fragment):
    """Load the web client afresh on ``#fragment`` (a new query string forces a full page load)."""
    browser.get('%s/web?load=%d#%s' % (url, next(_loads), fragment))
    visible(browser, '.o_main')


def log_in(browser, url):
    browser.get(url + '/web/login')
    type_into(browser, 'input[name=login]', 'admin')
    type_into(browser, 'input[name=password]', 'admin')
    browser.find_element(By.CSS_SELECTOR, 'form.oe_login_form button[type=submit]').click()
    visible(browser, '.o_main_navbar, .o_main')


def test_admin_adds_an_imap_account(browser, odoo_url, dovecot, artifacts):
    log_in(browser, odoo_url)
    open_web(browser, odoo_url, 'action=postcenter_email.action_postcenter_email_account')
    add = clickable(browser, '.o_list_button_add')
    assert add.text.strip() == 'Add account'
    add.click()

    dialog = '.modal-dialog '
    clickable(browser, dialog + 'button[name=action_next]').click()
    type_into(browser, dialog + 'input[name=name]', 'Soporte')
    type_into(browser, dialog + 'input[name=email]', IMAP_USER)
    type_into(browser, dialog + 'input[name=imap_host]', 'localhost')
    type_into(browser, dialog + 'input[name=imap_port]', str(dovecot.imaps_port))
    type_into(browser, dialog + 'input[name=imap_user]', IMAP_USER)
    type_into(browser, dialog + 'input[name=imap_password]', 'wrong-password')
    ssl_box = browser.find_element(By.CSS_SELECTOR, dialog + 'div[name=imap_ssl] input')
    assert ssl_box.is_selected()

    clickable(browser, dialog + 'button[name=action_connect]').click()
    error = visible(browser, dialog + '.o_postcenter_wizard_error')
    wait(browser, lambda _b: 'rejected the user name or password' in error.text)
    browser.save_screenshot(os.path.join(artifacts, 'add-account-wrong-password.png'))

    type_into(browser, dialog + 'input[name=imap_password]', IMAP_PASSWORD)
    clickable(browser, dialog + 'button[name=action_connect]').click()

    wait(browser, seen.invisibility_of_element_located((By.CSS_SELECTOR, '.modal-dialog')))
    row = wait(browser, seen.visibility_of_element_located(
        (By.XPATH, "//tr[contains(@class, 'o_data_row')][td[contains(., 'Soporte')]]")))
    wait(browser, lambda _b: 'Connected' in row.text)
    assert IMAP_USER in row.text and 'IMAP' in row.text
    wait(browser, lambda b: b.execute_script(
        "var busy = document.querySelector('.o_loading');"
        "return !document.querySelector('.blockUI') && !(busy && busy.offsetParent);"))
    browser.save_screenshot(os.path.join(artifacts, 'add-account-connected.png'))
