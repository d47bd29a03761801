import xmlrpc.client

from odoo import api, models

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
