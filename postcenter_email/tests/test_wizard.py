from odoo.exceptions import UserError

from .common import PostcenterCase


class TestAddAccountWizard(PostcenterCase):
    """The "Add account" wizard: choose the type, fill in the details, connect or save."""

    def setUp(self):
        super().setUp()
        self.Wizard = self.env['postcenter.email.account.wizard'].sudo(self.manager)

    def imap_wizard(self, **overrides):
        values = {'step': 'details', 'connection_type': 'imap', 'name': 'Soporte', 'email': self.imap['user'],
                  'imap_host': self.imap['host'], 'imap_port': self.imap['port'], 'imap_ssl': False,
                  'imap_user': self.imap['user'], 'imap_password': self.imap['password']}
        values.update(overrides)
        return self.Wizard.create(values)

    def accounts(self):
        return self.env['postcenter.email.account'].search([])

    def test_steps(self):
        wizard = self.Wizard.create({})
        self.assertEqual((wizard.step, wizard.connection_type), ('type', 'imap'))
        action = wizard.action_next()
        self.assertEqual(wizard.step, 'details')
        self.assertEqual((action['res_model'], action['res_id'], action['target']),
                         (wizard._name, wizard.id, 'new'))
        wizard.action_back()
        self.assertEqual(wizard.step, 'type')

    def test_presets_fill_the_server(self):
        expected = {
            'gmail': ('imap.gmail.com', 993, True),
            'outlook': ('outlook.office365.com', 993, True),
            'yahoo': ('imap.mail.yahoo.com', 993, True),
            'icloud': ('imap.mail.me.com', 993, True),
        }
        for key, server in expected.items():
            wizard = self.Wizard.new({'imap_preset': key, 'imap_host': 'old', 'imap_port': 1, 'imap_ssl': False})
            wizard._onchange_imap_preset()
            self.assertEqual((wizard.imap_host, wizard.imap_port, wizard.imap_ssl), server)

    def test_typing_the_email_fills_user_and_guesses_the_provider(self):
        wizard = self.Wizard.new({'email': ' Ana@GMAIL.com'})
        self.assertIsNone(wizard._onchange_email())
        self.assertEqual(wizard.email, 'Ana@gmail.com')
        self.assertEqual(wizard.imap_user, 'Ana@gmail.com')
        self.assertEqual((wizard.imap_preset, wizard.imap_host), ('gmail', 'imap.gmail.com'))

    def test_typing_a_bad_email_warns_on_the_field(self):
        wizard = self.Wizard.new({'email': 'ana.gmail.com'})
        warning = wizard._onchange_email()['warning']
        self.assertEqual(warning['title'], 'Email')
        self.assertIn('needs an @', warning['message'])
        wizard = self.Wizard.new({'imap_port': 99999})
        self.assertIn('not a port number', wizard._onchange_imap_port()['warning']['message'])

    def test_connect_saves_a_connected_account(self):
        wizard = self.imap_wizard()
        action = wizard.action_connect()
        account = self.accounts()
        self.assertEqual(len(account), 1)
        self.assertEqual((account.name, account.email, account.state), ('Soporte', self.imap['user'], 'connected'))
        self.assertEqual(account.sudo().imap_password, self.imap['password'])
        self.assertEqual(action['type'], 'ir.actions.act_window_close')

    def test_connect_over_implicit_tls(self):
        self.imap_wizard(imap_host='localhost', imap_port=self.imap['ssl_port'], imap_ssl=True).action_connect()
        self.assertEqual(self.accounts().state, 'connected')

    def test_failed_connection_keeps_the_wizard_open_and_saves_nothing(self):
        wizard = self.imap_wizard(imap_password='wrong')
        action = wizard.action_connect()
        self.assertEqual((action['res_model'], action['res_id'], action['target']), (wizard._name, wizard.id, 'new'))
        self.assertIn('rejected the user name or password', wizard.error_message)
        self.assertFalse(self.accounts())
        wizard.imap_password = self.imap['password']
        wizard.action_connect()
        self.assertEqual(self.accounts().state, 'connected')

    def test_bad_input_names_the_field(self):
        cases = [
            ({'name': '  '}, 'Account Name'),
            ({'email': 'soporte'}, 'Email'),
            ({'imap_host': ''}, 'IMAP Server'),
            ({'imap_port': 0}, 'IMAP Port'),
            ({'imap_user': ''}, 'IMAP User'),
            ({'imap_password': ''}, 'IMAP Password'),
        ]
        for overrides, field in cases:
            with self.subTest(field=field), self.assertRaises(UserError) as caught:
                self.imap_wizard(**overrides).action_connect()
            self.assertTrue(caught.exception.name.startswith(field + ':'), caught.exception.name)
        self.assertFalse(self.accounts())

    def test_second_account_for_the_same_mailbox_is_refused(self):
        self.imap_wizard().action_connect()
        with self.assertRaises(UserError) as caught:
            self.imap_wizard(name='Otra').action_connect()
        self.assertIn('already connected', caught.exception.name)

    def test_forwarding_address_follows_the_email(self):
        wizard = self.Wizard.create({'step': 'details', 'connection_type': 'forward', 'name': 'Ventas',
                                     'email': 'Ventas@ACME.cl'})
        self.assertEqual(wizard.forward_address, 'ventas-acme-cl-%s@helpdesk.example.org' % wizard.forward_token)
        wizard.email = 'contacto@acme.cl'
        self.assertTrue(wizard.forward_address.startswith('contacto-acme-cl-'))
        wizard.email = 'not an address'
        self.assertFalse(wizard.forward_address)

    def test_forwarding_account_is_saved_not_validated(self):
        wizard = self.Wizard.create({'step': 'details', 'connection_type': 'forward', 'name': 'Ventas',
                                     'email': 'ventas@acme.cl'})
        shown = wizard.forward_address
        wizard.action_save_forwarding()
        account = self.accounts()
        self.assertEqual((account.connection_type, account.state), ('forward', 'not_validated'))
        self.assertEqual(account.forward_address, shown)
