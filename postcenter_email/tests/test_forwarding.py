"""Forwarding accounts: Odoo's mail gateway, Gmail's confirmation, validation, switching method."""
import ast
import datetime

from odoo import fields
from odoo.exceptions import ValidationError

from .common import IngestCase, PostcenterCase, make_email

GMAIL_CONFIRMATION = '''From: Gmail Team <forwarding-noreply@google.com>
To: {forward}
Subject: (#482913607) Gmail Forwarding Confirmation - Receive Mail from ventas@acme.example
Message-ID: <gmail-confirm-482913607@google.com>
Content-Type: text/plain; charset="UTF-8"

ventas@acme.example has requested to automatically forward mail to your email
address {forward}.

Confirmation code: 482913607

To allow ventas@acme.example to automatically forward mail to your address,
please click the link below to confirm the request:

https://mail-settings.google.com/mail/vf-%5BANGjdJ9x%5D-Zm9yd2FyZA

If you click the link and it appears to be broken, please copy and paste it
into a new browser window.
'''


class TestForwarding(IngestCase):
    """On Odoo's test cursor: forwarded mail is stored in a transaction of its own (IngestCase)."""

    imap_values = PostcenterCase.imap_values

    def setUp(self):
        super().setUp()
        manager = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Marta Manager', 'login': 'pc_forwarding_manager', 'email': 'marta@example.com',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        self.Account = self.env['postcenter.email.account'].sudo(manager)
        self.account = self.Account.create({'name': 'Ventas', 'email': 'ventas@acme.example',
                                            'connection_type': 'forward'})
        self.gateway = self.env['mail.thread']

    def tickets(self):
        return self.env['helpdesk.ticket'].search([('email_account_id', '=', self.account.id)])

    def test_mail_gateway_routes_the_forwarding_address(self):
        message = make_email(to=self.account.forward_address, subject='Por el gateway de Odoo')
        ticket_id = self.gateway.message_process(False, message.as_bytes())
        self.assertEqual(self.tickets().ids, [ticket_id])
        self.assertEqual(self.tickets().name, 'Por el gateway de Odoo')
        self.gateway.message_process(False, message.as_bytes())
        self.assertEqual(len(self.tickets()), 1)

    def test_forwarded_copy_keeps_the_original_recipient_header(self):
        message = make_email(to='ventas@acme.example', subject='Reenviado por Gmail')
        message['X-Original-To'] = self.account.forward_address
        self.gateway.message_process(False, message.as_bytes())
        self.assertEqual(self.tickets().name, 'Reenviado por Gmail')
        self.assertEqual(self.tickets().partner_id.email, 'ana@cliente.cl')

    def test_gmail_confirmation_arrives_as_a_ticket_and_on_the_account(self):
        raw = GMAIL_CONFIRMATION.format(forward=self.account.forward_address).encode()
        self.gateway.message_process(False, raw)
        self.assertIn('Gmail Forwarding Confirmation', self.tickets().name)
        self.assertEqual(self.account.gmail_confirmation_code, '482913607')
        self.assertEqual(self.account.gmail_confirmation_url,
                         'https://mail-settings.google.com/mail/vf-%5BANGjdJ9x%5D-Zm9yd2FyZA')
        self.assertTrue(self.account.gmail_confirmation_date)

    def validation_mail(self):
        mail = self.env['mail.mail'].search([('email_to', '=', self.account.email)], order='id desc', limit=1)
        built = self.env['ir.mail_server'].build_email(
            mail.email_from, [mail.email_to], mail.subject, mail.body_html, subtype='html',
            message_id=mail.message_id, headers=ast.literal_eval(mail.headers))
        built.replace_header('To', self.account.forward_address) if built['To'] else None
        return built.as_string().encode()

    def test_validation_comes_back_and_connects(self):
        self.account.action_validate()
        self.assertEqual(self.account.state, 'validating')
        self.assertTrue(self.account.validation_deadline)
        raw = self.validation_mail()
        self.assertIn(b'X-Postcenter-Validation', raw)
        self.gateway.message_process(False, raw)
        self.assertEqual(self.account.state, 'connected')
        self.assertFalse(self.tickets(), 'the validation email never becomes a ticket')
        receipt = self.env['postcenter.email.receipt'].search([('account_id', '=', self.account.id)])
        self.assertEqual(receipt.status, 'validation')

    def test_validation_that_does_not_come_back_explains_why(self):
        self.account.action_validate()
        deadline = fields.Datetime.from_string(self.account.validation_deadline)
        before = fields.Datetime.to_string(deadline - datetime.timedelta(seconds=1))
        after = fields.Datetime.to_string(deadline + datetime.timedelta(seconds=1))
        Account = self.env['postcenter.email.account']
        self.assertFalse(Account._cron_validation_timeout(now=before))
        self.assertEqual(self.account.state, 'validating')
        self.assertEqual(Account._cron_validation_timeout(now=after), self.account)
        self.assertEqual(self.account.state, 'not_validated')
        self.assertIn('did not come back', self.account.last_error)

    def test_a_stale_token_connects_nothing(self):
        self.account.action_validate()
        raw = self.validation_mail()
        self.account.action_validate()
        self.gateway.message_process(False, raw)
        self.assertEqual(self.account.state, 'validating')
        self.assertFalse(self.tickets())

    def test_switch_to_imap_is_tested_before_saving(self):
        self.gateway.message_process(False, make_email(to=self.account.forward_address).as_bytes())
        imap_values = {'connection_type': 'imap', 'imap_host': self.imap['host'], 'imap_port': self.imap['port'],
                       'imap_ssl': False, 'imap_user': self.imap['user'], 'imap_password': 'wrong'}
        with self.assertRaises(ValidationError) as caught:
            self.account.write(imap_values)
        self.assertIn('rejected the user name or password', caught.exception.name)
        self.account.invalidate_cache()
        self.assertEqual(self.account.connection_type, 'forward')
        self.account.write(dict(imap_values, imap_password=self.imap['password']))
        self.assertEqual((self.account.connection_type, self.account.state), ('imap', 'connected'))
        self.assertEqual(len(self.tickets()), 1, 'tickets stay with the account')

    def test_switch_back_to_forwarding(self):
        account = self.Account.create(self.imap_values(email='imap-first@example.com'))
        self.assertFalse(account.forward_address)
        account.write({'connection_type': 'forward'})
        self.assertTrue(account.forward_address.startswith('imap-first-example-com-'))
        self.assertEqual(account.state, 'not_validated')
