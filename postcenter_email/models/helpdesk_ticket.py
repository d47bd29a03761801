from email.utils import formataddr

from odoo import _, api, fields, models, tools
from odoo.tools.safe_eval import safe_eval

from ..services import conversation


class HelpdeskTicket(models.Model):
    """Tickets of the Email channel: which account they came by, and how they are flagged."""

    _inherit = 'helpdesk.ticket'

    email_account_id = fields.Many2one('postcenter.email.account', string='Email Account', readonly=True,
                                       index=True, ondelete='restrict',
                                       help='The email account this ticket came in by.')
    is_important = fields.Boolean(string='Important', index=True, track_visibility='onchange',
                                  help='Set when the email contained one of the important keywords of its '
                                       'account; agents can change it.')
    important_keywords = fields.Char(string='Important Keywords Found', readonly=True)
    is_ignored = fields.Boolean(string='Ignored', index=True, track_visibility='onchange',
                                help='Ignored tickets are out of the default view of the agents.')

    failed_mail_count = fields.Integer(compute='_compute_failed_mail_count', string='Failed Emails')

    @api.multi
    def _compute_failed_mail_count(self):
        Mail = self.env['mail.mail'].sudo()
        for ticket in self:
            ticket.failed_mail_count = Mail.search_count([
                ('model', '=', 'helpdesk.ticket'), ('res_id', '=', ticket.id), ('state', '=', 'exception')])

    @api.multi
    def action_resend_failed(self):
        """Queue again, at once, the replies of the ticket that could not be sent."""
        mails = self.env['mail.mail'].sudo().search([
            ('model', '=', 'helpdesk.ticket'), ('res_id', 'in', self.ids), ('state', '=', 'exception')])
        mails.write({'state': 'outgoing', 'postcenter_attempts': 0, 'scheduled_date': False})
        return True

    @api.multi
    def postcenter_backend_url(self):
        """Address of the ticket in the web client (for notices)."""
        self.ensure_one()
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        return '%s/web#id=%d&model=helpdesk.ticket&view_type=form' % (base, self.id)

    @api.multi
    def message_get_email_values(self, notif_mail=None):
        """Replies on an Email-channel ticket leave as its account: from the account's name and address through
        its own SMTP server, or from the platform's no-reply address with Reply-To the account (default
        method); with References to the conversation, so the customer's mail client threads them."""
        values = super().message_get_email_values(notif_mail)
        account = self.email_account_id.sudo()
        if not account:
            return values
        mailbox = formataddr((account.name, account.email))
        if account.send_method == 'smtp' and account.mail_server_id:
            values.update(email_from=mailbox, reply_to=mailbox, mail_server_id=account.mail_server_id.id)
        else:
            values.update(email_from=formataddr((account.name, account._validation_sender())), reply_to=mailbox)
        references = self.env['postcenter.email.receipt'].sudo().search(
            [('ticket_id', '=', self.id), ('status', 'in', ('ticket', 'reply'))], order='id desc', limit=10
        ).mapped('message_key')
        if references:
            values['references'] = ' '.join(reversed(references))
            headers = safe_eval(values.get('headers') or '{}')
            headers['In-Reply-To'] = references[0]
            values['headers'] = repr(headers)
        return values

    # ------------------------------------------------------------------
    # Email channel (called by postcenter.email.receipt)
    # ------------------------------------------------------------------

    @api.model
    def _postcenter_open(self, account, parsed, partner):
        """A new ticket for a customer's first email of a conversation."""
        found = self.env['postcenter.email.receipt']._important_keywords(account, parsed)
        values = {
            'name': (parsed.get('subject') or '').strip()[:500] or _('(No subject)'),
            'description': parsed.get('body'),
            'partner_id': partner.id,
            'partner_name': partner.name,
            'partner_email': partner.email,
            'channel_id': self.env.ref('helpdesk_mgmt.helpdesk_ticket_channel_email').id,
            'team_id': account.team_id.id,
            'company_id': account.company_id.id,
            'email_account_id': account.id,
            'is_ignored': account.create_ignored,
            'is_important': bool(found),
            'important_keywords': ', '.join(found),
        }
        if partner:  # the customer follows the ticket (set at creation: cheaper than message_subscribe)
            values['message_follower_ids'] = self.env['mail.followers']._add_follower_command(
                self._name, [], {partner.id: None}, {})[0]
        ticket = self.with_context(tracking_disable=True).create(values)
        ticket._postcenter_add_email(parsed, partner, notify=False)
        account._notify_new_ticket(ticket)
        return ticket

    @api.multi
    def _postcenter_add_email(self, parsed, partner, notify=True):
        """Post the customer's email in the chatter, as Odoo's mail gateway would; reopen a closed ticket.

        ``notify=False`` (a ticket just opened, followed by its customer alone, the author) skips
        working out followers to notify: there is nobody.
        """
        self.ensure_one()
        if self.stage_id.closed:
            self._postcenter_reopen()
        extra = {'date': parsed['date']} if parsed.get('date') else {}
        context = {'mail_create_nosubscribe': True}
        if not notify:
            context['message_create_from_mail_mail'] = True  # mail.message.create's switch for "no _notify"
        self.with_context(**context).message_post(
            body=parsed.get('body') or '', subject=parsed.get('subject'), message_type='email',
            subtype='mail.mt_comment', author_id=partner.id, email_from=parsed.get('email_from'),
            message_id=parsed['message_id'], attachments=parsed.get('attachments') or [],
            reply_to=parsed.get('reply_to') or parsed.get('email_from'), record_name=self.name, **extra)

    @api.multi
    def _postcenter_reopen(self):
        """Back to the first open stage."""
        stage = self.env['helpdesk.ticket.stage'].search([('closed', '=', False)], limit=1)
        if stage:
            self.write({'stage_id': stage.id})

    @api.model
    def _postcenter_by_number(self, account, subject):
        """The ticket of ``account`` whose number (e.g. HT00042) the subject quotes, if any."""
        sequence = self.env['ir.sequence'].sudo().search([('code', '=', 'helpdesk.ticket.sequence')], limit=1)
        numbers = conversation.ticket_numbers(subject, sequence.prefix)
        if not numbers:
            return self.browse()
        return self.search([('number', 'in', numbers), ('email_account_id', '=', account.id)], limit=1)

    @api.multi
    def _note_bounce(self, message):
        """A delivery failure, as an internal note on the ticket it is about."""
        self.ensure_one()
        details = ''
        for part in message.walk():
            if part.get_content_type() == 'text/plain':
                payload = part.get_payload(decode=True) or b''
                details = tools.ustr(payload, part.get_content_charset() or 'utf-8', errors='replace')[:3000]
                break
        body = '<p>%s</p><pre>%s</pre>' % (
            tools.html_escape(_('An email of this ticket could not be delivered. The mail server said:')),
            tools.html_escape(details))
        self.message_post(body=body, message_type='comment', subtype='mail.mt_note', author_id=False)
