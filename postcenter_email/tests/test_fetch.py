"""IMAP accounts turn incoming mail into tickets: against the real Dovecot of the test run."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
import base64
from unittest import mock

from .common import DovecotControl, IngestCase, Mailbox, make_email, recording_statements, reply_to, second_imap_user


def opening_fails(env, subject, error):
    """Opening a ticket for the email with ``subject`` raises ``error`` (a rare failure, forced); others open."""
    Ticket = type(env['helpdesk.ticket'])
    real_open = Ticket._postcenter_open

    def open_or_fail(self, account, parsed, partner):
        if parsed.get('subject') == subject:
            raise error
        return real_open(self, account, parsed, partner)
    return mock.patch.object(Ticket, '_postcenter_open', open_or_fail)


class TestNewMail(IngestCase):

    def test_new_email_opens_a_ticket(self):
        photo = b'\x89PNG\r\n\x1a\n' + b'\x00' * 200
        self.mailbox.append(make_email(
            subject='Pedido 1234 no llegó', body='Hola, mi pedido no llegó.',
            html='<p>Hola, <b>mi pedido</b> no llegó.</p><script>alert(1)</script>',
            attachments=[('foto.png', photo, 'image/png')]))
        self.assertEqual(self.fetch(), 'done')
        ticket = self.tickets()
        self.assertEqual(len(ticket), 1)
        self.assertEqual(ticket.name, 'Pedido 1234 no llegó')
        self.assertEqual(ticket.channel_id, self.env.ref('helpdesk_mgmt.helpdesk_ticket_channel_email'))
        self.assertEqual(ticket.team_id, self.team)
        self.assertEqual((ticket.partner_id.name, ticket.partner_id.email), ('Ana Pérez', 'ana@cliente.cl'))
        self.assertEqual(ticket.partner_email, 'ana@cliente.cl')
        self.assertIn('<b>mi pedido</b>', ticket.description)
        self.assertNotIn('<script', ticket.description)
        email = self.emails(ticket)
        self.assertEqual(len(email), 1)
        self.assertEqual(email.author_id, ticket.partner_id)
        self.assertIn('mi pedido', email.body)
        self.assertEqual(email.attachment_ids.mapped('datas_fname'), ['foto.png'])
        self.assertEqual(base64.b64decode(email.attachment_ids.datas), photo)
        self.assertIn(ticket.partner_id, ticket.message_partner_ids)
        self.assertEqual((self.account.state, self.account.last_error), ('connected', False))
        self.assertTrue(self.account.last_fetch_date)

    def test_known_customer_is_reused(self):
        partner = self.env['res.partner'].create({'name': 'Ana', 'email': 'ANA@cliente.cl'})
        self.mailbox.append(make_email())
        self.fetch()
        self.assertEqual(self.tickets().partner_id, partner)

    def test_a_new_customer_writing_twice_in_one_batch_is_one_customer(self):
        """The batch's senders are looked up at once; a customer created for one email is found by the next."""
        agent = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Andrea Agente', 'login': 'pc_fetch_agent', 'email': 'andrea@empresa.example'})
        self.mailbox.append(make_email(subject='uno', sender='Rosa Díaz <rosa@nueva.cl>'),
                            make_email(subject='dos', sender='ROSA@nueva.cl'),
                            make_email(subject='de la agente', sender='andrea@empresa.example'))
        self.fetch()
        tickets = self.tickets()
        self.assertEqual(tickets.mapped('name'), ['uno', 'dos', 'de la agente'])
        rosa = self.env['res.partner'].search([('email', '=ilike', 'rosa@nueva.cl')])
        self.assertEqual(len(rosa), 1)
        self.assertEqual(tickets[:2].mapped('partner_id'), rosa)
        self.assertEqual(tickets[2].partner_id, agent.partner_id)

    def test_the_next_email_of_a_customer_whose_first_email_failed_has_its_customer(self):
        self.mailbox.append(make_email(subject='rompe', sender='Rosa Díaz <rosa@nueva.cl>'),
                            make_email(subject='tres', sender='rosa@nueva.cl'))
        with opening_fails(self.env, 'rompe', ValueError('something unexpected')):
            self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['tres'])
        self.assertEqual(self.tickets().partner_id.email, 'rosa@nueva.cl')
        self.assertEqual(self.env['res.partner'].search_count([('email', '=ilike', 'rosa@nueva.cl')]), 1)
        self.assertEqual(len(self.account.failed_ids), 1)

    def test_a_batchs_new_customers_are_created_together_and_only_for_tickets(self):
        """The customers of a batch are created at once, with the same stored fields as one created alone; a
        blocked sender, a bounce and an email received before create nobody."""
        self.account.blocked_senders = 'spam@promo.com'
        alone = self.env['res.partner']._postcenter_new_customer('Solo Uno', 'solo@uno.cl')
        earlier = make_email(subject='antes', sender='Vieja <vieja@antes.cl>')
        self.mailbox.append(earlier)
        self.fetch()
        self.env['res.partner'].search([('email', '=', 'vieja@antes.cl')]).unlink()
        self.mailbox.append(make_email(subject='uno', sender='Rosa Díaz <rosa@nueva.cl>'),
                            make_email(subject='dos', sender='Luis Soto <luis@nuevo.cl>'),
                            make_email(subject='tres', sender='ROSA@nueva.cl'),
                            make_email(subject='oferta', sender='spam@promo.com'),
                            make_email(subject='Undelivered Mail', sender='MAILER-DAEMON@mx.cliente.cl'),
                            earlier)
        self.fetch()
        Partner = self.env['res.partner']
        for address in ('spam@promo.com', 'mailer-daemon@mx.cliente.cl', 'vieja@antes.cl'):
            self.assertEqual(Partner.search_count([('email', '=ilike', address)]), 0, address)
        created = Partner.search([('email', 'in', ['rosa@nueva.cl', 'luis@nuevo.cl'])], order='id')
        self.assertEqual(created.mapped('name'), ['Rosa Díaz', 'Luis Soto'])
        stored = ['display_name', 'commercial_partner_id', 'commercial_company_name', 'partner_share', 'active',
                  'customer', 'lang', 'company_id', 'type']
        reference = alone.read(stored)[0]
        for partner in created:
            values = partner.read(stored)[0]
            self.assertEqual(values['display_name'], partner.name)
            self.assertEqual(values['commercial_partner_id'][0], partner.id)
            self.assertEqual({name: values[name] for name in stored[2:]},
                             {name: reference[name] for name in stored[2:]})
        self.assertEqual(self.tickets().filtered(lambda t: t.name in ('uno', 'tres')).mapped('partner_id'),
                         created[0])

    def test_a_batchs_tickets_get_the_stage_and_numbers_that_create_gives(self):
        """The default stage and the ticket sequence are looked up once for the batch; the tickets get the stage and
        the consecutive numbers ``create`` gives, and a ticket created by hand afterwards the next one."""
        Ticket = self.env['helpdesk.ticket']
        sequence = self.env['ir.sequence'].search([('code', '=', 'helpdesk.ticket.sequence')], limit=1)
        first = sequence.number_next_actual
        self.mailbox.append(*[make_email(subject='pedido %d' % n, sender='cliente%d@nuevo.cl' % n)
                              for n in range(3)])
        Sequence = type(self.env['ir.sequence'])
        looked_up, real_search = [], Sequence.search

        def search(records, domain, *args, **kwargs):
            if ('code', '=', 'helpdesk.ticket.sequence') in domain:
                looked_up.append(domain)
            return real_search(records, domain, *args, **kwargs)
        with mock.patch.object(Sequence, 'search', search):
            self.fetch()
        tickets = self.tickets().sorted('id')
        self.assertEqual(len(looked_up), 1, 'the sequence is looked up once for the batch')
        self.assertEqual(tickets.mapped('stage_id').ids, [Ticket.default_get(['stage_id'])['stage_id']])
        expected = [sequence.get_next_char(number) for number in range(first, first + 3)]
        self.assertEqual(tickets.mapped('number'), expected)
        by_hand = Ticket.create({'name': 'a mano', 'description': 'x'})
        self.assertEqual(by_hand.number, sequence.get_next_char(first + 3))
        self.assertEqual(by_hand.stage_id, tickets[0].stage_id)

    def test_a_batch_looks_up_the_number_prefix_and_the_replies_switched_on_once(self):
        """One fetched batch (one transaction) reads the ticket sequence's prefix and the account's automatic
        replies switched on once; each email is still threaded by the number its subject quotes and answered."""
        self.mailbox.append(make_email(subject='primero', sender='uno@nuevo.cl'))
        self.fetch()
        ticket = self.tickets()
        self.account.autoreply_ids.filtered(lambda r: r.kind == 'ticket_created').write(
            {'text_1': 'Recibido.', 'active': True})
        self.mailbox.append(make_email(subject='Sobre %s' % ticket.number, sender='uno@nuevo.cl'),
                            *[make_email(subject='nuevo %d' % n, sender='otro%d@nuevo.cl' % n) for n in range(2)])
        with recording_statements() as statements:
            self.fetch()
        self.assertEqual(len([q for q in statements if 'SELECT prefix FROM ir_sequence' in q]), 1)
        self.assertEqual(len([q for q in statements if 'FROM postcenter_email_autoreply WHERE account_id' in q]), 1)
        self.assertEqual(len(self.tickets()), 3)
        self.assertEqual(len(self.emails(ticket)), 2, 'threaded by its number')
        answered = self.env['postcenter.email.autoreply.log'].search([('kind', '=', 'ticket_created')])
        self.assertEqual(sorted(answered.mapped('ticket_id.name')), ['nuevo 0', 'nuevo 1'], 'each new ticket answered')

    def test_the_sender_follows_the_ticket_with_the_subtypes_odoo_gives(self):
        """A customer follows their ticket with the external subtypes, an agent writing one with the default ones:
        what ``mail.followers._add_follower_command`` gives each."""
        agent = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Andrea Agente', 'login': 'pc_follow_agent', 'email': 'andrea@empresa.example'})
        self.mailbox.append(make_email(subject='de la clienta', sender='Rosa Díaz <rosa@nueva.cl>'),
                            make_email(subject='de la agente', sender='andrea@empresa.example'))
        self.fetch()
        Followers = self.env['mail.followers']
        for ticket in self.tickets():
            follower = Followers.search([('res_model', '=', 'helpdesk.ticket'), ('res_id', '=', ticket.id)])
            self.assertEqual(len(follower), 1, ticket.name)
            odoo_line = Followers._add_follower_command('helpdesk.ticket', [], {ticket.partner_id.id: None}, {})[0]
            self.assertEqual(follower.subtype_ids.ids, odoo_line[0][2]['subtype_ids'][0][2], ticket.name)
        self.assertEqual(self.tickets().filtered(lambda t: t.name == 'de la agente').partner_id, agent.partner_id)
        default, _internal, external = self.env['mail.message.subtype'].default_subtypes('helpdesk.ticket')
        self.assertNotEqual(default, external, 'the two kinds of senders are told apart')

    def test_email_without_subject(self):
        message = make_email()
        del message['Subject']
        self.mailbox.append(message)
        self.fetch()
        self.assertEqual(self.tickets().name, '(No subject)')

    def test_cron_fetches_every_imap_account(self):
        self.mailbox.append(make_email())
        self.cr.commit()
        self.env['postcenter.email.account']._cron_fetch()
        self.refresh()
        self.assertEqual(len(self.tickets()), 1)


class TestConversations(IngestCase):

    def test_reply_goes_to_its_ticket(self):
        first = make_email()
        self.mailbox.append(first)
        self.fetch()
        self.mailbox.append(reply_to(first))
        self.fetch()
        ticket = self.tickets()
        self.assertEqual(len(ticket), 1)
        self.assertEqual(len(self.emails(ticket)), 2)

    def test_answer_to_an_agent_reply_goes_to_its_ticket(self):
        first = make_email()
        self.mailbox.append(first)
        self.fetch()
        ticket = self.tickets()
        agent_reply = ticket.message_post(body='¿Cuál es su número de pedido?', message_type='comment',
                                          subtype='mail.mt_comment')
        answer = make_email(subject='Re: Necesito ayuda', body='Es el 1234')
        answer['In-Reply-To'] = agent_reply.message_id
        self.mailbox.append(answer)
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.emails(ticket)), 2)

    def test_ticket_number_in_subject_threads(self):
        self.mailbox.append(make_email())
        self.fetch()
        ticket = self.tickets()
        self.mailbox.append(make_email(subject='Consulta sobre %s' % ticket.number.lower()))
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.emails(ticket)), 2)

    def test_reply_reopens_a_closed_ticket(self):
        first = make_email()
        self.mailbox.append(first)
        self.fetch()
        ticket = self.tickets()
        ticket.stage_id = self.env.ref('helpdesk_mgmt.helpdesk_ticket_stage_done')
        self.mailbox.append(reply_to(first))
        self.fetch()
        self.assertFalse(ticket.stage_id.closed)

    def test_reply_to_another_accounts_ticket_opens_a_new_one(self):
        other = self.env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@acme.cl', 'connection_type': 'forward'})
        first = make_email()
        foreign = self.env['helpdesk.ticket'].create({'name': 'x', 'email_account_id': other.id})
        foreign.message_post(body='x', message_type='email', message_id=first['Message-ID'])
        self.mailbox.append(reply_to(first))
        self.fetch()
        self.assertEqual(len(self.tickets()), 1)
        self.assertNotEqual(self.tickets(), foreign)


class TestNoDuplicates(IngestCase):

    def test_same_message_twice_in_the_mailbox(self):
        message = make_email()
        self.mailbox.append(message, message)
        self.fetch()
        ticket = self.tickets()
        self.assertEqual(len(ticket), 1)
        self.assertEqual(len(self.emails(ticket)), 1)

    def test_refetching_everything_adds_nothing(self):
        self.mailbox.append(make_email(), make_email(), make_email())
        self.fetch()
        self.account.folder_ids.write({'uidvalidity': False, 'last_uid': '0'})
        self.fetch()
        self.assertEqual(len(self.tickets()), 3)
        self.assertEqual(len(self.env['mail.message'].search([('model', '=', 'helpdesk.ticket'),
                                                              ('res_id', 'in', self.tickets().ids),
                                                              ('message_type', '=', 'email')])), 3)

    def test_copy_to_two_mailboxes_is_one_ticket_per_account(self):
        user, password = second_imap_user()
        other_box = Mailbox(user, password)
        other_box.clear()
        other = self.account.copy({'name': 'Ventas', 'email': user, 'imap_user': user, 'imap_password': password})
        message = make_email(to='support@example.com, %s' % user)
        self.mailbox.append(message)
        other_box.append(message)
        self.fetch()
        self.fetch(other)
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual(len(self.tickets(other)), 1)
        self.assertNotEqual(self.tickets(), self.tickets(other))

    def test_only_new_mail_is_read_again(self):
        self.mailbox.append(make_email())
        self.fetch()
        folder = self.account.folder_ids
        last = int(folder.last_uid)
        uids = self.mailbox.append(make_email(), make_email())
        self.fetch()
        self.assertEqual(int(folder.last_uid), max(uids))
        self.assertGreater(max(uids), last)
        self.assertEqual(len(self.tickets()), 3)

    def test_read_mail_from_before_the_first_fetch_is_left_alone(self):
        self.mailbox.append(make_email(subject='old, read'), seen=True)
        self.mailbox.append(make_email(subject='old, unread'))
        self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['old, unread'])
        self.mailbox.append(make_email(subject='new'), seen=True)
        self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['old, unread', 'new'])


class TestMailboxCare(IngestCase):

    def test_mailbox_is_left_as_it_is_by_default(self):
        uids = self.mailbox.append(make_email())
        self.fetch()
        self.assertNotIn(b'\\Seen', self.mailbox.flags()[uids[0]])

    def test_mark_as_read_after_the_ticket_is_stored(self):
        self.account.imap_after_fetch = 'seen'
        uids = self.mailbox.append(make_email(), make_email())
        self.fetch()
        flags = self.mailbox.flags()
        self.assertTrue(all(b'\\Seen' in flags[uid] for uid in uids))
        self.assertEqual(len(self.tickets()), 2)

    def test_nothing_is_marked_read_when_storing_fails(self):
        self.account.imap_after_fetch = 'seen'
        self.fetch()
        uids = self.mailbox.append(make_email(), make_email())
        self.account.invalidate_cache()
        with mock.patch.object(type(self.env['postcenter.email.folder']), 'write',
                               side_effect=RuntimeError('database went away')):
            with self.assertRaises(RuntimeError):
                self.fetch()
        flags = self.mailbox.flags()
        self.assertFalse(any(b'\\Seen' in flags[uid] for uid in uids))
        self.assertFalse(self.tickets())


class TestResilience(IngestCase):

    def test_server_restart_mid_fetch_loses_and_doubles_nothing(self):
        self.env['ir.config_parameter'].set_param('postcenter_email.fetch_batch_size', '2')
        uids = self.mailbox.append(*[make_email(subject='mensaje %d' % n) for n in range(5)])
        dovecot = DovecotControl()
        from ..services import imap
        real_fetch = imap.Mailbox.fetch
        calls = []

        def fetch_then_crash(mailbox, uids):
            calls.append(uids)
            if len(calls) == 2:
                dovecot.stop()
            return real_fetch(mailbox, uids)

        try:
            with mock.patch.object(imap.Mailbox, 'fetch', fetch_then_crash):
                self.assertEqual(self.fetch(), 'error')
        finally:
            dovecot.start()
        self.assertEqual(self.account.state, 'error')
        self.assertTrue(self.account.last_error.startswith(
            'The connection to the IMAP server 127.0.0.1 was cut in the middle of the fetch. What was fetched before '
            'is kept; the next fetch goes on from there.'), self.account.last_error)
        self.assertNotIn('FETCH', self.account.last_error)
        self.assertEqual(len(self.tickets()), 2)
        folder = self.account.folder_ids
        self.assertEqual((folder.uidvalidity, folder.resume_done_uid), (False, str(uids[1])))
        # The first fetch had chosen the unread messages: one read meanwhile is still taken when it resumes,
        # and only what was not stored yet is downloaded again.
        with self.mailbox.session() as client:
            client.add_flags([uids[4]], [b'\\Seen'])
        calls.clear()
        with mock.patch.object(imap.Mailbox, 'fetch', lambda mailbox, batch: calls.append(batch) or
                               real_fetch(mailbox, batch)):
            self.assertEqual(self.fetch(), 'done')
        self.assertEqual(calls, [uids[2:4], uids[4:]])
        self.assertEqual(self.account.state, 'connected')
        self.assertEqual(sorted(self.tickets().mapped('name')), ['mensaje %d' % n for n in range(5)])
        self.assertEqual((folder.uidvalidity, folder.last_uid, folder.resume_uids),
                         (str(self.mailbox.uidvalidity()), str(uids[4]), False))

    def test_uidvalidity_change_imports_new_mail_but_not_old(self):
        self.mailbox.append(make_email(subject='antes'))
        self.fetch()
        DovecotControl().set_uidvalidity(self.imap['user'], self.mailbox.uidvalidity() + 1000)
        self.mailbox.append(make_email(subject='después'))
        self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['antes', 'después'])
        self.assertEqual(self.account.folder_ids.uidvalidity, str(self.mailbox.uidvalidity()))
        self.mailbox.append(make_email(subject='más tarde'))
        self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['antes', 'después', 'más tarde'])

    def test_wrong_password_does_not_stop_other_accounts(self):
        user, password = second_imap_user()
        other_box = Mailbox(user, password)
        other_box.clear()
        other_box.append(make_email())
        self.account.imap_password = 'wrong'
        other = self.account.copy({'name': 'Ventas', 'email': user, 'imap_user': user, 'imap_password': password})
        self.cr.commit()
        self.env['postcenter.email.account']._cron_fetch()
        self.refresh()
        self.assertEqual(self.account.state, 'error')
        self.assertIn('rejected the user name or password', self.account.last_error)
        self.assertTrue(self.account.last_error_date)
        self.assertEqual(other.state, 'connected')
        self.assertEqual(len(self.tickets(other)), 1)
        self.account.imap_password = self.imap['password']
        self.fetch()
        self.assertEqual((self.account.state, self.account.last_error), ('connected', False))

    def test_server_down_then_back(self):
        dovecot = DovecotControl()
        self.mailbox.append(make_email())
        dovecot.stop()
        try:
            self.assertEqual(self.fetch(), 'error')
            self.assertIn('refused the connection', self.account.last_error)
        finally:
            dovecot.start()
        self.assertEqual(self.fetch(), 'done')
        self.assertEqual(len(self.tickets()), 1)

    def test_a_message_that_fails_is_kept_and_the_others_go_on(self):
        self.mailbox.append(make_email(subject='uno'), make_email(subject='rompe'), make_email(subject='tres'))
        with opening_fails(self.env, 'rompe', ValueError('something unexpected')):
            self.fetch()
        self.assertEqual(self.tickets().mapped('name'), ['uno', 'tres'])
        failed = self.account.failed_ids
        self.assertEqual(len(failed), 1)
        self.assertEqual((failed.subject, failed.state), ('rompe', 'failed'))
        self.assertIn('something unexpected', failed.error)
        self.assertNotIn('Traceback', failed.error)
        self.assertEqual(self.account.failed_count, 1)
        self.assertIn(b'Subject: rompe', base64.b64decode(failed.raw))
        failed.action_retry()
        self.assertEqual(failed.state, 'done')
        self.assertEqual(failed.ticket_id.name, 'rompe')
        self.assertEqual(len(self.tickets()), 3)

    def test_a_conflict_with_another_transaction_is_tried_again_not_kept_as_failed(self):
        """A serialization failure is nobody's fault: the batch is rolled back whole, the next fetch stores it."""
        import psycopg2.extensions
        self.mailbox.append(make_email(subject='uno'), make_email(subject='en conflicto'))
        conflict = psycopg2.extensions.TransactionRollbackError('could not serialize access')
        with opening_fails(self.env, 'en conflicto', conflict):
            with self.assertRaises(psycopg2.extensions.TransactionRollbackError):
                self.fetch()
        self.refresh()
        self.assertFalse(self.account.failed_ids)
        self.assertFalse(self.tickets(), 'the batch was rolled back whole')
        self.assertEqual(self.fetch(), 'done')
        self.assertEqual(self.tickets().mapped('name'), ['uno', 'en conflicto'])

    def test_a_failed_message_can_be_discarded(self):
        failed = self.env['postcenter.email.failed']._keep(self.account, b'Subject: x\n\nx', ValueError('boom'))
        failed.action_discard()
        self.assertEqual(failed.state, 'discarded')
        self.assertEqual(self.account.failed_count, 0)

    def test_retry_that_fails_again_says_why(self):
        failed = self.env['postcenter.email.failed']._keep(self.account, make_email().as_bytes(), ValueError('a'))
        with mock.patch.object(type(self.env['helpdesk.ticket']), '_postcenter_open',
                               side_effect=ValueError('still broken')):
            failed.action_retry()
        self.assertEqual((failed.state, failed.attempts), ('failed', 2))
        self.assertIn('still broken', failed.error)

    def test_fetch_now_button(self):
        self.mailbox.append(make_email())
        self.cr.commit()
        self.assertTrue(self.account.action_fetch())
        self.assertEqual(len(self.tickets()), 1)
