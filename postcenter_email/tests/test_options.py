"""Per-account options applied to incoming mail (real Dovecot, real SMTP sink for notices)."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
import os

from odoo.exceptions import ValidationError

from .common import IngestCase, make_email, read_spool, real_smtp_delivery


class TestBlockedSenders(IngestCase):

    def test_blocked_address_and_domain_never_reach_the_helpdesk(self):
        self.account.blocked_senders = 'spam@promo.com, @bad-domain.org'
        self.mailbox.append(make_email(sender='SPAM@promo.com', subject='oferta'),
                            make_email(sender='Juan <juan@mail.bad-domain.org>', subject='dominio'),
                            make_email(sender='ok@promo.com', subject='permitido'))
        self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['permitido'])
        receipts = self.env['postcenter.email.receipt'].search([('account_id', '=', self.account.id)])
        self.assertEqual(sorted(receipts.mapped('status')), ['blocked', 'blocked', 'ticket'])

    def test_bad_entries_are_refused_with_the_field_named(self):
        with self.assertRaises(ValidationError) as caught:
            self.account.blocked_senders = 'ok@promo.com, not an address'
        self.assertIn('Blocked Senders', caught.exception.name)
        self.assertIn('not', caught.exception.name)


class TestContactForms(IngestCase):

    def test_customer_is_read_from_the_body(self):
        form = self.env['postcenter.email.recipient'].create({'name': 'Formularios@Web.cl'})
        self.account.contact_form_ids = form
        self.mailbox.append(make_email(
            sender='Formulario web <formularios@web.cl>', subject='Contacto desde la web',
            body='Nombre: Pedro Soto\nEmail: Pedro.Soto@Gmail.com\nMensaje: quiero una cotización'))
        self.fetch()
        ticket = self.tickets()
        self.assertEqual(ticket.partner_id.email, 'Pedro.Soto@gmail.com')
        self.assertEqual(ticket.partner_email, 'Pedro.Soto@gmail.com')
        self.assertEqual(self.emails(ticket).author_id, ticket.partner_id)

    def test_form_addresses_are_validated(self):
        with self.assertRaises(ValidationError):
            self.env['postcenter.email.recipient'].create({'name': 'formularios'})


class TestKeywords(IngestCase):

    def setUp(self):
        super().setUp()
        Keyword = self.env['postcenter.email.keyword']
        self.account.important_keyword_ids = Keyword.create({'name': 'Reclamación'}) | \
            Keyword.create({'name': 'muy  urgente'})

    def test_keywords_ignore_case_and_accents(self):
        self.mailbox.append(make_email(subject='RECLAMACION formal'),
                            make_email(subject='consulta', body='Esto es MUY URGENTE por favor'),
                            make_email(subject='reclamaciones varias', body='urgente'))
        self.fetch()
        important = self.tickets().filtered('is_important')
        self.assertEqual(important.mapped('name'), ['RECLAMACION formal', 'consulta'])
        self.assertEqual(important.mapped('important_keywords'), ['reclamacion', 'muy urgente'])


class TestNotifications(IngestCase):

    def setUp(self):
        super().setUp()
        self.spool = os.environ['POSTCENTER_TEST_SMTP_SPOOL']
        self.before = len(os.listdir(self.spool)) if os.path.isdir(self.spool) else 0
        self.env['ir.mail_server'].create({'name': 'sink', 'smtp_host': '127.0.0.1', 'sequence': 0,
                                           'smtp_port': int(os.environ['POSTCENTER_TEST_SMTP_PORT'])})
        Recipient = self.env['postcenter.email.recipient']
        self.account.notify_recipient_ids = Recipient.create({'name': 'jefa@acme.cl'}) | \
            Recipient.create({'name': 'turno@acme.cl'})
        self.account.important_keyword_ids = self.env['postcenter.email.keyword'].create({'name': 'urgente'})

    def delivered(self):
        self.cr.commit()
        with real_smtp_delivery():
            self.env['mail.mail'].process_email_queue()
        return read_spool(self.spool)[self.before // 2:]

    def test_every_new_ticket(self):
        self.account.notify_mode = 'all'
        self.mailbox.append(make_email(subject='hola'), make_email(subject='urgente: caído'))
        self.fetch()
        sent = self.delivered()
        self.assertEqual(len(sent), 2)
        mail_from, rcpt, message = sent[0]
        self.assertEqual(sorted(rcpt), ['jefa@acme.cl', 'turno@acme.cl'])
        self.assertIn(self.tickets()[0].number, message['Subject'])
        self.assertEqual(message['Auto-Submitted'], 'auto-generated')
        self.assertIn('[!]', sent[1][2]['Subject'])

    def test_important_only(self):
        self.account.notify_mode = 'important'
        self.mailbox.append(make_email(subject='hola'), make_email(subject='urgente: caído'))
        self.fetch()
        sent = self.delivered()
        self.assertEqual(len(sent), 1)
        self.assertIn('urgente', sent[0][2]['Subject'])

    def test_no_notice_for_replies_or_when_off(self):
        first = make_email()
        self.mailbox.append(first)
        self.fetch()
        self.assertEqual(self.delivered(), [])

    def test_notice_coming_back_into_the_mailbox_opens_no_ticket(self):
        self.account.notify_mode = 'all'
        self.mailbox.append(make_email(subject='hola'))
        self.fetch()
        sent = self.delivered()
        self.mailbox.append(sent[0][2].as_bytes())
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)


class TestIgnored(IngestCase):

    def test_tickets_created_as_ignored_are_out_of_the_default_view(self):
        self.account.create_ignored = True
        self.mailbox.append(make_email())
        self.fetch()
        ticket = self.tickets()
        self.assertTrue(ticket.is_ignored)
        action = self.env.ref('helpdesk_mgmt.helpdesk_ticket_action')
        self.assertIn("'search_default_not_ignored': 1", action.context)
        default_filter = [('is_ignored', '=', False)]
        self.assertNotIn(ticket, self.env['helpdesk.ticket'].search(default_filter))


class TestMachines(IngestCase):

    def bounce_for(self, message_id):
        return (
            'From: Mail Delivery System <MAILER-DAEMON@mx.cliente.cl>\n'
            'To: support@example.com\nSubject: Undelivered Mail Returned to Sender\n'
            'Message-ID: <bounce-%s@mx.cliente.cl>\nMIME-Version: 1.0\n'
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
            '--b1\nContent-Type: text/plain\n\n<nadie@cliente.cl>: mailbox unavailable\n'
            '--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.cliente.cl\n\n'
            'Final-Recipient: rfc822; nadie@cliente.cl\nAction: failed\nStatus: 5.1.1\n'
            '--b1\nContent-Type: message/rfc822\n\n'
            'Message-ID: %s\nFrom: support@example.com\nSubject: Re: hola\n\nrespuesta\n'
            '--b1--\n' % (abs(hash(message_id)), message_id)).encode()

    def test_bounce_of_an_agent_reply_is_a_note_on_its_ticket(self):
        self.mailbox.append(make_email())
        self.fetch()
        ticket = self.tickets()
        reply = ticket.message_post(body='Respuesta', message_type='comment', subtype='mail.mt_comment')
        self.mailbox.append(self.bounce_for(reply.message_id))
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        note = ticket.message_ids.filtered(lambda m: 'could not be delivered' in (m.body or ''))
        self.assertEqual(len(note), 1)
        self.assertEqual(note.subtype_id, self.env.ref('mail.mt_note'))
        self.assertIn('mailbox unavailable', note.body)

    def test_bounce_of_an_unknown_message_opens_nothing(self):
        self.mailbox.append(self.bounce_for('<unknown@elsewhere>'))
        self.fetch()
        self.assertFalse(self.tickets())
        receipt = self.env['postcenter.email.receipt'].search([('account_id', '=', self.account.id)])
        self.assertEqual(receipt.status, 'bounce_unmatched')

    def test_our_own_outgoing_mail_coming_back_opens_nothing(self):
        self.mailbox.append(make_email())
        self.fetch()
        ticket = self.tickets()
        reply = ticket.message_post(body='Respuesta', message_type='comment', subtype='mail.mt_comment')
        echo = make_email(sender='Soporte <support@example.com>', to='ana@cliente.cl', subject='Re: hola',
                          message_id=reply.message_id)
        self.mailbox.append(echo)
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.emails(ticket)), 1)
