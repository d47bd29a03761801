import base64
import xmlrpc.client

from odoo import SUPERUSER_ID, api, models

from ..services import rfc822

RECIPIENT_HEADERS = ('Delivered-To', 'X-Original-To', 'Envelope-To', 'To', 'Cc')


class MailThread(models.AbstractModel):
    """Odoo's mail gateway (an MTA piping to the mailgate script) routes forwarding addresses to their account."""

    _inherit = 'mail.thread'

    @api.model
    def message_process(self, model, message, custom_values=None, save_original=False, strip_attachments=False,
                        thread_id=None):
        """Mail for a forwarding address goes through the Email channel's pipeline, exactly like mail that
        reaches the inbound SMTP server; anything else is Odoo's as usual."""
        raw = bytes(message.data) if isinstance(message, xmlrpc.client.Binary) else message
        raw = raw.encode('utf-8') if isinstance(raw, str) else raw
        addresses = [address for _name, address in rfc822.addresses(rfc822.load(raw), *RECIPIENT_HEADERS)]
        Account = self.env['postcenter.email.account'].sudo()
        if Account._forwarding_accounts(addresses):
            return (Account._store_forwarded(addresses, raw) or [False])[0]
        return super().message_process(model, message, custom_values=custom_values, save_original=save_original,
                                       strip_attachments=strip_attachments, thread_id=thread_id)

    def _message_post_process_attachments(self, attachments, attachment_ids, message_data):
        """Odoo's attachments of a new message. Those of an email the addon receives (``postcenter_incoming``) are
        created together as rows (``ir.attachment._postcenter_create_rows``) when none is an inline image its body
        refers to (Odoo rewrites the body for those): the same attachments, in the same order."""
        if attachments and self.env.context.get('postcenter_incoming'):
            values_list = self._postcenter_attachment_values(attachments, message_data)
            created = self.env['ir.attachment']._postcenter_create_rows(values_list) if values_list else None
            if created is not None:
                return super()._message_post_process_attachments([], attachment_ids, message_data) + \
                    [(4, attachment.id) for attachment in created]
        return super()._message_post_process_attachments(attachments, attachment_ids, message_data)

    @api.model
    def _postcenter_attachment_values(self, attachments, message_data):
        """The values Odoo's ``_message_post_process_attachments`` creates each of ``attachments`` with (``(name,
        content)`` or ``(name, content, info)``; those without content left out, as there); None when one is an
        inline image (``info`` with a ``cid``)."""
        values_list = []
        for attachment in attachments:
            if len(attachment) not in (2, 3):
                continue
            name, content = attachment[:2]
            if len(attachment) == 3 and attachment[2] and attachment[2].get('cid'):
                return None
            if content is None:
                continue
            if isinstance(content, str):
                content = content.encode('utf-8')
            values_list.append({'name': name, 'datas': base64.b64encode(content), 'type': 'binary',
                                'datas_fname': name, 'description': name, 'res_model': message_data['model'],
                                'res_id': message_data['res_id']})
        return values_list

    @api.model
    def _postcenter_posts_plainly(self):
        """Whether ``message_post`` of this model is mail's own and the context asks it for nothing more than
        writing the message (as superuser: no access rule hides a thread's messages), so that
        ``_postcenter_post_unnotified`` gives the same messages."""
        context = self.env.context
        if self.env.uid != SUPERUSER_ID or not self._mail_flat_thread or context.get('mail_save_message_last_post') \
                or context.get('thread_model') or context.get('mail_post_autofollow'):
            return False
        return all(getattr(cls, '_module', None) == 'mail' for cls in type(self).__mro__
                   if 'message_post' in cls.__dict__)

    @api.model
    def _postcenter_post_unnotified(self, posts):
        """``record.message_post(**kwargs)`` for each ``(record, kwargs)`` of ``posts`` (one post per record) whose
        message nobody is to be told of, the messages written together (``mail.message._postcenter_create_unnotified``)
        with the values ``message_post`` gives them: the default author when none is given, the subtype (internal
        note by default), the thread's first message as parent, the attachments stored on the record; then each
        record's post hook. Only for what ``message_post`` would do nothing more with (the caller checks
        ``_postcenter_posts_plainly``): no recipients, no parent given, HTML content, authors not subscribed.
        Returns the messages, in order."""
        Message = self.env['mail.message']
        if not posts:
            return Message.browse()
        assert len({record.id for record, _kwargs in posts}) == len(posts), 'one post per record'
        parents = self._postcenter_first_messages([record.id for record, _kwargs in posts])
        values_list = []
        for record, kwargs in posts:
            values = dict(kwargs)
            assert not values.get('partner_ids') and not values.get('parent_id'), 'no recipients, no parent'
            assert values.get('message_type', 'notification') == 'notification' or \
                self.env.context.get('mail_create_nosubscribe'), 'message_post would subscribe the author'
            if values.get('author_id') is None:
                values['author_id'] = Message._get_default_author().id
            subtype = values.pop('subtype', None) or 'mt_note'
            attachments = values.pop('attachments', None) or []
            attachment_ids = values.pop('attachment_ids', None) or []
            values.update({
                'model': self._name, 'res_id': record.id, 'body': values.get('body') or '',
                'subject': values.get('subject') or False,
                'message_type': values.get('message_type') or 'notification',
                'parent_id': parents.get(record.id, False), 'partner_ids': [],
                'subtype_id': values.get('subtype_id') or self.env['ir.model.data'].xmlid_to_res_id(
                    subtype if '.' in subtype else 'mail.%s' % subtype),
            })
            values['attachment_ids'] = record._message_post_process_attachments(attachments, attachment_ids, values)
            for key in ('from', 'to', 'cc'):
                values.pop(key, None)
            values_list.append(values)
        messages = Message._postcenter_create_unnotified(values_list)
        for (record, _kwargs), message in zip(posts, messages):
            record._message_post_after_hook(message)
        return messages

    @api.model
    def _postcenter_first_messages(self, ids):
        """``{record id: id of its thread's first message}``, the parent that ``message_post`` gives a new message
        of a flat thread: the first email, else the first message (one query for all of ``ids``)."""
        self.env.cr.execute("""
            SELECT DISTINCT ON (res_id) res_id, id FROM mail_message
             WHERE model = %s AND res_id IN %s
             ORDER BY res_id, message_type != 'email', id""", (self._name, tuple(ids)))
        return dict(self.env.cr.fetchall())
