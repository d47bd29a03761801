import logging
from email.utils import formataddr

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools.safe_eval import safe_eval

from ..services import conversation, sla, timing

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
        values.update(self._postcenter_response_clock(account, fields.Datetime.now()))
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
        context = {'mail_create_nosubscribe': True, 'postcenter_incoming': True}
        if not notify:
            context['message_create_from_mail_mail'] = True  # mail.message.create's switch for "no _notify"
        with timing.phase('chatter'):
            self.with_context(**context).message_post(
                body=parsed.get('body') or '', subject=parsed.get('subject'), message_type='email',
                subtype='mail.mt_comment', author_id=partner.id, email_from=parsed.get('email_from'),
                message_id=parsed['message_id'], attachments=parsed.get('attachments') or [],
                reply_to=parsed.get('reply_to') or parsed.get('email_from'), record_name=self.name, **extra)

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

    # ------------------------------------------------------------------
    # Service times: the response clock (SLA) and the auto-close clock
    # ------------------------------------------------------------------

    @api.model
    def _postcenter_response_clock(self, account, now):
        """Values that start the response clock of ``account`` at ``now`` (a customer's email arrived)."""
        start = fields.Datetime.from_string(now)
        due = sla.deadline(start, account.sla_time, account.sla_unit)
        return {'customer_waiting_since': now, 'sla_deadline': fields.Datetime.to_string(due) if due else False,
                'is_late': False}

    @api.multi
    def _postcenter_customer_wrote(self, account, now):
        """A customer's email arrived: the ticket no longer waits for the customer, and the response clock
        runs from the oldest email still unanswered (a second email does not restart it).

        One UPDATE and no reads: it runs for every email received, right after the ticket's cache was emptied
        by posting the email; these columns are our own bookkeeping, nothing depends on them."""
        self.ensure_one()
        seconds = sla.seconds(account.sla_time, account.sla_unit)
        self.env.cr.execute("""
            UPDATE helpdesk_ticket
               SET agent_waiting_since = NULL, autoclose_deadline = NULL,
                   sla_deadline = CASE WHEN customer_waiting_since IS NOT NULL THEN sla_deadline
                                       WHEN %(seconds)s > 0 THEN %(now)s::timestamp + %(seconds)s * interval '1 second'
                                  END,
                   is_late = CASE WHEN customer_waiting_since IS NOT NULL THEN is_late ELSE false END,
                   customer_waiting_since = COALESCE(customer_waiting_since, %(now)s::timestamp)
             WHERE id = %(id)s AND (customer_waiting_since IS NULL OR agent_waiting_since IS NOT NULL
                                    OR autoclose_deadline IS NOT NULL)""",
                            {'seconds': seconds, 'now': now, 'id': self.id})
        self.invalidate_cache(['agent_waiting_since', 'autoclose_deadline', 'sla_deadline', 'is_late',
                               'customer_waiting_since'], self.ids)

    @api.multi
    def _postcenter_agent_answered(self, now):
        """An agent answered the customer: the response clock stops (late no more) and, when the account
        closes unanswered tickets, the auto-close clock starts."""
        self.ensure_one()
        account = self.sudo().email_account_id
        due = sla.deadline(fields.Datetime.from_string(now), account.autoclose_time, account.autoclose_unit) \
            if account.autoclose_enabled and not self.stage_id.closed else None
        self.sudo().write({
            'customer_waiting_since': False, 'sla_deadline': False, 'is_late': False,
            'agent_waiting_since': now if not self.stage_id.closed else False,
            'autoclose_deadline': fields.Datetime.to_string(due) if due else False,
        })

    @api.multi
    def _message_post_after_hook(self, message):
        """A message of an internal user to the customer (not a note, not an automatic reply) is an agent's
        answer for the service times."""
        result = super()._message_post_after_hook(message)
        if self.env.context.get('postcenter_incoming'):  # a received email: not an answer, and no reads spent
            return result
        if len(self) == 1 and self.email_account_id and message.message_type == 'comment' and \
                message.subtype_id == self.env.ref('mail.mt_comment') and \
                any(not user.share for user in message.author_id.user_ids):
            self._postcenter_agent_answered(fields.Datetime.now())
        return result

    @api.model
    def _postcenter_reschedule(self, account):
        """The account's response time or auto-close changed: move the deadlines of its open tickets."""
        now = fields.Datetime.now()
        sla_seconds = sla.seconds(account.sla_time, account.sla_unit)
        close_seconds = sla.seconds(account.autoclose_time, account.autoclose_unit) if account.autoclose_enabled \
            else 0
        self.env.cr.execute("""
            UPDATE helpdesk_ticket
               SET sla_deadline = CASE WHEN %(sla)s > 0 AND customer_waiting_since IS NOT NULL
                                       THEN customer_waiting_since + %(sla)s * interval '1 second' END,
                   is_late = CASE WHEN %(sla)s > 0 AND customer_waiting_since IS NOT NULL
                                  THEN customer_waiting_since + %(sla)s * interval '1 second' <= %(now)s
                                  ELSE false END,
                   autoclose_deadline = CASE WHEN %(close)s > 0 AND agent_waiting_since IS NOT NULL
                                             THEN agent_waiting_since + %(close)s * interval '1 second' END
             WHERE email_account_id = %(account)s
               AND (customer_waiting_since IS NOT NULL OR agent_waiting_since IS NOT NULL)""",
                            {'sla': sla_seconds, 'close': close_seconds, 'now': now, 'account': account.id})
        self.invalidate_cache(['sla_deadline', 'is_late', 'autoclose_deadline'])

    @api.model
    def _cron_sla(self, now=None, batch_size=None):
        """Scheduled action: mark late the tickets whose answer is overdue. Only those are read (an index on the
        deadline of tickets not yet late), in batches, each committed on its own; returns how many."""
        now = now or fields.Datetime.now()
        Account = self.env['postcenter.email.account']
        batch_size = batch_size or Account._param('sla_batch_size', 1000)
        marked = 0
        while True:
            with Account._own_env() as env:
                env.cr.execute("""
                    UPDATE helpdesk_ticket SET is_late = true, write_date = (now() at time zone 'UTC')
                     WHERE id IN (SELECT id FROM helpdesk_ticket
                                   WHERE sla_deadline <= %s AND is_late IS NOT TRUE
                                   ORDER BY sla_deadline LIMIT %s FOR UPDATE SKIP LOCKED)
                    RETURNING id""", (now, batch_size))
                done = env.cr.rowcount
            marked += done
            if done < batch_size:
                break
        self.invalidate_cache(['is_late'])
        return marked

    @api.model
    def _cron_autoclose(self, now=None, batch_size=None):
        """Scheduled action: close the tickets that waited for the customer longer than their account allows.
        Only the due tickets are read (an index on the deadline), in batches, each committed on its own;
        returns how many were closed."""
        now = now or fields.Datetime.now()
        Account = self.env['postcenter.email.account']
        batch_size = batch_size or Account._param('autoclose_batch_size', 200)
        stage = self.env['helpdesk.ticket.stage'].search([('closed', '=', True)], limit=1)
        if not stage:
            _logger.warning('Auto-close: there is no closed stage to move tickets to')
            return 0
        closed = 0
        while True:
            with Account._own_env() as env:
                env.cr.execute("""
                    SELECT id FROM helpdesk_ticket WHERE autoclose_deadline <= %s
                     ORDER BY autoclose_deadline LIMIT %s FOR UPDATE SKIP LOCKED""", (now, batch_size))
                ids = [row[0] for row in env.cr.fetchall()]
                # one record at a time: a recordset of the whole batch would re-read every ticket of it
                # after each close (the write empties the cache that the batch shares)
                closed += sum(1 for ticket_id in ids
                              if env['helpdesk.ticket'].browse(ticket_id)._postcenter_autoclose(
                                  stage.with_env(env), now))
                # whatever happened to each one, none of them is due any more: the loop always ends
                if ids:
                    env.cr.execute('UPDATE helpdesk_ticket SET autoclose_deadline = NULL WHERE id IN %s',
                                   (tuple(ids),))
            if len(ids) < batch_size:
                break
        self.invalidate_cache()
        return closed

    @api.multi
    def _postcenter_autoclose(self, stage, now):
        """Close the ticket for lack of an answer, ignoring closing prerequisites (fields the account requires
        to close, and any other module's checks); one ticket's failure never stops the others. True if closed."""
        self.ensure_one()
        if self.stage_id.closed:  # closed meanwhile, e.g. its stage became a closing one: nothing to do
            return False
        try:
            with self.env.cr.savepoint():
                self.with_context(postcenter_autoclose=True, postcenter_now=now).write({'stage_id': stage.id})
            return True
        except (ValidationError, UserError) as error:
            with self.env.cr.savepoint():
                self._postcenter_force_close(stage, now, tools.ustr(error.name if hasattr(error, 'name') else error))
            return True
        except Exception:
            _logger.exception('Auto-close of ticket %s failed', self.id)
            self.env.cr.execute('UPDATE helpdesk_ticket SET autoclose_deadline = NULL WHERE id = %s', (self.id,))
            self.invalidate_cache(['autoclose_deadline'], self.ids)
            self.message_post(body='<p>%s</p>' % tools.html_escape(_(
                'This ticket could not be closed automatically because of an unexpected error; close it by hand.')),
                message_type='comment', subtype='mail.mt_note', author_id=False)
            return False

    @api.multi
    def _postcenter_force_close(self, stage, now, reason):
        """Close despite a closing check of another module that refused it (written directly, as the account's
        auto-close ignores closing prerequisites), and say so on the ticket."""
        self.env['postcenter.email.autoreply'].sudo()._on_closed(self, 'auto_close', now)
        self.env.cr.execute("""
            UPDATE helpdesk_ticket
               SET stage_id = %s, closed_date = %s, last_stage_update = %s, customer_waiting_since = NULL,
                   sla_deadline = NULL, is_late = false, agent_waiting_since = NULL, autoclose_deadline = NULL
             WHERE id = %s""", (stage.id, now, now, self.id))
        self.invalidate_cache(ids=self.ids)
        self.message_post(body='<p>%s</p>' % tools.html_escape(
            _('Closed automatically: the customer did not answer in time. A closing check was skipped: %s') % reason),
            message_type='comment', subtype='mail.mt_note', author_id=False)

    @api.multi
    def write(self, vals):
        """Closing an Email-channel ticket: a manual close needs the fields the account requires to close; the
        account's closing reply (manual or automatic) goes out as the last message; the clocks stop."""
        stage = self.env['helpdesk.ticket.stage'].browse(vals['stage_id']) if vals.get('stage_id') else None
        if stage is None or not stage.closed:
            return super().write(vals)
        closing = self.filtered(lambda ticket: ticket.email_account_id and not ticket.stage_id.closed)
        if closing:
            automatic = bool(self.env.context.get('postcenter_autoclose'))
            if not automatic:
                closing._postcenter_check_close_fields(vals)
            now = self.env.context.get('postcenter_now') or fields.Datetime.now()
            Autoreply = self.env['postcenter.email.autoreply'].sudo()
            replied = [ticket.id for ticket in closing
                       if Autoreply._on_closed(ticket, 'auto_close' if automatic else 'manual_close', now)]
            vals = dict(vals, customer_waiting_since=False, sla_deadline=False, is_late=False,
                        agent_waiting_since=False, autoclose_deadline=False)
            if replied:
                return super(HelpdeskTicket, self.with_context(postcenter_close_replied=replied)).write(vals)
        return super().write(vals)

    @api.multi
    def _track_template(self, tracking):
        """The closed stage's own email template (helpdesk_mgmt's "The ticket has been closed"): not sent on top
        of the account's closing reply, which is the customer's last email; and when the auto-close closes the
        ticket, queued rather than sent during the scheduled action (helpdesk_mgmt sends it at once: one mail
        server session per closed ticket, with the batch's tickets locked meanwhile)."""
        templates = super()._track_template(tracking)
        if 'stage_id' not in templates:
            return templates
        if self[:1].id in (self.env.context.get('postcenter_close_replied') or ()):
            del templates['stage_id']
        elif self.env.context.get('postcenter_autoclose') and templates['stage_id'][0]:
            template = templates.pop('stage_id')[0]
            for ticket in self:
                template.send_mail(ticket.id)
        return templates

    @api.multi
    def _postcenter_check_close_fields(self, vals):
        """The fields the ticket's account requires before an agent closes it; a ``ValidationError`` naming them."""
        for ticket in self:
            required = ticket.sudo().email_account_id.close_required_field_ids
            missing = [field.field_description for field in required
                       if not (vals[field.name] if field.name in vals else ticket[field.name])]
            if missing:
                raise ValidationError(_('To close %(ticket)s, fill in: %(fields)s.') % {
                    'ticket': ticket.number, 'fields': ', '.join(missing)})

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
