import os

from odoo.exceptions import UserError, ValidationError

from odoo.addons.postcenter_email.services import exceptions

from .common import PostcenterCase, SilentServer, closed_port


class TestAccountValues(PostcenterCase):
    """What an administrator types is checked and normalised."""

    def test_email_is_normalised(self):
        account = self.Account.create(self.imap_values(email='  Soporte@EXAMPLE.com ', name=' Soporte '))
        self.assertEqual(account.email, 'Soporte@example.com')
        self.assertEqual(account.name, 'Soporte')
        self.assertEqual(account.state, 'not_validated')

    def test_bad_emails_are_refused_with_the_field_named(self):
        for bad in ('no-at-sign', 'user@', '@example.com', 'two words@example.com', 'user@exa mple.com',
                    'user@example..com', 'user@@example.com'):
            with self.subTest(email=bad), self.assertRaises(ValidationError) as caught:
                self.Account.create(self.imap_values(email=bad))
            self.assertIn('Email', caught.exception.name)
            self.assertIn('is not a valid email address', caught.exception.name)

    def test_same_mailbox_cannot_be_connected_twice(self):
        self.Account.create(self.imap_values())
        with self.assertRaises(ValidationError) as caught:
            self.Account.create(self.imap_values(name='Otra', email=self.imap['user'].upper()))
        self.assertIn('already connected', caught.exception.name)

    def test_imap_settings_are_required_and_checked(self):
        cases = [
            ({'imap_host': ''}, 'IMAP Server'),
            ({'imap_port': 0}, 'IMAP Port'),
            ({'imap_port': 70000}, 'IMAP Port'),
            ({'imap_user': ' '}, 'IMAP User'),
        ]
        for number, (overrides, field) in enumerate(cases):
            with self.subTest(**overrides), self.assertRaises(ValidationError) as caught:
                self.Account.create(self.imap_values(email='case%d@example.com' % number, **overrides))
            self.assertTrue(caught.exception.name.startswith(field), caught.exception.name)

    def test_forwarding_account_gets_a_recognisable_unguessable_address(self):
        first = self.Account.create({'name': 'Ventas', 'email': 'Ventas@Acme.cl', 'connection_type': 'forward'})
        second = self.Account.create({'name': 'Ventas 2', 'email': 'ventas2@acme.cl', 'connection_type': 'forward'})
        local, _at, domain = first.forward_address.partition('@')
        self.assertEqual(domain, 'helpdesk.example.org')
        self.assertRegex(local, r'^ventas-acme-cl-[a-z0-9]{8}$')
        self.assertNotEqual(first.forward_address, second.forward_address)
        self.assertEqual(first.state, 'not_validated')

    def test_forwarding_domain_falls_back_to_the_web_address(self):
        params = self.env['ir.config_parameter'].sudo()
        params.set_param('mail.catchall.domain', '')
        params.set_param('web.base.url', 'https://Help.Example.net:8069')
        account = self.Account.create({'name': 'Ventas', 'email': 'ventas@acme.cl', 'connection_type': 'forward'})
        self.assertTrue(account.forward_address.endswith('@help.example.net'), account.forward_address)

    def test_changing_the_connection_asks_for_a_new_test(self):
        account = self.Account.create(self.imap_values())
        account.action_test_connection()
        self.assertEqual(account.state, 'connected')
        account.write({'imap_port': self.imap['ssl_port'], 'imap_ssl': True})
        self.assertEqual(account.state, 'not_validated')
        account.write({'name': 'Soporte Chile'})
        self.assertEqual(account.state, 'not_validated')


class TestConnection(PostcenterCase):
    """"Test Connection" against the real Dovecot: every outcome in plain words on the account."""

    def assert_error(self, account, *words):
        self.assertEqual(account.state, 'error')
        self.assertTrue(account.last_error_date)
        for word in words:
            self.assertIn(word, account.last_error)
        self.assertNotIn('Traceback', account.last_error)

    def test_right_password_plain(self):
        account = self.Account.create(self.imap_values())
        account.action_test_connection()
        self.assertEqual(account.state, 'connected')
        self.assertFalse(account.last_error)
        self.assertTrue(account.last_check_date)

    def test_right_password_implicit_tls(self):
        account = self.Account.create(self.imap_values(imap_host='localhost', imap_port=self.imap['ssl_port'],
                                                       imap_ssl=True))
        account.action_test_connection()
        self.assertEqual(account.state, 'connected', account.last_error)

    def test_wrong_password(self):
        account = self.Account.create(self.imap_values(imap_password='wrong'))
        account.action_test_connection()
        self.assert_error(account, 'rejected the user name or password')

    def test_unknown_user(self):
        account = self.Account.create(self.imap_values(imap_user='nobody@example.com'))
        account.action_test_connection()
        self.assert_error(account, 'rejected the user name or password')

    def test_closed_port(self):
        port = closed_port()
        account = self.Account.create(self.imap_values(imap_port=port))
        account.action_test_connection()
        self.assert_error(account, 'refused the connection', str(port))

    def test_ssl_against_a_plain_port_is_a_tls_error(self):
        account = self.Account.create(self.imap_values(imap_ssl=True))
        account.action_test_connection()
        self.assert_error(account, 'secure connection (SSL/TLS)')
        words, _sep, detail = account.last_error.partition(' (Technical detail: ')
        self.assertTrue(words.endswith('(993 with SSL, 143 without).') and detail.endswith(')'), account.last_error)

    def test_a_server_that_is_not_imap(self):
        smtp_port = int(os.environ['POSTCENTER_TEST_SMTP_PORT'])  # the test run's SMTP sink
        account = self.Account.create(self.imap_values(imap_port=smtp_port))
        account.action_test_connection()
        self.assert_error(account, 'The server 127.0.0.1 on port %d does not answer as an IMAP server does.'
                          % smtp_port,
                          'Check that this is the IMAP server and port of your mail provider. (Technical detail: ')

    def test_what_happened_to_the_mail_is_said_when_a_fetch_is_cut(self):
        describe = self.env['postcenter.email.account']._describe_server_error
        cut = exceptions.NetworkFailure('command: FETCH => socket error: EOF')
        cut.midway = True
        self.assertEqual(describe(cut, '127.0.0.1', 143), (
            'The connection to the IMAP server 127.0.0.1 was cut in the middle of the fetch. What was fetched before '
            'is kept; the next fetch goes on from there. If this keeps happening, check the network between the '
            'helpdesk and the server, or ask your mail provider whether it limits connections.'))
        self.assertIn('Se cortó la conexión con el servidor IMAP 127.0.0.1 en medio de la lectura',
                      self.env['postcenter.email.account'].with_context(lang='es_ES')._describe_server_error(
                          cut, '127.0.0.1', 143))
        self.assertIn('before the helpdesk could log in',
                      describe(exceptions.NetworkFailure('socket error: EOF'), 'imap.example.com', 993))
        stalled = exceptions.ConnectionTimeout('timed out')
        stalled.midway = True
        self.assertIn('stopped answering in the middle of the fetch', describe(stalled, '127.0.0.1', 143))

    def test_unknown_host(self):
        account = self.Account.create(self.imap_values(imap_host='imap.does-not-exist.invalid'))
        account.action_test_connection()
        self.assert_error(account, 'could not be found', 'imap.does-not-exist.invalid')

    def test_server_that_never_answers(self):
        self.env['ir.config_parameter'].sudo().set_param('postcenter_email.imap_timeout', '1')
        silent = SilentServer()
        self.addCleanup(silent.close)
        account = self.Account.create(self.imap_values(imap_port=silent.port))
        account.action_test_connection()
        self.assert_error(account, 'did not answer in time')

    def test_recovery_after_an_error(self):
        account = self.Account.create(self.imap_values(imap_password='wrong'))
        account.action_test_connection()
        self.assertEqual(account.state, 'error')
        account.write({'imap_password': self.imap['password']})
        account.action_test_connection()
        self.assertEqual(account.state, 'connected')
        self.assertFalse(account.last_error)

    def test_forwarding_accounts_have_nothing_to_test(self):
        account = self.Account.create({'name': 'Ventas', 'email': 'ventas@acme.cl', 'connection_type': 'forward'})
        with self.assertRaises(UserError):
            account.action_test_connection()
