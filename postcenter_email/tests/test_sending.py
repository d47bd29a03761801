"""An account's own SMTP server: settings, presets, its ir.mail_server, and the Test button against real relays."""
import os

from odoo.exceptions import AccessError, ValidationError

from .common import PostcenterCase


def relays():
    return {mode: int(port) for mode, port in
            (item.split(':') for item in os.environ['POSTCENTER_TEST_SMTP_RELAYS'].split(','))}


class TestSendingMethod(PostcenterCase):

    def setUp(self):
        super().setUp()
        self.account = self.Account.create(self.imap_values())
        self.user = os.environ['POSTCENTER_TEST_SMTP_USER']
        self.password = os.environ['POSTCENTER_TEST_SMTP_PASSWORD']

    def use_smtp(self, mode, password=None, host='localhost'):
        self.account.write({'send_method': 'smtp', 'smtp_host': host, 'smtp_port': relays()[mode],
                            'smtp_encryption': mode, 'smtp_user': self.user,
                            'smtp_password': password or self.password})

    def test_default_method_has_no_server(self):
        self.assertEqual(self.account.send_method, 'default')
        self.assertFalse(self.account.mail_server_id)

    def test_presets_say_what_actually_happens(self):
        for key, expected in (('gmail', ('smtp.gmail.com', 465, 'ssl')),
                              ('outlook', ('smtp.office365.com', 587, 'starttls'))):
            account = self.Account.new({'smtp_preset': key, 'email': 'a@b.cl'})
            account._onchange_smtp_preset()
            self.assertEqual((account.smtp_host, account.smtp_port, account.smtp_encryption), expected)
            self.assertEqual(account.smtp_user, 'a@b.cl')
        labels = dict(self.Account.fields_get(['smtp_encryption'])['smtp_encryption']['selection'])
        self.assertIn('465', labels['ssl'])
        self.assertIn('587', labels['starttls'])

    def test_smtp_needs_a_server_and_a_port(self):
        with self.assertRaises(ValidationError) as caught:
            self.account.write({'send_method': 'smtp', 'smtp_host': ''})
        self.assertTrue(caught.exception.name.startswith('SMTP Server'))
        with self.assertRaises(ValidationError):
            self.account.write({'send_method': 'smtp', 'smtp_host': 'smtp.acme.cl', 'smtp_port': 0})

    def test_one_archived_mail_server_follows_the_settings(self):
        self.use_smtp('starttls')
        server = self.account.sudo().mail_server_id
        self.assertFalse(server.active, 'never the default server of other mail')
        self.assertEqual((server.smtp_host, server.smtp_port, server.smtp_encryption, server.smtp_user,
                          server.smtp_pass), ('localhost', relays()['starttls'], 'starttls', self.user, self.password))
        self.assertNotIn(server, self.env['ir.mail_server'].search([]))
        self.account.write({'smtp_port': 2525})
        self.assertEqual(server.smtp_port, 2525)
        self.account.write({'send_method': 'default'})
        self.assertFalse(server.exists())

    def test_test_button_against_each_encryption(self):
        for mode in ('none', 'starttls', 'ssl'):
            self.use_smtp(mode)
            self.assertEqual(self.account.smtp_state, 'untested')
            self.account.action_test_smtp()
            self.assertEqual((mode, self.account.smtp_state, self.account.smtp_last_error), (mode, 'ok', False))

    def test_test_button_in_plain_words(self):
        self.use_smtp('ssl', password='wrong')
        self.account.action_test_smtp()
        self.assertEqual(self.account.smtp_state, 'error')
        self.assertIn('rejected the user name or password', self.account.smtp_last_error)
        self.use_smtp('starttls')
        self.account.write({'smtp_encryption': 'ssl'})
        self.env['ir.config_parameter'].sudo().set_param('postcenter_email.imap_timeout', '2')
        self.account.action_test_smtp()
        self.assertEqual(self.account.smtp_state, 'error')
        self.assertIn('465: SSL/TLS from the start; 587: STARTTLS', self.account.smtp_last_error)
        self.use_smtp('ssl', host='smtp.does-not-exist.invalid')
        self.account.action_test_smtp()
        self.assertIn('could not be found', self.account.smtp_last_error)

    def test_agents_never_see_the_smtp_password(self):
        self.use_smtp('ssl')
        with self.assertRaises(AccessError):
            self.account.sudo(self.agent).read(['smtp_password'])
