"""Agents' replies leave as the account, threaded, through the platform's server or the account's own."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
import os
import re
import socket
from datetime import timedelta
from unittest import mock

from aiosmtpd.controller import Controller

from odoo import fields

from odoo.addons.base.ir.ir_mail_server import IrMailServer
from odoo.addons.postcenter_email.models.mail_mail import MAX_ATTEMPTS

from .common import IngestCase, closed_port, make_email, read_spool, real_smtp_delivery
from .test_sending import relays


class ReplyCase(IngestCase):
    """A ticket opened by a customer's email, a platform SMTP server (the test sink) to send replies through."""

    def setUp(self):
        super().setUp()
        self.use_platform_smtp()
        self.first = make_email(subject='Mi pedido', sender='Ana Pérez <ana@cliente.cl>')
        self.mailbox.append(self.first)
        self.fetch()
        self.ticket = self.tickets()

    def run_queue(self):
        """Odoo's mail queue, as its scheduled action runs it (really delivered)."""
        self.cr.commit()
        with real_smtp_delivery():
            self.env['mail.mail'].process_email_queue()
        self.refresh()

    def notes(self):
        return self.ticket.message_ids.filtered(lambda m: 'could not be sent' in (m.body or ''))

    def reply(self, text='Hola Ana, ya lo revisamos.'):
        before = len(read_spool(self.spool))
        self.post(text)
        return read_spool(self.spool)[before:]

    def post(self, text):
        """An agent's message to the customer, sent as Odoo sends it (right after the commit, else by the queue)."""
        with real_smtp_delivery():
            self.ticket.message_post(body=text, message_type='comment', subtype='mail.mt_comment')
            self.cr.commit()
            self.env['mail.mail'].process_email_queue()


class TestReplies(ReplyCase):

    def test_default_method_from_the_platform_with_reply_to_the_account(self):
        sent = self.reply()
        self.assertEqual(len(sent), 1)
        mail_from, rcpt, message = sent[0]
        self.assertEqual(rcpt, ['ana@cliente.cl'])
        self.assertEqual(message['From'].addresses[0].addr_spec, 'noreply@helpdesk.example.org')
        self.assertEqual(message['From'].addresses[0].display_name, 'Soporte')
        self.assertEqual(message['Reply-To'].addresses[0].addr_spec, self.account.email)
        self.assertIn(self.first['Message-ID'], message['References'])
        self.assertEqual(message['In-Reply-To'], self.first['Message-ID'])

    def test_customer_answer_threads_back_into_the_ticket(self):
        _from, _rcpt, sent = self.reply()[0]
        answer = make_email(subject='Re: Mi pedido', body='Gracias', sender='Ana Pérez <ana@cliente.cl>')
        answer['In-Reply-To'] = sent['Message-ID']
        answer['References'] = '%s %s' % (sent['References'], sent['Message-ID'])
        self.mailbox.append(answer)
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.emails(self.ticket)), 2)

    def test_no_header_injection_through_the_account_name(self):
        self.account.write({'name': 'Soporte\r\nBcc: espia@evil.example'})
        self.account.invalidate_cache()
        self.assertEqual(self.account.name, 'Soporte Bcc: espia@evil.example')
        mail_from, rcpt, message = self.reply()[0]
        self.assertEqual(rcpt, ['ana@cliente.cl'])
        self.assertIsNone(message['Bcc'])
        self.assertEqual(len(message['From'].addresses), 1)

    def test_own_smtp_sends_from_the_account_only(self):
        self.account.write({'send_method': 'smtp', 'smtp_host': 'localhost', 'smtp_port': relays()['starttls'],
                            'smtp_encryption': 'starttls', 'smtp_user': os.environ['POSTCENTER_TEST_SMTP_USER'],
                            'smtp_password': os.environ['POSTCENTER_TEST_SMTP_PASSWORD']})
        relay_folder = os.path.join(os.path.dirname(self.spool), 'relay-starttls')
        before = len(read_spool(relay_folder))
        platform_before = len(read_spool(self.spool))
        self.post('Respuesta por SMTP propio')
        through_relay = read_spool(relay_folder)[before:]
        self.assertEqual(len(through_relay), 1)
        self.assertEqual(len(read_spool(self.spool)), platform_before, 'nothing through the platform server')
        message = through_relay[0][2]
        self.assertEqual(message['From'].addresses[0].addr_spec, self.account.email)
        self.assertNotIn('noreply', str(message['From']))


class TestSignature(ReplyCase):

    def setUp(self):
        super().setUp()
        self.account.signature = '<p>{{agent_first_name}} {{agent_last_name}}<br>{{agent_job_title}}<br>' \
                                 'Teléfono: {{agent_phone}}<br>{{agent_email}}</p>'
        self.agent = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Marta Rojas Díaz', 'login': 'marta', 'email': 'marta@acme.cl',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_user').id])]})
        self.agent.partner_id.write({'function': 'Ejecutiva de soporte',
                                     'country_id': self.env.ref('base.es').id})

    def sent_body(self):
        before = len(read_spool(self.spool))
        with real_smtp_delivery():
            self.ticket.sudo(self.agent).message_post(body='Le ayudo', message_type='comment',
                                                      subtype='mail.mt_comment')
            self.cr.commit()
            self.env['mail.mail'].process_email_queue()
        message = read_spool(self.spool)[before:][0][2]
        return message.get_body(('html',)).get_content()

    def test_signature_with_the_agents_data(self):
        self.agent.partner_id.phone = '612345678'
        body = self.sent_body()
        self.assertIn('Marta Rojas Díaz', body)
        self.assertIn('Ejecutiva de soporte', body)
        self.assertIn('Teléfono: +34 612 34 56 78', body)
        self.assertIn('marta@acme.cl', body)
        self.assertNotIn('{{', body)

    def test_signature_without_phone_has_no_label(self):
        body = self.sent_body()
        self.assertIn('Marta Rojas Díaz', body)
        self.assertNotIn('Teléfono', body)
        self.assertNotIn('{{', body)

    def test_placeholder_buttons(self):
        self.account.signature = '<p>Saludos,</p>'
        self.account.with_context(placeholder='agent_first_name').action_insert_placeholder()
        self.assertEqual(self.account.signature, '<p>Saludos, {{agent_first_name}}</p>')


class TestEmailChain(ReplyCase):

    def converse(self, rounds):
        """``rounds`` more emails on the ticket, alternating agent replies and customer emails."""
        for number in range(rounds):
            if number % 2:
                self.ticket.message_post(body='<p>agente %d</p>' % number, message_type='comment',
                                         subtype='mail.mt_comment')
            else:
                self.mailbox.append(make_email(subject='%s [%s]' % ('Re: Mi pedido', self.ticket.number),
                                               body='cliente %d' % number))
                self.fetch()

    def last_body(self):
        before = len(read_spool(self.spool))
        self.post('<p>respuesta nueva</p>')
        return read_spool(self.spool)[before:][-1][2].get_body(('html',)).get_content()

    def test_chain_on_quotes_exactly_the_last_ten_newest_first(self):
        self.account.include_chain = True
        self.converse(12)
        body = self.last_body()
        self.assertIn('respuesta nueva', body)
        self.assertEqual(body.count('o_postcenter_chain_header'), 10)
        self.assertLess(body.index('agente 11'), body.index('cliente 10'))
        self.assertIsNone(re.search(r'cliente 0(?!\d)', body))
        self.assertIsNone(re.search(r'agente 1(?!\d)', body))
        self.assertIn('wrote:', body)

    def test_chain_off_sends_only_the_new_text(self):
        self.converse(3)
        body = self.last_body()
        self.assertIn('respuesta nueva', body)
        self.assertNotIn('o_postcenter_chain_header', body)
        self.assertNotIn('cliente 0', body)


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing after it runs, no handler catches it."""


class TestSendingExactlyOnce(ReplyCase):

    def ticket_mails(self):
        return self.env['mail.mail'].sudo().search([('model', '=', 'helpdesk.ticket'), ('res_id', '=', self.ticket.id)])

    def test_a_delivered_reply_leaves_no_note_and_no_attempt(self):
        sent = self.reply('Hola Ana, respuesta que llega.')
        self.assertEqual(len(sent), 1)
        self.assertEqual(self.notes(), self.env['mail.message'], 'no failure note for a delivered reply')
        self.assertFalse(self.ticket_mails().filtered(lambda mail: mail.state != 'sent' or mail.postcenter_attempts))
        self.assertEqual(self.ticket.failed_mail_count, 0)

    def test_a_crash_after_the_server_accepted_never_sends_twice(self):
        """The SMTP server answered 250, then the process died before the outcome was committed."""
        original = IrMailServer.send_email

        def accepted_then_died(server, message, *args, **kwargs):
            original(server, message, *args, **kwargs)
            raise ProcessDied()
        before = len(read_spool(self.spool))
        with mock.patch.object(IrMailServer, 'send_email', accepted_then_died), real_smtp_delivery():
            self.ticket.message_post(body='Respuesta única', message_type='comment', subtype='mail.mt_comment')
            with self.assertRaises(ProcessDied):
                self.cr.commit()  # sent right after the commit, or else by the queue
                self.env['mail.mail'].process_email_queue()
        self.cr.rollback()
        self.run_queue()  # the next run of Odoo's mail queue, in a process that lives
        self.run_queue()
        self.assertEqual(len(read_spool(self.spool)) - before, 1, 'the customer got the reply once')
        mail = self.ticket_mails()
        self.assertEqual(mail.state, 'exception')
        self.assertIn('interrupted', mail.failure_reason)
        self.assertEqual(self.ticket.failed_mail_count, 1, 'kept for a person to check, never lost')
        started = fields.Datetime.from_string(mail.postcenter_sending_since)
        Mail = self.env['mail.mail']
        self.assertFalse(Mail._cron_interrupted(now=fields.Datetime.to_string(started + timedelta(minutes=9))),
                         'maybe still talking to the server')
        self.assertEqual(Mail._cron_interrupted(now=fields.Datetime.to_string(started + timedelta(minutes=11))), mail)
        self.assertFalse(Mail._cron_interrupted(now=fields.Datetime.to_string(started + timedelta(minutes=20))))
        notes = self.ticket.message_ids.filtered(lambda m: 'was interrupted' in (m.body or ''))
        self.assertEqual(len(notes), 1, 'the ticket says so once')
        self.assertIn('may or may not have reached the customer', notes.body)
        self.run_queue()
        to_customer = [rcpt for _from, rcpt, _message in read_spool(self.spool)[before:] if 'ana@cliente.cl' in rcpt]
        self.assertEqual(len(to_customer), 1, 'still never sent again on its own')

    def test_other_mail_keeps_odoos_own_path(self):
        """Mail that is not of an Email-channel ticket is sent, or fails, exactly as Odoo does it."""
        Mail = self.env['mail.mail'].sudo()
        before = len(read_spool(self.spool))
        delivered = Mail.create({'email_to': 'someone@example.com', 'subject': 'Hola', 'body_html': '<p>x</p>',
                                 'auto_delete': False})
        self.run_queue()
        self.assertEqual((delivered.state, delivered.postcenter_attempts), ('sent', 0))
        self.assertEqual(len(read_spool(self.spool)), before + 1)
        server = self.env['ir.mail_server'].search([('name', '=', 'platform')])
        server.smtp_port = closed_port()
        failing = Mail.create({'email_to': 'someone@example.com', 'subject': 'Hola', 'body_html': '<p>x</p>'})
        self.run_queue()
        self.assertEqual((failing.state, failing.postcenter_attempts), ('exception', 0), "Odoo's own outcome")
        self.assertFalse(failing.scheduled_date)

    def test_the_emails_of_tickets_are_told_apart_in_one_look_up(self):
        """Which emails take the Email channel's path: those of a ticket of an account, whatever else is queued."""
        Mail = self.env['mail.mail'].sudo()
        other_ticket = self.env['helpdesk.ticket'].create({'name': 'Sin cuenta', 'description': 'x'})
        partner = self.env['res.partner'].create({'name': 'Otra', 'email': 'otra@x.example'})
        mails = Mail.browse()
        for model, res_id in (('helpdesk.ticket', self.ticket.id), ('helpdesk.ticket', other_ticket.id),
                              ('res.partner', partner.id), (False, False)):
            mails |= Mail.create({'email_to': 'someone@example.com', 'subject': 'Hola', 'body_html': '<p>x</p>',
                                  'model': model, 'res_id': res_id})
        self.assertEqual(mails._postcenter_of_tickets(), mails[0])
        self.assertEqual(mails._postcenter_of_tickets(), mails.filtered(lambda mail: mail._postcenter_ticket()))
        self.assertEqual(Mail.browse()._postcenter_of_tickets(), Mail.browse())


class TestSendingFailures(ReplyCase):

    def setUp(self):
        super().setUp()
        self.account.write({'send_method': 'smtp', 'smtp_host': 'localhost', 'smtp_port': relays()['starttls'],
                            'smtp_encryption': 'starttls', 'smtp_user': os.environ['POSTCENTER_TEST_SMTP_USER'],
                            'smtp_password': 'wrong-password'})
        self.relay_folder = os.path.join(os.path.dirname(self.spool), 'relay-starttls')

    def reply_mail(self):
        return self.env['mail.mail'].sudo().search([('model', '=', 'helpdesk.ticket'),
                                                    ('res_id', '=', self.ticket.id)], order='id desc', limit=1)

    def manager_alerts(self):
        return self.env['mail.mail'].sudo().search([('model', '=', False), ('email_to', '=', False),
                                                    ('recipient_ids', 'in', self.manager.partner_id.ids)])

    def test_wrong_password_is_retried_with_backoff_then_resent_by_hand(self):
        self.manager = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Marta Manager', 'login': 'pc_replies_manager', 'email': 'marta@empresa.example',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        self.post('Respuesta que no sale')
        mail = self.reply_mail()
        self.assertEqual((mail.state, mail.postcenter_attempts), ('outgoing', 1))
        self.assertGreater(mail.scheduled_date, fields.Datetime.now())
        self.assertIn('rejected the user name or password', mail.failure_reason)
        self.assertEqual(len(self.notes()), 1)
        self.assertIn('rejected the user name or password', self.notes().body)
        for attempt in range(2, MAX_ATTEMPTS + 1):
            mail.scheduled_date = False
            self.run_queue()
            self.assertEqual(mail.postcenter_attempts, attempt)
            self.assertEqual(len(self.manager_alerts()), 0 if attempt < MAX_ATTEMPTS else 1,
                             'the managers are told once it has failed for good')
        self.assertEqual(mail.state, 'exception', 'kept, never dropped')
        self.assertTrue(mail.postcenter_failure_told)
        self.assertEqual(self.ticket.failed_mail_count, 1)
        self.assertIn('Resend Failed Emails', self.notes()[0].body)
        self.account.write({'smtp_password': os.environ['POSTCENTER_TEST_SMTP_PASSWORD']})
        before = len(read_spool(self.relay_folder))
        self.ticket.action_resend_failed()
        self.run_queue()
        self.assertEqual(mail.exists() and mail.state or 'sent (deleted)', 'sent (deleted)')
        self.assertEqual(len(read_spool(self.relay_folder)), before + 1)

    def test_server_down_and_tls_mismatch_in_plain_words(self):
        self.account.write({'smtp_password': os.environ['POSTCENTER_TEST_SMTP_PASSWORD'], 'smtp_encryption': 'ssl'})
        self.env['ir.config_parameter'].set_param('postcenter_email.imap_timeout', '2')
        self.post('TLS equivocado')
        self.assertIn('secure connection', self.reply_mail().failure_reason)
        self.account.write({'smtp_encryption': 'starttls', 'smtp_port': closed_port()})
        self.post('Servidor caído')
        self.assertIn('refused the connection', self.reply_mail().failure_reason)

    def test_recipient_refused(self):
        class Refusing:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                return '550 5.1.1 <%s>: mailbox unavailable' % address
        relay = Controller(Refusing(), hostname='127.0.0.1', port=free_port())
        relay.start()
        self.addCleanup(relay.stop)
        self.account.write({'smtp_host': '127.0.0.1', 'smtp_port': relay.port, 'smtp_encryption': 'none',
                            'smtp_user': False, 'smtp_password': False})
        self.post('Destinatario rechazado')
        mail = self.reply_mail()
        self.assertEqual(mail.state, 'outgoing')
        self.assertIn('refused the recipient address', mail.failure_reason)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
