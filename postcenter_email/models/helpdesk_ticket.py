import logging
from email.utils import formataddr

from odoo import SUPERUSER_ID, _, api, fields, models, tools
from odoo.tools.safe_eval import safe_eval

from ..services import conversation, timing
from . import rows

_logger = logging.getLogger(__name__)

AUTOMATIC_HEADERS = {'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All'}


class HelpdeskTicket(models.Model):
    """Tickets of the Email channel: which account they came by, and how they are flagged."""

    _inherit = 'helpdesk.ticket'

    email_account_id = fields.Many2one('postcenter.email.account', readonly=True,
                                       index=True, ondelete='restrict',
                                       help='The email account this ticket came in by.')
    is_important = fields.Boolean(string='Important', index=True, track_visibility='onchange',
                                  help='Set when the email contained one of the important keywords of its '
                                       'account; agents can change it.')
    important_keywords = fields.Char(string='Important Keywords Found', readonly=True)
    is_ignored = fields.Boolean(string='Ignored', index=True, track_visibility='onchange',
                                help='Ignored tickets are out of the default view of the agents.')

    failed_mail_count = fields.Integer(compute='_compute_failed_mail_count', string='Failed Emails')

    # -- Service times (the scheduled actions look only at the deadlines that have passed) ------------
    customer_waiting_since = fields.Datetime(
        readonly=True, copy=False,
        help='When the oldest customer email that no agent has answered yet arrived.')
    sla_deadline = fields.Datetime(
        string='Answer Due By', readonly=True, copy=False,
        help="When the customer's email becomes late: its arrival plus the account's response time (SLA).")
    is_late = fields.Boolean(
        string='Late', readonly=True, copy=False,
        help='The customer has waited longer than the response time (SLA) of the account for an agent\'s answer. '
             'An answer from an agent clears it.')
    agent_waiting_since = fields.Datetime(
        string='Waiting for the Customer Since', readonly=True, copy=False,
        help="When an agent last answered; the ticket waits for the customer's reply.")
    autoclose_deadline = fields.Datetime(
        string='Closes Automatically On', readonly=True, copy=False,
        help='Without an answer from the customer by then, the ticket is closed automatically.')

    @api.model_cr
    def init(self):
        """Indexes of the due-only look-ups: the scheduled actions read the tickets whose deadline has passed
        and nothing else; and the "new customer" check."""
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS helpdesk_ticket_postcenter_sla_due_idx
                ON helpdesk_ticket (sla_deadline) WHERE sla_deadline IS NOT NULL AND is_late IS NOT TRUE""")
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS helpdesk_ticket_postcenter_autoclose_due_idx
                ON helpdesk_ticket (autoclose_deadline) WHERE autoclose_deadline IS NOT NULL""")
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS helpdesk_ticket_postcenter_account_partner_idx
                ON helpdesk_ticket (email_account_id, partner_id) WHERE email_account_id IS NOT NULL""")
        return super().init()

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
        mails.write({'state': 'outgoing', 'postcenter_attempts': 0, 'scheduled_date': False,
                     'postcenter_sending_since': False})
        return True

    @api.multi
    def postcenter_backend_url(self):
        """Address of the ticket in the web client (for notices)."""
        self.ensure_one()
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        return '%s/web#id=%d&model=helpdesk.ticket&view_type=form' % (base, self.id)

    @api.multi
    def _postcenter_reply_failed_for_good(self, mail, reason_text):
        """An email of this ticket to the customer (``mail``, a ``mail.mail``) has failed for good: it will not be
        tried again by itself. Tell the helpdesk managers, once for that email (a second call tells nobody), by
        email in their language: the ticket, the customer's address and ``reason_text`` (plain words; when it is
        one of this addon's sentences, in the manager's language too). Returns the alert emails."""
        self.ensure_one()
        mail.ensure_one()
        self.env.cr.execute("""UPDATE mail_mail SET postcenter_failure_told = true
                                WHERE id = %s AND postcenter_failure_told IS NOT TRUE RETURNING id""", (mail.id,))
        if not self.env.cr.fetchone():
            return self.env['mail.mail']
        mail.invalidate_cache(['postcenter_failure_told'], mail.ids)
        mail = mail.sudo()
        addresses = tools.email_split(mail.email_to or '') + mail.recipient_ids.mapped('email')
        customer = ', '.join(sorted(set(address for address in addresses if address))) or self.partner_email or ''
        return self.env['postcenter.email.alert']._tell_managers(
            'postcenter_email.mail_template_reply_failed', self,
            lambda ticket: {'postcenter_customer': customer, 'postcenter_reason': ticket._postcenter_translated(
                reason_text or '')})

    @api.model
    def _postcenter_translated(self, text):
        """``text`` in the context's language when it is one of the addon's own sentences, else as it is."""
        lang = self.env.context.get('lang')
        if not text or not lang or lang == 'en_US':
            return text
        return self.env['ir.translation']._get_source(None, ('code',), lang, text) or text

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
        headers = safe_eval(values.get('headers') or '{}')
        if references:
            values['references'] = ' '.join(reversed(references))
            headers['In-Reply-To'] = references[0]
        if notif_mail and notif_mail.subtype_id == self.env.ref('postcenter_email.mt_autoreply'):
            headers.update(AUTOMATIC_HEADERS)  # RFC 3834: other robots must not answer it
        if headers:
            values['headers'] = repr(headers)
        return values

    # ------------------------------------------------------------------
    # Email channel (called by postcenter.email.receipt)
    # ------------------------------------------------------------------

    @api.model
    def _postcenter_open(self, account, parsed, partner):
        """A new ticket for a customer's first email of a conversation."""
        found = self.env['postcenter.email.receipt']._important_keywords(account, parsed)
        settings = account._ingest_settings()
        customer = partner._postcenter_name_and_email() if partner else {}
        values = {
            'name': (parsed.get('subject') or '').strip()[:500] or _('(No subject)'),
            'description': parsed.get('body'),
            'partner_id': partner.id,
            'partner_name': customer.get('name', False),
            'partner_email': customer.get('email', False),
            'channel_id': self.env['ir.model.data'].xmlid_to_res_id('helpdesk_mgmt.helpdesk_ticket_channel_email'),
            'team_id': settings.team_id,
            'company_id': settings.company_id,
            'email_account_id': account.id,
            'is_ignored': settings.create_ignored,
            'is_important': bool(found),
            'important_keywords': ', '.join(found),
        }
        values.update(self._postcenter_response_clock(account, fields.Datetime.now()))
        values.update(self._postcenter_stage_and_number(settings.company_id))
        if partner:  # the customer follows the ticket (set at creation: cheaper than message_subscribe)
            values['message_follower_ids'] = [(0, 0, self._postcenter_follower_values(partner))]
        ticket = self._postcenter_create(values)
        ticket._postcenter_add_email(parsed, partner, notify=False, opened=values)
        account._notify_new_ticket(ticket)
        return ticket

    @api.model
    def _postcenter_create(self, values):
        """``create(values)`` with ``tracking_disable``, for a ticket the Email channel opens: written as one row with
        its follower line (``rows.insert``: what ``create`` writes, the ticket put in the cache as reading it back
        would) when run as the superuser, when the only ``create`` of tickets and followers installed are
        helpdesk_mgmt's and mail's and the values ask them for nothing (the number is given; no agent assigned, whom
        helpdesk_mgmt would email). Otherwise, and for values that need more than rows, through ``create``."""
        Ticket = self.with_context(tracking_disable=True)
        if self.env.uid == SUPERUSER_ID and not values.get('user_id') and values.get('number', '/') != '/' \
                and rows.plain_create(self, {'helpdesk_mgmt', 'mail'}) \
                and rows.plain_create(self.env['mail.followers'], {'mail'}):
            try:
                with self.env.cr.savepoint():
                    return rows.insert(Ticket, [values], in_cache=True)
            except rows.NotPlain as reason:
                _logger.debug('Ticket created through the ORM: %s', reason)
        return Ticket.create(values)

    @api.model
    def _postcenter_follower_values(self, partner):
        """The follower line that ``mail.followers._add_follower_command`` gives ``partner`` on a new ticket: the
        model's default subtypes for an internal user, its external ones for anyone else (whether the partner is
        an agent is known from the batch's look-up, ``res.partner._postcenter_is_agent``)."""
        default, _internal, external = self.env['mail.message.subtype'].default_subtypes(self._name)
        subtypes = default if partner._postcenter_is_agent() else external
        return {'res_model': self._name, 'partner_id': partner.id, 'subtype_ids': [(6, 0, subtypes.ids)]}

    @api.model
    def _postcenter_stage_and_number(self, company_id):
        """A new ticket's default stage and its number, as ``create`` gives them (helpdesk_mgmt's default stage;
        the next number of the ticket sequence ``ir.sequence.next_by_code`` picks for the company), with the stage
        and the sequence looked up once per fetched batch (``postcenter_settings``) rather than for every ticket."""
        def stage_and_sequence():
            company = company_id or self.env.user.company_id.id
            return self.default_get(['stage_id']).get('stage_id'), self.env['ir.sequence'].search(
                [('code', '=', 'helpdesk.ticket.sequence'), ('company_id', 'in', [company, False])],
                order='company_id', limit=1)
        stage_id, sequence = self.env['postcenter.email.account']._once_per_batch(
            ('helpdesk.ticket', company_id), stage_and_sequence)
        values = {'stage_id': stage_id} if stage_id else {}
        if sequence:
            values['number'] = sequence._next()
        return values

    @api.multi
    def _postcenter_add_email(self, parsed, partner, notify=True, opened=None):
        """Post the customer's email in the chatter, as Odoo's mail gateway would; reopen a closed ticket.

        ``notify=False`` (a ticket just opened, followed by its customer alone, the author) skips
        working out followers to notify: there is nobody. ``opened``: the values the ticket was just created
        with, when it was (it is in the stage it was created in, and its title is known: nothing to read).
        """
        self.ensure_one()
        title, closed = (opened['name'], False) if opened else self._postcenter_title_and_closed()
        if closed:
            self._postcenter_reopen()
        extra = {'date': parsed['date']} if parsed.get('date') else {}
        context = {'mail_create_nosubscribe': True, 'postcenter_incoming': True}
        if not notify:
            context['message_create_from_mail_mail'] = True  # mail.message.create's switch for "no _notify"
        ticket = self.with_context(**context)
        post = dict(
            body=parsed.get('body') or '', subject=parsed.get('subject'), message_type='email',
            subtype='mail.mt_comment', author_id=partner.id, email_from=parsed.get('email_from'),
            message_id=parsed['message_id'], attachments=parsed.get('attachments') or [],
            reply_to=parsed.get('reply_to') or parsed.get('email_from'),
            record_name=title, **extra)
        with timing.phase('chatter'):
            if not notify and ticket._postcenter_posts_plainly():  # nobody to tell: the message written as a row
                ticket._postcenter_post_unnotified([(ticket, post)])
            else:
                ticket.message_post(**post)

    @api.multi
    def _postcenter_title_and_closed(self):
        """The ticket's title and whether its stage is a closed one, in one statement: through the ORM, the
        ticket's whole row and its stage's would be read for them (a reply posted in a ticket empties Odoo's
        record cache, so they are not in it)."""
        self.ensure_one()
        self.env.cr.execute("""
            SELECT t.name, s.closed FROM helpdesk_ticket t LEFT JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
             WHERE t.id = %s""", (self.id,))
        title, closed = self.env.cr.fetchone()
        return title, bool(closed)

    @api.multi
    def _postcenter_original_arrived(self, message_key, parsed, partner):
        """The email that the ticket's first email answered arrived after it: the ticket becomes what it would have
        been in order, with the original's subject, text and customer (who follows it)."""
        self.ensure_one()
        self.env.cr.execute("""
            SELECT 1 FROM postcenter_email_receipt
             WHERE ticket_id = %s AND status = 'ticket' AND string_to_array(reference_keys, ' ') @> ARRAY[%s]::text[]
             LIMIT 1""", (self.id, message_key))
        if not self.env.cr.fetchone():
            return
        values = {'name': (parsed.get('subject') or '').strip()[:500] or self.name, 'description': parsed.get('body')}
        if partner:
            values.update(partner_id=partner.id, partner_name=partner.name, partner_email=partner.email)
        self.with_context(tracking_disable=True).write(values)
        if partner:
            self.message_subscribe(partner_ids=partner.ids)

    @api.multi
    def _postcenter_reopen(self):
        """Back to the first open stage."""
        stage = self.env['helpdesk.ticket.stage'].search([('closed', '=', False)], limit=1)
        if stage:
            self.write({'stage_id': stage.id})

    @api.model
    def _postcenter_by_number(self, account, subject):
        """The ticket of ``account`` whose number (e.g. HT00042) the subject quotes, if any."""
        numbers = conversation.ticket_numbers(subject, self._postcenter_number_prefix())
        if not numbers:
            return self.browse()
        return self.search([('number', 'in', numbers), ('email_account_id', '=', account.id)], limit=1)

    @api.model
    def _postcenter_number_prefix(self):
        """The ticket sequence's prefix, which a subject quoting a ticket's number starts with. Plain SQL: it is
        needed for every email that continues no conversation; the same sequence as ``sudo().search([('code', '=',
        ...)], limit=1)`` (ir.sequence is ordered by name). Looked up once per fetched batch
        (``postcenter_settings``): a batch is one transaction, which sees the same rows all along."""
        def read_prefix():
            self.env.cr.execute("SELECT prefix FROM ir_sequence WHERE code = 'helpdesk.ticket.sequence' AND active "
                                "ORDER BY name, id LIMIT 1")
            row = self.env.cr.fetchone()
            return row[0] if row else None
        return self.env['postcenter.email.account']._once_per_batch(('helpdesk.ticket', 'prefix'), read_prefix)

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

    # ------------------------------------------------------------------
    # Automatic replies
    # ------------------------------------------------------------------

    @api.multi
    def _postcenter_send_automatic(self, bodies):
        """Send an automatic reply to the customer alone, from the account, as a message of the ticket. Its
        subtype is followed by nobody, so only the customer is notified; it carries Auto-Submitted."""
        self.ensure_one()
        ticket = self.sudo()
        account = ticket.email_account_id
        subject = ticket.name if (ticket.name or '').lower().startswith('re:') else 'Re: %s' % ticket.name
        return ticket.with_context(mail_create_nosubscribe=True).message_post(
            body=''.join(bodies), subject=subject, message_type='comment',
            subtype='postcenter_email.mt_autoreply', author_id=False,
            email_from=formataddr((account.name, account.email)), partner_ids=[ticket.partner_id.id])

    @api.multi
    def _postcenter_customer_known(self):
        """Whether the ticket's customer opened another ticket on the same account before."""
        self.ensure_one()
        self.env.cr.execute("""
            SELECT 1 FROM helpdesk_ticket WHERE email_account_id = %s AND partner_id = %s AND id != %s LIMIT 1""",
                            (self.email_account_id.id, self.partner_id.id, self.id))
        return bool(self.env.cr.fetchone())

    @api.multi
    def _postcenter_customer_name(self):
        self.ensure_one()
        return self.partner_id.name or self.partner_name or ''

    @api.multi
    def _postcenter_opened_by_machine(self):
        """Whether the email that opened the ticket was written by a machine (a list, a robot, a no-reply)."""
        self.ensure_one()
        self.env.cr.execute("""
            SELECT machine_reason FROM postcenter_email_receipt WHERE ticket_id = %s AND status = 'ticket'
             ORDER BY id LIMIT 1""", (self.id,))
        row = self.env.cr.fetchone()
        return bool(row and row[0])
