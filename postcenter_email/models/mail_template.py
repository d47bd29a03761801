import re

from odoo import api, models

from odoo.addons.mail.models import mail_template as core

from ..services import templates
from . import rows

# what a template reaches the record's related records by: ${object.partner_id.lang}
OBJECT_FIELD = re.compile(r'\bobject\.(\w+)')
RENDERED_FIELDS = ['subject', 'body_html', 'email_from', 'email_to', 'partner_to', 'email_cc', 'reply_to',
                   'scheduled_date', 'lang']

# Odoo's two Jinja environments of mail templates (escaping and not): compiled templates reused inside ``reusing``
for _environment in (core.mako_template_env, core.mako_safe_template_env):
    templates.install(_environment)


class MailTemplate(models.Model):
    """Templates are compiled once per text and reused: Odoo 11 compiles the text of a template for every email it
    renders (each notification, each automatic email)."""

    _inherit = 'mail.template'

    @api.model
    def render_template(self, template_txt, model, res_ids, post_process=False):
        """Odoo's rendering, with the compiled template of the same text reused (``services.templates``): the same
        output, without compiling it again."""
        with templates.reusing():
            return super().render_template(template_txt, model, res_ids, post_process=post_process)

    @api.multi
    def generate_recipients(self, results, res_ids):
        """Odoo's recipients, with the partners of every record's ``partner_to`` checked to exist in one query for
        all the records rendered together (Odoo checks them with a query per record). Each record keeps its own
        partners that exist, once each (by id; Odoo's order is the database's, and the email's recipients are a
        set); the rest is Odoo's (``super``), which then finds no ``partner_to`` left to check. With another
        module's override of this method, each record is checked on its own, as Odoo does."""
        if len(results) < 2 or self.use_default_to or self._context.get('tpl_force_default_to') \
                or self._context.get('tpl_partners_only') \
                or not rows.plain_method(self, 'generate_recipients', {'mail', 'postcenter_email'}):
            return super().generate_recipients(results, res_ids)
        wanted = {}
        for res_id, values in results.items():
            # placeholders could generate '', 3, 2 due to some empty field values (as Odoo reads them)
            wanted[res_id] = [int(pid) for pid in (values.pop('partner_to', '') or '').split(',') if pid]
        every = {pid for pids in wanted.values() for pid in pids}
        existing = set(self.env['res.partner'].sudo().browse(sorted(every)).exists().ids) if every else set()
        for res_id, values in results.items():
            values['partner_ids'] = values.get('partner_ids', list()) + sorted(set(wanted[res_id]) & existing)
        return super().generate_recipients(results, res_ids)

    @api.multi
    def _postcenter_send_mails(self, res_ids):
        """``send_mail`` for each of ``res_ids`` (queued, not sent), the template rendered for them all at once: one
        ``generate_email`` of the records together reads them together and renders each field's text once per
        record, where ``send_mail`` record by record reads each record again. The same emails, recipients and
        attachments as ``send_mail`` gives each record; returns the ``mail.mail`` ids, in the order of ``res_ids``."""
        self.ensure_one()
        if not res_ids:
            return []
        Mail = self.env['mail.mail']
        Attachment = self.env['ir.attachment']
        self._postcenter_read_related(res_ids)
        generated = self.generate_email(list(res_ids))
        plain, with_files = [], []
        for res_id in res_ids:
            values = generated[res_id]
            values['recipient_ids'] = [(4, pid) for pid in values.get('partner_ids', list())]
            if 'email_from' in values and not values.get('email_from'):
                values.pop('email_from')
            if values.get('attachment_ids') or values.get('attachments'):
                with_files.append(res_id)
            else:
                values.pop('attachment_ids', None)
                values.pop('attachments', None)
                plain.append(res_id)
        # the emails without attachments written together, the others one by one (as send_mail); ids in order
        mail_ids = dict(zip(plain, Mail._postcenter_create_queued([generated[res_id] for res_id in plain]).ids))
        for res_id in with_files:
            values = generated[res_id]
            attachment_ids = values.pop('attachment_ids', [])
            attachments = values.pop('attachments', [])
            mail = Mail.create(values)
            for name, data in attachments:
                attachment_ids.append(Attachment.create({
                    'name': name, 'datas_fname': name, 'datas': data, 'type': 'binary',
                    'res_model': 'mail.message', 'res_id': mail.mail_message_id.id}).id)
            if attachment_ids:
                mail.write({'attachment_ids': [(6, 0, attachment_ids)]})
            mail_ids[res_id] = mail.id
        return [mail_ids[res_id] for res_id in res_ids]

    @api.multi
    def _postcenter_read_related(self, res_ids):
        """Read at once the records the template reaches from ``res_ids`` (``object.partner_id``...), so that
        rendering them does not read them one by one: each render browses the records anew, knowing none of the
        others' related records. A reading ahead only: what is rendered does not change."""
        records = self.env[self.model].browse(res_ids)
        text = ' '.join(self[name] or '' for name in RENDERED_FIELDS)
        for name in sorted(set(OBJECT_FIELD.findall(text))):
            field = records._fields.get(name)
            if field is None or field.type != 'many2one':
                continue
            related = records.mapped(name)
            if related:  # their rows, in one read
                rows.read_rows(related)
