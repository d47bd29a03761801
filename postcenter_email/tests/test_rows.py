"""Records created together (``models/rows.py``) hold what ``create`` would have written, column by column."""
from odoo.tests.common import TransactionCase

from odoo.addons.postcenter_email.models import rows

VOLATILE = {'id', 'create_date', 'write_date', 'date', 'message_id'}


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
