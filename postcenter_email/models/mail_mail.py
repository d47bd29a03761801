import datetime

from odoo import _, api, fields, models, tools

from ..services import smtp

MAX_ATTEMPTS = 5


class MailMail(models.Model):
    """Replies of Email-channel tickets that fail to leave are retried with backoff, and the ticket says why."""

    _inherit = 'mail.mail'

    postcenter_attempts = fields.Integer(string='Sending Attempts', readonly=True, copy=False)

    @api.multi
    def write(self, vals):
        """Odoo marks a mail that could not be sent as 'exception': for a reply of an Email-channel ticket,
        keep it queued with a later time instead (until it has failed ``MAX_ATTEMPTS`` times) and note the
        reason, in plain words, on the ticket."""
        if vals.get('state') != 'exception':
            return super().write(vals)
        replies = self.filtered(lambda mail: mail._postcenter_ticket())
        if self - replies:
            super(MailMail, self - replies).write(vals)
        for mail in replies:
            mail._postcenter_failed(vals)
        return True

    @api.multi
    def _postcenter_ticket(self):
        message = self.mail_message_id
        if message.model != 'helpdesk.ticket' or not message.res_id:
            return self.env['helpdesk.ticket']
        ticket = self.env['helpdesk.ticket'].sudo().browse(message.res_id).exists()
        return ticket if ticket.email_account_id else self.env['helpdesk.ticket']

    @api.multi
    def _postcenter_failed(self, vals):
        reason = vals.get('failure_reason')
        plain = self._postcenter_plain_reason(reason)
        attempts = self.postcenter_attempts + 1
        values = dict(vals, failure_reason=plain, postcenter_attempts=attempts)
        ticket = self._postcenter_ticket()
        if attempts < MAX_ATTEMPTS:
            when = datetime.datetime.utcnow() + datetime.timedelta(minutes=smtp.retry_delay_minutes(attempts))
            values.update(state='outgoing', scheduled_date=fields.Datetime.to_string(when))
            note = _('An email to the customer could not be sent: %s It will be tried again at %s (UTC).') % (
                plain, values['scheduled_date'])
        else:
            note = _('An email to the customer could not be sent after %s attempts: %s Fix the cause, then use '
                     '"Resend Failed Emails" on the ticket.') % (attempts, plain)
        super(MailMail, self).write(values)
        ticket.message_post(body='<p>%s</p>' % tools.html_escape(note), message_type='comment',
                            subtype='mail.mt_note', author_id=False)

    @api.model
    def _postcenter_plain_reason(self, reason):
        messages = {
            'auth': _('the mail server rejected the user name or password.'),
            'tls': _('the secure connection (SSL/TLS) with the mail server failed; check the encryption and port.'),
            'refused': _('the mail server refused the connection; check the server and port.'),
            'timeout': _('the mail server did not answer in time.'),
            'dns': _('the mail server name could not be found.'),
            'recipient': _('the mail server refused the recipient address.'),
        }
        kind = smtp.failure_kind(reason)
        return messages.get(kind) or _('the mail server answered: %s.') % tools.ustr(reason or '').strip()
