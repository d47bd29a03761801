"""Agents' replies leave as the account, threaded, through the platform's server or the account's own."""
import email
import email.policy
import os

from .common import IngestCase, make_email, read_spool, real_smtp_delivery
from .test_sending import relays


class TestReplies(IngestCase):

    def setUp(self):
        super().setUp()
        self.spool = os.environ['POSTCENTER_TEST_SMTP_SPOOL']
        self.env['ir.mail_server'].create({'name': 'platform', 'smtp_host': '127.0.0.1', 'sequence': 0,
                                           'smtp_port': int(os.environ['POSTCENTER_TEST_SMTP_PORT'])})
        self.env['ir.config_parameter'].set_param('postcenter_email.noreply_address', 'noreply@helpdesk.example.org')
        self.first = make_email(subject='Mi pedido', sender='Ana Pérez <ana@cliente.cl>')
        self.mailbox.append(self.first)
        self.fetch()
        self.ticket = self.tickets()

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

    def test_default_method_from_the_platform_with_reply_to_the_account(self):
        sent = self.reply()
        self.assertEqual(len(sent), 1)
        mail_from, rcpt, message = sent[0]
        self.assertEqual(rcpt, ['ana@cliente.cl'])
        self.assertEqual(message['From'].addresses[0].addr_spec, 'noreply@helpdesk.example.org')
        self.assertEqual(message['From'].addresses[0].display_name, 'Soporte')
        self.assertEqual(message['Reply-To'].addresses[0].addr_spec, self.account.email)
        self.assertIn(self.first['Message-ID'], message['References'])

    def test_customer_answer_threads_back_into_the_ticket(self):
        _from, _rcpt, sent = self.reply()[0]
        answer = make_email(subject='Re: Mi pedido', body='Gracias', sender='Ana Pérez <ana@cliente.cl>')
        answer['In-Reply-To'] = sent['Message-ID']
        answer['References'] = '%s %s' % (sent['References'], sent['Message-ID'])
        self.mailbox.append(answer)
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.emails(self.ticket)), 2)

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
