import contextlib

from odoo import SUPERUSER_ID, api, models

from odoo.addons.mail.models.mail_message import _image_dataurl

from . import rows

# the modules whose ``create`` of these models ``_postcenter_create_unnotified`` does the work of
KNOWN_CREATE = {'mail.message': {'mail'}, 'mail.tracking.value': set()}


class MailMessage(models.Model):
    """Messages that nobody is to be told of, written as rows (the auto-close's tracking notes and stage emails, a
    new ticket's first email); the record cache kept through the notifications of the addon's batches."""

    _inherit = 'mail.message'

    @api.multi
    def _notify(self, force_send=False, send_after_commit=True, user_signature=True):
        """Odoo's notification of the message's recipients, which ends by emptying the whole record cache when the
        message has a parent (parent and child messages change which messages a user may read). Inside one of the
        addon's batches (a fetched batch, a forwarded email, the auto-close: ``postcenter_notify_later`` in the
        context) run as the superuser, whom no record rule restricts, only the messages' own cache is emptied
        (``invalidate_cache``): nothing else cached can depend on those links, and the tickets, accounts and
        partners of the rest of the batch are not read all over again after every reply."""
        message = self
        if self.env.uid == SUPERUSER_ID and self.env.context.get('postcenter_notify_later') is not None:
            message = self.with_context(postcenter_messages_cache_only=True)
        return super(MailMessage, message)._notify(force_send=force_send, send_after_commit=send_after_commit,
                                                   user_signature=user_signature)

    @api.multi
    def _invalidate_documents(self):
        """Odoo empties the whole cache of a new message's record. Inside one of the addon's batches run as the
        superuser (see ``_notify``), only what a new message changes of it is emptied
        (``_postcenter_invalidate_threads``: its messages, followers' needs and what is computed from them), never
        its row's columns: a reply's ticket is then not read again, whole, for its company and its account while
        its followers are told."""
        if self.env.uid == SUPERUSER_ID and self.env.context.get('postcenter_notify_later') is not None:
            self._postcenter_invalidate_threads([{'model': message.model, 'res_id': message.res_id}
                                                 for message in self])
            return
        super()._invalidate_documents()

    @api.model
    def invalidate_cache(self, fnames=None, ids=None):
        """Odoo's cache invalidation; the whole cache asked for at the end of ``_notify`` inside one of the addon's
        batches (see there) is narrowed to the messages' fields."""
        if fnames is None and ids is None and self.env.context.get('postcenter_messages_cache_only'):
            return super().invalidate_cache(fnames=list(self._fields))
        return super().invalidate_cache(fnames=fnames, ids=ids)

    @api.model
    def _postcenter_create_unnotified(self, values_list):
        """``create(values)`` for each of ``values_list`` with ``message_create_from_mail_mail`` (nobody notified:
        Odoo's switch for the message of an email), in a few statements for them all: the same defaults, Message-ID,
        Reply-To and record name as ``create`` works out, the tracking values written as superuser, the threads'
        caches emptied. Returns the messages, in order. Through the ORM, one by one, when another module overrides
        the ``create`` of messages or of tracking values, or when a value needs more than rows (an image in the
        body to store apart, a translated field...)."""
        if not values_list:
            return self.browse()
        completed = None
        if self._postcenter_plain():
            completed = [self._postcenter_completed(values) for values in values_list]
        if completed is None or any(values is None for values in completed):
            return self._postcenter_create_one_by_one(values_list)
        self._postcenter_fill_names_and_reply_to(completed)
        # the messages' rows are refused before anything is written; their tracking values, after: a savepoint then
        tracked = any(values.get('tracking_value_ids') for values in completed)
        try:
            with self.env.cr.savepoint() if tracked else contextlib.ExitStack():
                messages = rows.insert(self, completed)
        except rows.NotPlain:
            return self._postcenter_create_one_by_one(values_list)
        self._postcenter_invalidate_threads(completed)
        return messages

    @api.model
    def _postcenter_invalidate_threads(self, values_list):
        """What ``_invalidate_documents`` empties for new messages, but the threads' own columns: a new message
        changes their messages, followers' needs and whatever is computed from them, never a column of the record's
        row, which stays cached (a batch of threads is not read again after its messages are written)."""
        for model in {values.get('model') for values in values_list if values.get('model')}:
            Model = self.env[model]
            Model.invalidate_cache(
                fnames=[name for name, field in Model._fields.items() if not (field.store and field.column_type)],
                ids=[values['res_id'] for values in values_list
                     if values.get('model') == model and values.get('res_id')])

    @api.model
    def _postcenter_create_one_by_one(self, values_list):
        """Odoo's own path for each message."""
        Message = self.with_context(message_create_from_mail_mail=True)
        return self.browse([Message.create(dict(values)).id for values in values_list])

    @api.model
    def _postcenter_plain(self):
        """Whether only the ``create`` overrides this method repeats are installed (and no context default that
        ``create`` would act on)."""
        context = self.env.context
        return not context.get('default_starred') and all(
            rows.plain_create(self.env[model], modules) for model, modules in KNOWN_CREATE.items())

    @api.model
    def _postcenter_completed(self, values):
        """``values`` completed as ``create`` does before writing (the sender's address, the Message-ID); None when
        ``create`` would do more (an image in the body to store apart)."""
        values = dict(values)
        if values.get('body') and _image_dataurl.search(values['body']):
            return None
        if 'email_from' not in values:
            values['email_from'] = self._get_default_from()
        if not values.get('message_id'):
            values['message_id'] = self._get_message_id(values)
        values.setdefault('attachment_ids', [])
        return values

    @api.model
    def _postcenter_fill_names_and_reply_to(self, values_list):
        """The record names (one ``name_get`` per model, as superuser, as ``_get_record_name``) and the Reply-To
        addresses (``_get_reply_to``) that ``create`` would work out, for those of ``values_list`` without them."""
        context = self.env.context
        naming = 'default_record_name' not in context  # else create leaves the name to that default
        unnamed = {}
        if naming:
            for values in values_list:
                if 'record_name' not in values:
                    model = values.get('model', context.get('default_model'))
                    res_id = values.get('res_id', context.get('default_res_id'))
                    if model and res_id and model in self.env:
                        unnamed.setdefault(model, set()).add(res_id)
                    else:
                        values['record_name'] = False
        names = {}
        for model, res_ids in unnamed.items():
            names.update({(model, res_id): name for res_id, name in
                          self.env[model].sudo(SUPERUSER_ID).browse(sorted(res_ids)).name_get()})
        for values in values_list:
            if naming and 'record_name' not in values:
                values['record_name'] = names[(values.get('model', context.get('default_model')),
                                               values.get('res_id', context.get('default_res_id')))]
            if 'reply_to' not in values:
                values['reply_to'] = self._get_reply_to(values)
