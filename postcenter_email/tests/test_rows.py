"""Records created together (``models/rows.py``) hold what ``create`` would have written, column by column."""
import base64
from unittest.mock import patch

from odoo import models
from odoo.tests.common import TransactionCase

from odoo.addons.postcenter_email.models import rows

from .common import recording_statements

VOLATILE = {'id', 'create_date', 'write_date', 'date', 'message_id'}
PNG = base64.b64decode(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')


class TestRows(TransactionCase):

    def row(self, table, record_id):
        self.env.cr.execute('SELECT row_to_json(t) FROM %s t WHERE id = %%s' % table, (record_id,))
        return {key: value for key, value in self.env.cr.fetchone()[0].items() if key not in VOLATILE}

    def test_rows_hold_what_create_writes(self):
        partners = self.env['res.partner'].create({'name': 'Uno'}) | \
            self.env['res.partner'].create({'name': 'Dos'})
        ticket = self.env['helpdesk.ticket'].create({'name': 'Filas', 'description': 'x'})
        values = {
            'model': 'helpdesk.ticket', 'res_id': ticket.id, 'message_type': 'comment',
            'body': '<p onclick="x()">Hola <script>mal()</script><b>bien</b></p>', 'subject': 'Filas',
            'email_from': 'a@b.example', 'reply_to': 'a@b.example', 'record_name': 'Filas',
            # what Many2many.write does with a link, an unlink, a bare id (ignored) and a replacement
            'partner_ids': [(4, partners[0].id), (4, partners[1].id), (3, partners[0].id), partners[0].id],
            'channel_ids': [(6, 0, [])],
            'tracking_value_ids': [(0, 0, {'field': 'name', 'field_desc': 'Name', 'field_type': 'char',
                                           'old_value_char': 'a', 'new_value_char': 'b'})],
        }
        by_orm = self.env['mail.message'].with_context(message_create_from_mail_mail=True).create(dict(values))
        together = rows.insert(self.env['mail.message'], [dict(values), dict(values)])
        self.assertEqual(len(together), 2)
        for message in together:
            self.assertEqual(self.row('mail_message', message.id), self.row('mail_message', by_orm.id))
            self.assertEqual(message.partner_ids, by_orm.partner_ids)
            self.assertEqual(message.partner_ids, partners[1])
            self.assertEqual(message.tracking_value_ids.mapped('new_value_char'), ['b'])
        self.assertNotIn('script', together[0].body, 'sanitized as create does')

    def test_what_rows_do_not_write_is_refused_before_anything_is_written(self):
        self.env.cr.execute('SELECT count(*) FROM mail_message')
        count = self.env.cr.fetchone()[0]
        with self.assertRaises(rows.NotPlain):
            rows.insert(self.env['mail.message'], [{'body': 'x', 'partner_ids': [(0, 0, {'name': 'Nuevo'})]}])
        with self.assertRaises(rows.NotPlain):  # an email without its message: create would make the message
            rows.insert(self.env['mail.mail'], [{'body_html': 'x'}])
        self.env.cr.execute('SELECT count(*) FROM mail_message')
        self.assertEqual(self.env.cr.fetchone()[0], count)

    def test_plain_create_knows_which_modules_override_create(self):
        self.assertTrue(rows.plain_create(self.env['mail.message'], {'mail'}))
        self.assertFalse(rows.plain_create(self.env['mail.message'], set()))
        self.assertTrue(rows.plain_create(self.env['mail.mail'], {'mail', 'fetchmail'}))
        self.assertFalse(rows.plain_create(self.env['mail.mail'], {'mail'}), 'fetchmail overrides it too')

    def test_customers_written_together_are_the_customers_create_makes(self):
        Partner = self.env['res.partner']
        alone = Partner._postcenter_new_customer('Ana Alone', 'ana@solo.example')
        Partner.recompute()
        together = Partner._postcenter_insert_customers([('Bea Batch', 'bea@junto.example'),
                                                         ('', 'carla@junto.example')])
        self.assertEqual(len(together), 2)

        def shape(partner):
            """Every column but those of the partner's own name, address and id."""
            row = self.row('res_partner', partner.id)
            self.assertEqual(row.pop('commercial_partner_id'), partner.id)
            self.assertEqual((row.pop('name'), row.pop('display_name'), row.pop('email')),
                             (partner.name, partner.name, partner.email))
            return row
        self.assertEqual(shape(together[0]), shape(alone))
        self.assertEqual(shape(together[1]), shape(alone))
        self.assertEqual(together[1].name, 'carla@junto.example', 'no name: the address')
        self.assertEqual([partner.display_name for partner in together], ['Bea Batch', 'carla@junto.example'])

    def test_a_new_customers_name_and_address_come_from_the_cache(self):
        """A customer the batch just wrote as rows is in the cache: its name and address are taken from there; any
        other partner's two columns are read, not its whole row."""
        Partner = self.env['res.partner']
        new = Partner._postcenter_insert_customers([('Eva Nueva', 'eva@nueva.example')])[0]
        known = Partner.create({'name': 'Iris Conocida', 'email': 'iris@conocida.example'})
        known.invalidate_cache(ids=known.ids)
        reads = []
        core_read = models.BaseModel._read_from_database

        def read(records, field_names, inherited_field_names=[]):  # pylint: disable=dangerous-default-value
            reads.append((records._name, sorted(field_names)))
            return core_read(records, field_names, inherited_field_names)
        with patch.object(models.BaseModel, '_read_from_database', autospec=True, side_effect=read):
            self.assertEqual(new._postcenter_name_and_email(), {'name': 'Eva Nueva', 'email': 'eva@nueva.example'})
            self.assertEqual(reads, [], 'nothing read')
            self.assertEqual(known._postcenter_name_and_email()['email'], 'iris@conocida.example')
        self.assertEqual(reads, [('res.partner', ['email', 'name'])])

    def test_rows_are_inserted_by_one_statement_that_returns_their_ids_in_order(self):
        Partner = self.env['res.partner'].with_context(tracking_disable=True)
        with recording_statements() as statements:
            partners = rows.insert(Partner, [{'name': name} for name in ('Uno', 'Dos', 'Tres')])
        self.assertEqual(partners.mapped('name'), ['Uno', 'Dos', 'Tres'])
        self.assertEqual(partners.ids, sorted(partners.ids), 'drawn from the sequence in the order of the rows')
        self.assertEqual(len([q for q in statements if q.startswith('INSERT INTO "res_partner"')]), 1)
        self.assertFalse([q for q in statements if 'nextval' in q and not q.startswith('INSERT')])

    def test_rows_read_together_are_what_odoos_prefetch_reads(self):
        """``read_rows`` puts in the cache the columns Odoo's prefetch reads when a field is first read, with the
        same values, in one statement and without ``read``; a column of a group the user is not in is left out."""
        Ticket = self.env['helpdesk.ticket']
        tickets = Ticket.create({'name': 'Uno', 'description': '<p>a</p>'}) | \
            Ticket.create({'name': 'Dos', 'description': '<p>b</p>'})
        cache = self.env.cache

        def cached(records):
            return {(record.id, field.name): cache.get(record, field) for record in records
                    for field in records._fields.values() if cache.contains_value(record, field)}
        tickets.invalidate_cache()
        tickets.mapped('stage_id')  # Odoo's prefetch, through read()
        prefetched = cached(tickets)
        tickets.invalidate_cache()
        statements = self.env.cr.sql_log_count
        with patch.object(models.BaseModel, 'read', side_effect=AssertionError('read builds dictionaries')):
            self.assertEqual(rows.read_rows(tickets), tickets)
        self.assertEqual(self.env.cr.sql_log_count - statements, 1)
        self.assertEqual(cached(tickets), prefetched)
        self.assertIn((tickets[0].id, 'description'), prefetched)
        self.assertEqual(tickets.mapped('name'), ['Uno', 'Dos'])

        reads = []
        core_read = models.BaseModel.read

        def read(records, fields=None, load='_classic_read'):
            reads.append((records._name, sorted(fields), load))
            return core_read(records, fields, load)
        tickets.invalidate_cache()
        with patch.object(rows, 'plain_method', return_value=False), \
                patch.object(models.BaseModel, 'read', autospec=True, side_effect=read):
            rows.read_rows(tickets)  # as when another module overrides read: through it
        self.assertEqual(reads, [('helpdesk.ticket', sorted({name for _id, name in prefetched}), '_classic_write')])
        self.assertEqual(cached(tickets), prefetched)

        partner = self.env['res.partner'].create({'name': 'Ana'})
        user = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Sin grupos', 'login': 'pc_rows_reader',
            'groups_id': [(6, 0, [self.env.ref('base.group_user').id])]})
        grouped = [name for name, field in partner._fields.items() if field.store and field.prefetch and field.groups
                   and not partner.sudo(user).user_has_groups(field.groups)]
        self.assertTrue(grouped, 'res.partner has columns of groups an employee is not in')
        reader = partner.sudo(user)
        reader.invalidate_cache()
        rows.read_rows(reader)
        self.assertFalse([name for name in grouped if cache.contains_value(reader, partner._fields[name])])
        self.assertTrue(cache.contains_value(reader, partner._fields['name']))

    def test_customers_go_through_the_orm_when_another_module_creates_partners(self):
        self.assertTrue(rows.plain_create(self.env['res.partner'], {'base', 'mail'}))
        with patch.object(rows, 'plain_create', return_value=False):
            self.assertIsNone(self.env['res.partner']._postcenter_insert_customers([('Dora', 'dora@x.example')]))
            created = self.env['res.partner']._postcenter_create_customers([('Dora', 'dora@x.example')])
        self.assertEqual(self.env['res.partner'].browse(created['dora@x.example'][0]).display_name, 'Dora')

    def test_recomputed_values_written_together_are_odoos(self):
        """Two new customers' display names and commercial partners, by one UPDATE each, as Odoo writes them."""
        Partner = self.env['res.partner'].with_context(tracking_disable=True, install_mode=True)
        with self.env.norecompute():
            odoo_way = Partner.create({'name': 'Eva', 'email': 'eva@x.example'}) | \
                Partner.create({'name': 'Fer', 'email': 'fer@x.example'})
        self.env['res.partner'].recompute()
        with self.env.norecompute():
            together = Partner.create({'name': 'Eva', 'email': 'eva@x.example'}) | \
                Partner.create({'name': 'Fer', 'email': 'fer@x.example'})
        with patch.object(rows, '_update_as_odoo', side_effect=AssertionError('by rows')):
            rows.recompute(self.env['res.partner'])
        computed = [field for field in together._fields.values() if field.store and field.compute]
        cache = self.env.cache
        cached = {(record.id, field.name): cache.get(record, field) for record in together for field in computed
                  if cache.contains(record, field)}
        self.assertIn((together[0].id, 'commercial_partner_id'), cached, 'what was written stays in the cache')
        statements = self.env.cr.sql_log_count
        self.assertEqual(together.mapped('commercial_partner_country_id'), self.env['res.country'])
        self.assertEqual(self.env.cr.sql_log_count, statements, 'nothing read to compute what depends on them')
        together.invalidate_cache()
        for (record_id, name), value in cached.items():
            record = together.browse(record_id)
            self.assertIsNotNone(record[name])
            self.assertEqual(cache.get(record, record._fields[name]), value, 'as read back: %s' % name)
        for mine, odoos in zip(together, odoo_way):
            mine_row, odoos_row = self.row('res_partner', mine.id), self.row('res_partner', odoos.id)
            self.assertEqual(mine_row.pop('commercial_partner_id'), mine.id)
            self.assertEqual(odoos_row.pop('commercial_partner_id'), odoos.id)
            self.assertEqual(mine_row, odoos_row)

    def test_what_the_cache_holds_of_new_rows_is_what_reading_them_gives(self):
        """The columns and empty lines that ``rows.insert`` puts in the cache equal what reading the rows back
        puts there, and nothing more is read for them; for another user than the superuser nothing is put."""
        ticket = self.env['helpdesk.ticket'].create({'name': 'Caché', 'description': 'x'})
        partner = self.env['res.partner'].create({'name': 'Uno'})
        message_values = {'model': 'helpdesk.ticket', 'res_id': ticket.id, 'message_type': 'email',
                          'body': '<p>Hola <script>mal()</script></p>', 'author_id': partner.id,
                          'email_from': 'uno@x.example', 'date': '2026-12-01 10:20:30', 'partner_ids': []}
        cases = [(self.env['mail.message'], message_values),
                 (self.env['res.partner'].with_context(tracking_disable=True, install_mode=True),
                  {'name': 'Gil', 'email': 'gil@x.example', 'customer': True})]
        for model, values in cases:
            record = rows.insert(model, [dict(values)], in_cache=True)
            cache = self.env.cache
            cached = {field: cache.get(record, field) for field in record._fields.values()
                      if cache.contains(record, field)}
            self.assertIn(record._fields['email_from' if 'body' in values else 'email'], cached)
            self.assertIn(record._fields['message_follower_ids' if 'name' in values else 'tracking_value_ids'],
                          cached, 'an x2many not given: empty')
            statements = self.env.cr.sql_log_count
            self.assertTrue(all(record[field.name] is not None for field in cached))
            self.assertEqual(self.env.cr.sql_log_count, statements, 'nothing read for them')
            if 'body' in values:
                self.assertNotIn('script', cached[record._fields['body']], 'sanitized as written')
            record.invalidate_cache(ids=record.ids)
            for field, value in cached.items():
                self.assertIsNotNone(record[field.name])
                self.assertEqual(cache.get(record, field), value, field)
        user = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Otra', 'login': 'pc_rows_other', 'groups_id': [(6, 0, [
                self.env.ref('base.group_user').id, self.env.ref('base.group_partner_manager').id])]})
        unasked = rows.insert(self.env['mail.message'], [dict(message_values)])
        self.assertFalse(self.env.cache.contains(unasked, unasked._fields['email_from']), 'not asked: left to read')
        other = rows.insert(self.env['res.partner'], [{'name': 'Hugo'}])
        other.invalidate_cache(ids=other.ids)
        rows._put_in_cache(other.sudo(user), ['name'], [['Hugo']], [[]], [[]])
        self.assertFalse(self.env.cache.contains(other, other._fields['name']), 'record rules may apply: read')
        rows._put_in_cache(other, ['name'], [['Hugo']], [[]], [[]])
        self.assertTrue(self.env.cache.contains(other, other._fields['name']))

    def ticket_values(self, partner, number):
        Ticket = self.env['helpdesk.ticket']
        values = {'name': 'Mi pedido', 'description': '<p>Hola <script>mal()</script></p>', 'partner_id': partner.id,
                  'partner_name': partner.name, 'partner_email': partner.email, 'number': number,
                  'channel_id': self.env.ref('helpdesk_mgmt.helpdesk_ticket_channel_email').id,
                  'message_follower_ids': [(0, 0, Ticket._postcenter_follower_values(partner))]}
        values.update(stage_id=Ticket.default_get(['stage_id'])['stage_id'])
        return values

    def test_a_ticket_written_as_rows_is_the_ticket_create_makes(self):
        """The Email channel's new ticket, as one row with its follower line: the columns, the follower and its
        subtypes that ``create`` writes, the ticket in the cache as read back, its deadline of no activity not
        written twice."""
        partner = self.env['res.partner'].create({'name': 'Ana', 'email': 'ana@cliente.example'})
        Ticket = self.env['helpdesk.ticket']
        by_orm = Ticket.with_context(tracking_disable=True).create(self.ticket_values(partner, 'T-ORM'))
        statements = []
        with patch.object(models.BaseModel, 'create', side_effect=AssertionError('through the ORM')), \
                patch.object(rows, '_update_as_odoo', side_effect=lambda records, values: statements.append(values)):
            by_rows = Ticket._postcenter_create(self.ticket_values(partner, 'T-ROWS'))
        self.assertEqual(statements, [{}], 'nothing written again: the deadline of no activity is the NULL inserted')
        self.assertFalse(by_rows.activity_date_deadline)
        for ticket in (by_orm, by_rows):
            self.assertEqual(ticket.message_follower_ids.mapped('partner_id'), partner)
        self.assertEqual(by_rows.message_follower_ids.subtype_ids, by_orm.message_follower_ids.subtype_ids)
        mine, odoos = self.row('helpdesk_ticket', by_rows.id), self.row('helpdesk_ticket', by_orm.id)
        self.assertEqual((mine.pop('number'), odoos.pop('number')), ('T-ROWS', 'T-ORM'))
        mine.pop('last_stage_update'), odoos.pop('last_stage_update')
        self.assertEqual(mine, odoos)
        self.assertNotIn('script', mine['description'], 'sanitized as create does')
        cached = self.env.cache.contains(by_rows, by_rows._fields['partner_email'])
        self.assertTrue(cached, 'in the cache as read back')

    def test_a_ticket_goes_through_create_when_it_asks_for_more(self):
        """An assigned agent (helpdesk_mgmt emails them), another module's ``create``, another user than the
        superuser: ``create``, as Odoo does."""
        partner = self.env['res.partner'].create({'name': 'Bea', 'email': 'bea@cliente.example'})
        Ticket = self.env['helpdesk.ticket']
        with patch.object(rows, 'insert', side_effect=AssertionError('as rows')):
            assigned = Ticket._postcenter_create(dict(self.ticket_values(partner, 'T-1'), user_id=self.env.uid))
            with patch.object(rows, 'plain_create', return_value=False):
                other_module = Ticket._postcenter_create(self.ticket_values(partner, 'T-2'))
            manager = self.env['res.users'].with_context(no_reset_password=True).create({
                'name': 'Gerente', 'login': 'pc_rows_manager', 'email': 'gerente@x.example', 'groups_id': [
                    (6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
            as_user = Ticket.sudo(manager)._postcenter_create(self.ticket_values(partner, 'T-3'))
        self.assertEqual(assigned.user_id, self.env.user)
        self.assertTrue(assigned.assigned_date, "helpdesk_mgmt's create ran")
        self.assertEqual((other_module.number, as_user.number), ('T-2', 'T-3'))

    def attachment_values(self, ticket, name, content):
        return {'name': name, 'datas': base64.b64encode(content), 'type': 'binary', 'datas_fname': name,
                'description': name, 'res_model': 'helpdesk.ticket', 'res_id': ticket.id}

    def test_attachments_written_as_rows_are_those_create_makes(self):
        """Every column of ``create``'s (content type, size, checksum, index, the file, the record's name), the
        content read back, in order."""
        ticket = self.env['helpdesk.ticket'].create({'name': 'Adjuntos', 'description': 'x'})
        Attachment = self.env['ir.attachment']
        by_orm = Attachment.create(self.attachment_values(ticket, 'notas.txt', b'Hola, adjunto las notas.'))
        with patch.object(models.BaseModel, 'create', side_effect=AssertionError('through the ORM')):
            by_rows = Attachment._postcenter_create_rows([
                self.attachment_values(ticket, 'notas.txt', b'Hola, adjunto las notas.'),
                self.attachment_values(ticket, 'foto.png', PNG)])
        self.assertEqual(len(by_rows), 2)
        self.assertLess(by_rows[0].id, by_rows[1].id, 'in order')
        self.assertEqual(self.row('ir_attachment', by_rows[0].id), self.row('ir_attachment', by_orm.id))
        self.assertEqual(by_rows[0].index_content, 'Hola, adjunto las notas.')
        self.assertTrue(by_rows[1].store_fname, 'in the filestore')
        self.assertEqual((by_rows[1].mimetype, by_rows[1].file_size, by_rows[1].res_name),
                         ('image/png', len(PNG), ticket.display_name))
        by_rows.invalidate_cache()
        self.assertEqual(base64.b64decode(by_rows[1].datas), PNG, 'the content read back from its file')

    def test_attachments_go_through_create_when_rows_would_not_be_create(self):
        """Another module's ``create`` or ``datas`` inverse, another user, an empty content: None, nothing
        written, for the ORM to create them."""
        ticket = self.env['helpdesk.ticket'].create({'name': 'Adjuntos', 'description': 'x'})
        Attachment = self.env['ir.attachment']
        values = [self.attachment_values(ticket, 'a.txt', b'contenido')]
        self.env.cr.execute('SELECT count(*) FROM ir_attachment')
        count = self.env.cr.fetchone()[0]
        with patch.object(rows, 'plain_create', return_value=False):
            self.assertIsNone(Attachment._postcenter_create_rows(values))
        with patch.object(rows, 'plain_method', return_value=False):
            self.assertIsNone(Attachment._postcenter_create_rows(values))
        user = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Agente', 'login': 'pc_rows_agent', 'email': 'agente@x.example',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_user').id])]})
        self.assertIsNone(Attachment.sudo(user)._postcenter_create_rows(values))
        self.assertIsNone(Attachment._postcenter_create_rows(
            values + [self.attachment_values(ticket, 'vacio.txt', b'')]))
        self.env.cr.execute('SELECT count(*) FROM ir_attachment')
        self.assertEqual(self.env.cr.fetchone()[0], count)

    def test_an_incoming_emails_attachments_are_rows_but_inline_images(self):
        """An email the addon receives: its attachments as rows, after those given by id; with an inline image its
        body refers to, Odoo's own path (it rewrites the body); any other message, Odoo's own path."""
        ticket = self.env['helpdesk.ticket'].create({'name': 'Adjuntos', 'description': 'x'})
        given = self.env['ir.attachment'].create(self.attachment_values(ticket, 'dado.txt', b'dado por id'))
        data = {'model': 'helpdesk.ticket', 'res_id': ticket.id, 'body': '<p>x</p>'}
        incoming = ticket.with_context(postcenter_incoming=True)
        with patch.object(models.BaseModel, 'create', side_effect=AssertionError('through the ORM')):
            commands = incoming._message_post_process_attachments(
                [('a.txt', 'texto'), ('b.png', PNG), ('nada.txt', None)], [given.id], dict(data))
        created = self.env['ir.attachment'].browse([command[1] for command in commands[1:]])
        self.assertEqual(commands[0], (4, given.id))
        self.assertEqual(created.mapped('name'), ['a.txt', 'b.png'], 'in order, none for no content')
        self.assertEqual(base64.b64decode(created[0].datas), b'texto')
        for context, attachments in ((incoming, [('c.png', PNG, {'cid': 'img1'})]), (ticket, [('d.txt', b'd')])):
            with patch.object(type(self.env['ir.attachment']), '_postcenter_create_rows',
                              side_effect=AssertionError('as rows')):
                commands = context._message_post_process_attachments(attachments, [], dict(data))
            self.assertEqual(len(commands), 1)
