"""The auto-close closes a batch with one write: the same chatter and the same emails as closing each ticket on its
own through Odoo's whole path, and closing by hand (or a ticket of another channel) left as it was."""
import contextlib
import re
from unittest import mock

from odoo.addons.postcenter_email.models import rows as batch_rows

from .common import ChannelCase, make_email, recording_statements

T0 = '2026-03-02 12:00:00'
ANSWERED = '2026-03-02 12:10:00'
LATER = '2026-03-02 15:00:00'
# what tells two rows of twin tickets apart, or two runs: ids, the record's own id, the dates of writing
VOLATILE = {'id', 'res_id', 'parent_id', 'mail_message_id', 'create_date', 'write_date', 'date', 'message_id'}


class TestAutoCloseBatch(ChannelCase):

    def setUp(self):
        super().setUp()
        self.account.write({'autoclose_enabled': True, 'autoclose_time': 1, 'autoclose_unit': 'hours'})
        self.sales = self.env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@empresa.example', 'connection_type': 'forward',
            'team_id': self.team.id, 'autoclose_enabled': True, 'autoclose_time': 1, 'autoclose_unit': 'hours'})
        reply = self.sales.autoreply_ids.filtered(lambda r: r.kind == 'auto_close')
        reply.write({'text_1': 'Cerramos {{ticket_number}} por falta de respuesta.', 'active': True})
        self.done = self.env.ref('helpdesk_mgmt.helpdesk_ticket_stage_done')
        self.note = self.env.ref('mail.mt_note')

    def twins(self, account, name, follow_notes=False):
        """Two tickets alike (each its own customer), answered by the agent: due for the auto-close."""
        tickets = []
        for index in (1, 2):
            with self.moment(T0):
                sender = '%s %d <%s%d@cliente.cl>' % (name, index, name, index)
                receipt = account._receive(make_email(subject='Pedido %s %d' % (name, index), sender=sender,
                                                      to=account.email).as_bytes())
            ticket = receipt.ticket_id
            if follow_notes:  # an agent who follows the ticket's internal notes too
                ticket.message_subscribe(partner_ids=self.agent.partner_id.ids,
                                         subtype_ids=(self.note | self.env.ref('mail.mt_comment')).ids)
            self.answer(ticket, ANSWERED)
            tickets.append(ticket)
        return tickets

    def close_one_by_one_as_before(self, ticket):
        """The closing as it was done before batches: the ticket on its own, every tracking message notified through
        Odoo's ``_notify``, the stage's email through ``mail.template.send_mail``."""
        Ticket = type(self.env['helpdesk.ticket'])
        Template = type(self.env['mail.template'])
        with mock.patch.object(Ticket, '_postcenter_note_followed', lambda records: records), \
                mock.patch.object(Template, '_postcenter_send_mails',
                                  lambda template, ids: [template.send_mail(res_id) for res_id in ids]), \
                self.moment(LATER):
            self.env['helpdesk.ticket'].browse(ticket.id)._postcenter_autoclose(self.done, LATER)

    def chatter(self, ticket, mark):
        """What closing wrote on ``ticket`` after message ``mark``, with what makes two tickets differ (number,
        customer, ids) written as placeholders."""
        names = {str(ticket.partner_id.id): 'CUSTOMER', str(self.agent.partner_id.id): 'AGENT'}
        self.cr.execute("""
            SELECT m.id, m.message_type, s.name, m.body, m.subject, m.author_id, m.email_from, m.reply_to,
                   m.record_name, m.parent_id = (SELECT min(id) FROM mail_message p WHERE p.model = m.model
                                                  AND p.res_id = m.res_id AND p.message_type = 'email'),
                   m.mail_server_id
              FROM mail_message m LEFT JOIN mail_message_subtype s ON s.id = m.subtype_id
             WHERE m.model = 'helpdesk.ticket' AND m.res_id = %s AND m.id > %s ORDER BY m.id""", (ticket.id, mark))
        rows = []
        for row in self.cr.fetchall():
            message = self.env['mail.message'].browse(row[0])
            mails = self.env['mail.mail'].search([('mail_message_id', '=', message.id)])
            rows.append(list(row[1:]) + [
                sorted((t.field, t.old_value_char, t.new_value_char) for t in message.tracking_value_ids),
                sorted(message.partner_ids.ids), sorted(message.needaction_partner_ids.ids),
                sorted((n.res_partner_id.id, n.is_email, n.email_status) for n in
                       self.env['mail.notification'].search([('mail_message_id', '=', message.id)])),
                [(mail.state, mail.email_to, mail.email_cc, sorted(mail.recipient_ids.ids), mail.body_html,
                  mail.auto_delete) for mail in mails],
                # and every column of the rows written: the message, its tracking values, its email
                self.rows('mail_message', 'id', message.id),
                self.rows('mail_tracking_value', 'mail_message_id', message.id),
                self.rows('mail_mail', 'mail_message_id', message.id)])
        text = repr(rows).replace(ticket.number, 'NUMBER').replace(ticket.name, 'NAME')
        for value, name in names.items():  # in lists of ids and of (partner, ...) tuples, never inside a body
            for before in ('[%s]', '[(%s, ', ', (%s, '):
                text = text.replace(before % value, before % name)
        return text

    def rows(self, table, column, value):
        """Every column of the rows of ``table`` whose ``column`` is ``value``, but the ``VOLATILE`` ones."""
        self.cr.execute('SELECT row_to_json(t) FROM %s t WHERE %s = %%s ORDER BY id' % (table, column), (value,))
        return [sorted((key, value) for key, value in row.items() if key not in VOLATILE)
                for (row,) in self.cr.fetchall()]

    def test_the_cron_writes_the_same_chatter_and_emails_as_closing_each_ticket_on_its_own(self):
        plain = self.twins(self.account, 'plain')
        noted = self.twins(self.account, 'noted', follow_notes=True)
        replied = self.twins(self.sales, 'replied')
        self.sent()
        self.cr.execute('SELECT max(id) FROM mail_message')
        mark = self.cr.fetchone()[0]
        for _cron, before in (plain, noted, replied):
            self.close_one_by_one_as_before(before)
        sent_before = self.sent()
        with self.moment(LATER):
            self.assertEqual(self.env['helpdesk.ticket']._cron_autoclose(now=LATER), 3)
        sent_by_cron = self.sent()
        for cron, before in (plain, noted, replied):
            self.assertTrue(cron.stage_id.closed)
            self.assertEqual(cron.closed_date, before.closed_date)
            self.assertEqual(self.chatter(cron, mark), self.chatter(before, mark))
        # each of them really has its tracking message, the agent following notes is told, the closing reply
        # replaces the stage's email
        self.assertEqual(plain[0].message_ids[:2].mapped('tracking_value_ids.new_value_char'), ['Done'])
        self.assertIn(self.agent.partner_id, noted[0].message_ids.filtered('tracking_value_ids').needaction_partner_ids)
        self.assertNotIn(self.agent.partner_id,
                         plain[0].message_ids.filtered('tracking_value_ids').needaction_partner_ids)

        numbers = [ticket.number for pair in (plain, noted, replied) for ticket in pair]

        def received(sent):
            """Subjects and how many recipients, the ticket numbers as placeholders."""
            subjects = []
            for _from, rcpt, message in sent:
                subject = message['Subject']
                for number in numbers:
                    subject = subject.replace(number, 'NUMBER')
                subjects.append((re.sub(r'Pedido (\w+) \d', r'Pedido \1', subject), len(set(rcpt))))
            return sorted(subjects)
        self.assertEqual(received(sent_by_cron), received(sent_before))
        subjects = [subject for subject, _count in received(sent_by_cron)]
        self.assertEqual(subjects.count('The ticket NUMBER has been closed.'), 2, 'plain and noted: the stage email')
        self.assertEqual(subjects.count('Re: Pedido replied'), 1, 'replied: the closing reply')
        self.assertEqual(subjects.count('Re: NUMBER'), 1, 'noted: the tracking note, to the agent following notes')

    def close_both_ways(self, name, around_cron=contextlib.ExitStack):
        """Two twins closed by the cron (inside ``around_cron()``), two closed one by one as before; the cron's and
        the others' chatter."""
        cron, before = self.twins(self.account, name), self.twins(self.account, name + 'b')
        self.cr.execute('SELECT max(id) FROM mail_message')
        mark = self.cr.fetchone()[0]
        for ticket in before:
            self.close_one_by_one_as_before(ticket)
        with self.moment(LATER), around_cron():
            self.assertEqual(self.env['helpdesk.ticket']._cron_autoclose(now=LATER), 2)
        return [self.chatter(ticket, mark) for ticket in cron], [self.chatter(ticket, mark) for ticket in before]

    def test_the_batchs_tracking_notes_and_stage_emails_are_written_together(self):
        insert = mock.MagicMock(wraps=batch_rows.insert)
        by_cron, one_by_one = self.close_both_ways(
            'together', around_cron=lambda: mock.patch.object(batch_rows, 'insert', insert))
        self.assertEqual(by_cron, one_by_one)
        written = [(model._name, len(values)) for (model, values), _kwargs in insert.call_args_list]
        self.assertEqual(written, [
            ('mail.message', 2), ('mail.tracking.value', 2),  # the tracking notes, then their values
            ('mail.message', 2), ('mail.mail', 2),  # the stage emails: their messages, then the emails
        ])

    def test_with_another_modules_create_of_messages_each_is_created_through_the_orm(self):
        with mock.patch.object(batch_rows, 'plain_create', return_value=False), \
                mock.patch.object(batch_rows, 'insert', side_effect=AssertionError('not with another create')):
            by_cron, one_by_one = self.close_both_ways('orm')  # the tickets' first emails through the ORM too
        self.assertEqual(by_cron, one_by_one)

    def test_values_the_rows_cannot_hold_fall_back_to_the_orm(self):
        """An image in a stage email's body is stored apart by ``mail.message.create``: that email is created
        through the ORM, the same as ``send_mail`` creates it."""
        template = self.done.mail_template_id
        template.body_html = (template.body_html or '') + '<img src="data:image/png;base64,iVBORw0KGgo="/>'
        by_cron, one_by_one = self.close_both_ways('image')
        self.assertIn('/web/image/', by_cron[0])

        def stored_apart(chatter):
            return [re.sub(r'/web/image/\d+\?access_token=[\w-]+', 'IMAGE', text) for text in chatter]
        self.assertEqual(stored_apart(by_cron), stored_apart(one_by_one))

    def partner_reads_of_the_cron(self, tickets):
        """How many times the cron reads customers' rows while it closes ``tickets`` (their caches emptied first)."""
        self.env.clear()
        with recording_statements() as statements, self.moment(LATER):
            self.assertEqual(self.env['helpdesk.ticket']._cron_autoclose(now=LATER), len(tickets))
        return len([query for query in statements if query.startswith('SELECT "res_partner"."id" as "id",')])

    def test_the_customers_a_batchs_stage_emails_reach_are_read_at_once(self):
        Template = type(self.env['mail.template'])
        first = self.twins(self.account, 'uno') + self.twins(self.account, 'dos')
        with mock.patch.object(Template, '_postcenter_read_related', lambda template, ids: None):
            one_by_one = self.partner_reads_of_the_cron(first)
        at_once = self.partner_reads_of_the_cron(self.twins(self.account, 'tres') + self.twins(self.account, 'cuatro'))
        # read at once: the four customers, the company's partner, the agent's partner
        self.assertLessEqual(at_once, 3)
        self.assertGreaterEqual(one_by_one, at_once + 3, 'each render read its own customer')

    def test_a_batchs_stage_email_recipients_are_checked_to_exist_in_one_query(self):
        recorded = []

        @contextlib.contextmanager
        def recording():
            with recording_statements() as statements:
                yield
            recorded.extend(statements)
        by_cron, one_by_one = self.close_both_ways('exist', around_cron=recording)
        self.assertEqual(by_cron, one_by_one)
        self.assertEqual(len([query for query in recorded if query == 'SELECT id FROM "res_partner" WHERE id IN %s']),
                         1, 'the two stage emails\' customers: one look-up')

    def test_recipients_rendered_together_are_those_of_each_record_alone(self):
        """``partner_to`` of several records rendered together: each keeps its own partners, once each, without a
        partner that does not exist, as when each is rendered alone (Odoo's path)."""
        tickets = [ticket for name in ('ra', 'rb') for ticket in self.twins(self.account, name)]
        gone = self.env['res.partner'].create({'name': 'Borrado'})
        gone_id = gone.id
        gone.unlink()
        partner_to = '${object.partner_id.id},%d,,${object.partner_id.id},%d' % (gone_id, self.agent.partner_id.id)
        template = self.done.mail_template_id.copy({'partner_to': partner_to})
        template.copy({'partner_to': False}).generate_email([ticket.id for ticket in tickets])  # nothing to check
        together = template.generate_email([ticket.id for ticket in tickets], fields=['partner_to'])
        with recording_statements() as statements, \
                mock.patch.object(batch_rows, 'plain_method', return_value=False):
            overridden = template.generate_email([ticket.id for ticket in tickets], fields=['partner_to'])
        self.assertEqual(statements.count('SELECT id FROM "res_partner" WHERE id IN %s'), len(tickets),
                         "another module's override: each record checked on its own, as Odoo does")
        for ticket in tickets:
            self.assertEqual(sorted(overridden[ticket.id]['partner_ids']), sorted(together[ticket.id]['partner_ids']))
            alone = template.generate_email(ticket.id, fields=['partner_to'])
            self.assertEqual(sorted(together[ticket.id]['partner_ids']), sorted(alone['partner_ids']))
            self.assertEqual(len(set(together[ticket.id]['partner_ids'])), len(together[ticket.id]['partner_ids']))
            self.assertEqual(sorted(alone['partner_ids']), sorted([ticket.partner_id.id, self.agent.partner_id.id]))

    def test_a_batch_that_another_module_refuses_is_closed_ticket_by_ticket(self):
        plain = self.twins(self.account, 'plain')
        Ticket = type(self.env['helpdesk.ticket'])
        original = Ticket.write

        def refuse_batches(records, vals):
            """Another module's check that only a batch trips."""
            if vals.get('stage_id') and len(records) > 1:
                raise RuntimeError('batch refused')
            return original(records, vals)
        with mock.patch.object(Ticket, 'write', refuse_batches), self.moment(LATER):
            self.assertEqual(self.env['helpdesk.ticket']._cron_autoclose(now=LATER), 2)
        self.assertTrue(all(ticket.stage_id.closed for ticket in plain))
        for ticket in plain:
            self.assertEqual(len(ticket.message_ids.filtered('tracking_value_ids')), 1, 'closed once')
        self.assertEqual(len([m for _f, _r, m in self.sent() if 'has been closed' in m['Subject']]), 2)


class TestClosingByHand(ChannelCase):
    """An agent closing a ticket (of the Email channel or not) goes through Odoo's own path: the tracking note
    notified to whoever follows notes, helpdesk_mgmt's stage email posted in the chatter through its template."""

    def test_an_agent_closing_by_hand_keeps_odoos_path(self):
        note = self.env.ref('mail.mt_note')
        colleague = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Carla Colega', 'login': 'pc_close_colleague', 'email': 'carla@empresa.example',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_user').id])]})
        email_ticket = self.receive(make_email(subject='Por correo'), T0)
        phone_ticket = self.env['helpdesk.ticket'].create({
            'name': 'Por teléfono', 'description': 'Llamó', 'partner_id': email_ticket.partner_id.id,
            'channel_id': self.env.ref('helpdesk_mgmt.helpdesk_ticket_channel_phone').id})
        for ticket in (email_ticket, phone_ticket):
            ticket.message_subscribe(partner_ids=colleague.partner_id.ids,
                                     subtype_ids=(note | self.env.ref('mail.mt_comment')).ids)
        Ticket = type(self.env['helpdesk.ticket'])
        Template = type(self.env['mail.template'])
        with mock.patch.object(Ticket, '_postcenter_note_followed', side_effect=AssertionError('cron only')), \
                mock.patch.object(Template, '_postcenter_send_mails', side_effect=AssertionError('cron only')):
            for ticket in (email_ticket, phone_ticket):
                self.close(ticket, at=LATER)
        for ticket in (email_ticket, phone_ticket):
            self.assertTrue(ticket.stage_id.closed)
            tracking = ticket.message_ids.filtered('tracking_value_ids')[:1]  # the latest: the close
            self.assertEqual(tracking.mapped('tracking_value_ids.new_value_char'), ['Done'])
            self.assertEqual(tracking.subtype_id, note)
            self.assertEqual(tracking.needaction_partner_ids, colleague.partner_id, 'Odoo notified the follower')
            stage_email = ticket.message_ids.filtered(lambda m: 'has been closed' in (m.subject or ''))
            self.assertEqual(len(stage_email), 1, "helpdesk_mgmt's template, through Odoo's composer")
        self.assertFalse(phone_ticket.email_account_id)


class TestFirstEmailAsRow(ChannelCase):
    """A new ticket's first email, which nobody is to be told of, is written as a row: the same message, attachments
    and ticket as Odoo's ``message_post`` writes."""

    def chatter(self, ticket):
        """Every column of the ticket's messages and attachments, the ticket's own values as placeholders."""
        def rows(query):
            self.cr.execute(query, (ticket.id,))
            text = repr([sorted((key, value) for key, value in row.items() if key not in VOLATILE | {'access_token'})
                         for (row,) in self.cr.fetchall()])
            for value, name in ((ticket.number, 'NUMBER'), (ticket.name, 'NAME'), (ticket.partner_id.email, 'EMAIL'),
                                (ticket.partner_id.name, 'CUSTOMER'), ('[%d]' % ticket.partner_id.id, '[PARTNER]')):
                text = text.replace(value, name)
            return re.sub(r"\('author_id', \d+\)", "('author_id', PARTNER)", text)
        return (rows("""SELECT row_to_json(m) FROM mail_message m WHERE model = 'helpdesk.ticket' AND res_id = %s
                        ORDER BY id"""),
                rows("""SELECT row_to_json(a) FROM ir_attachment a WHERE res_model = 'helpdesk.ticket' AND res_id = %s
                        ORDER BY id"""),
                sorted(ticket.message_ids.mapped(lambda m: (m.subtype_id.name, m.message_type,
                                                            m.attachment_ids.mapped('name'),
                                                            m.partner_ids.ids, m.needaction_partner_ids.ids))))

    def receive_both_ways(self):
        files = [('pedido.pdf', b'%PDF-1.4 pedido', 'application/pdf')]
        Thread = type(self.env['mail.thread'])
        with self.moment(T0):
            as_row = self.account._receive(make_email(subject='Con adjunto', sender='Uno <uno@cliente.cl>',
                                                      attachments=files).as_bytes()).ticket_id
            with mock.patch.object(Thread, '_postcenter_posts_plainly', return_value=False):
                by_orm = self.account._receive(make_email(subject='Con adjunto', sender='Dos <dos@cliente.cl>',
                                                          attachments=files).as_bytes()).ticket_id
        return as_row, by_orm

    def test_a_new_tickets_first_email_is_the_message_odoo_posts(self):
        insert = mock.MagicMock(wraps=batch_rows.insert)
        with mock.patch.object(batch_rows, 'insert', insert):
            as_row, by_orm = self.receive_both_ways()
        self.assertIn('mail.message', [model._name for (model, _values), _kw in insert.call_args_list])
        self.assertEqual(self.chatter(as_row), self.chatter(by_orm))
        self.assertEqual(as_row.message_ids.attachment_ids.mapped('name'), ['pedido.pdf'])
        self.assertEqual(as_row.message_follower_ids.mapped('partner_id'), as_row.partner_id)
