from odoo import fields, models


class MailMail(models.Model):
    """Whether the helpdesk managers were told that this email failed for good (they are told once per email,
    by ``helpdesk.ticket._postcenter_reply_failed_for_good``)."""

    _inherit = 'mail.mail'

    postcenter_failure_told = fields.Boolean(string='Managers Told of the Failure', readonly=True, copy=False)
