"""Mail is not always delivered in order: a reply stored before its original is one conversation with it."""
from .common import IngestCase, make_email, reply_to


class TestReplyBeforeItsOriginal(IngestCase):

    def setUp(self):
        super().setUp()
        self.original = make_email(subject='Factura duplicada', body='Me cobraron dos veces.',
                                   sender='Ana Pérez <ana@cliente.cl>')
        self.reply = reply_to(self.original, body='Ana me pidió escribirles también.',
                              sender='Luis Soto <luis@cliente.cl>')

    def assert_one_conversation(self, tickets):
        self.assertEqual(len(tickets), 1)
        self.assertEqual(len(self.emails(tickets)), 2)
        self.assertEqual(tickets.name, 'Factura duplicada', "the original's subject, as in order")
        self.assertIn('Me cobraron dos veces', tickets.description)
        self.assertEqual(tickets.partner_id.email, 'ana@cliente.cl', 'the customer is who wrote first')
        self.assertIn(tickets.partner_id, tickets.message_partner_ids, 'and follows the ticket')

    def test_in_one_fetch(self):
        self.mailbox.append(self.reply, self.original)
        self.fetch()
        self.assert_one_conversation(self.tickets())

    def test_in_two_fetches(self):
        self.mailbox.append(self.reply)
        self.fetch()
        self.assertEqual(self.tickets().name, 'Re: Factura duplicada')
        self.mailbox.append(self.original)
        self.fetch()
        self.assert_one_conversation(self.tickets())
        receipts = self.env['postcenter.email.receipt'].search([('account_id', '=', self.account.id)], order='id')
        self.assertEqual(receipts.mapped('status'), ['ticket', 'reply'])
        self.assertEqual(receipts[0].reference_keys, self.original['Message-ID'])

    def test_by_forwarding(self):
        account = self.env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@acme.example', 'connection_type': 'forward'})
        for message in (self.reply, self.original):
            message.replace_header('To', account.forward_address)
            account._store_forwarded([account.forward_address], message.as_bytes())
        self.assert_one_conversation(self.tickets(account))

    def test_an_unrelated_email_still_opens_its_own_ticket(self):
        self.mailbox.append(self.reply, make_email(subject='Otra cosa', sender='Ana Pérez <ana@cliente.cl>'))
        self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['Re: Factura duplicada', 'Otra cosa'])
