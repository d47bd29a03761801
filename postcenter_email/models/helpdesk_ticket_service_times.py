"""Service times of Email-channel tickets: the response clock (SLA), the auto-close clock, their due-only
scheduled actions, and what closing a ticket does (fields required to close, the closing reply)."""
# The ticket model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited

import logging

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from ..services import sla
from . import rows

_logger = logging.getLogger(__name__)


class HelpdeskTicket(models.Model):
    """Service times of Email-channel tickets."""

    _inherit = 'helpdesk.ticket'

    # ------------------------------------------------------------------
    # Service times: the response clock (SLA) and the auto-close clock
    # ------------------------------------------------------------------

    @api.model
    def _postcenter_response_clock(self, account, now):
        """Values that start the response clock of ``account`` at ``now`` (a customer's email arrived)."""
        start = fields.Datetime.from_string(now)
        settings = account._ingest_settings()
        due = sla.deadline(start, settings.sla_time, settings.sla_unit)
        return {'customer_waiting_since': now, 'sla_deadline': fields.Datetime.to_string(due) if due else False,
                'is_late': False}

    @api.multi
    def _postcenter_customer_wrote(self, account, now):
        """A customer's email arrived: the ticket no longer waits for the customer, and the response clock
        runs from the oldest email still unanswered (a second email does not restart it).

        One UPDATE and no reads: it runs for every email received, right after the ticket's cache was emptied
        by posting the email; these columns are our own bookkeeping, nothing depends on them."""
        self.ensure_one()
        settings = account._ingest_settings()
        seconds = sla.seconds(settings.sla_time, settings.sla_unit)
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
        if self.env.context.get('postcenter_incoming') or self.env.context.get('postcenter_autoclose'):
            return result  # a received email, or the auto-close's own messages: not an answer, and no reads spent
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
                env['helpdesk.ticket'].browse([row[0] for row in env.cr.fetchall()])._postcenter_became_late()
            marked += done
            if done < batch_size:
                break
        self.invalidate_cache(['is_late'])
        return marked

    @api.multi
    def _postcenter_became_late(self):
        """These tickets were just marked late (their response deadline passed): a hook for the service
        metrics."""

    @api.model
    def _cron_autoclose(self, now=None, batch_size=None):
        """Scheduled action: close the tickets that waited for the customer longer than their account allows.
        Only the due tickets are read (an index on the deadline), in batches, each committed on its own, and each
        closed with one write (``_postcenter_autoclose_batch``); returns how many were closed."""
        now = now or fields.Datetime.now()
        Account = self.env['postcenter.email.account']
        batch_size = batch_size or Account._param('autoclose_batch_size', 200)
        stage = self.env['helpdesk.ticket.stage'].search([('closed', '=', True)], limit=1)
        if not stage:
            _logger.warning('Auto-close: there is no closed stage to move tickets to')
            return 0
        closed = 0
        while True:
            notified = []
            with Account._own_env() as env:
                env.cr.execute("""
                    SELECT id FROM helpdesk_ticket WHERE autoclose_deadline <= %s
                     ORDER BY autoclose_deadline LIMIT %s FOR UPDATE SKIP LOCKED""", (now, batch_size))
                ids = [row[0] for row in env.cr.fetchall()]
                closed += env['helpdesk.ticket']._postcenter_autoclose_batch(ids, stage.with_env(env), now, notified)
                # whatever happened to each one, none of them is due any more: the loop always ends
                if ids:
                    env.cr.execute('UPDATE helpdesk_ticket SET autoclose_deadline = NULL WHERE id IN %s',
                                   (tuple(ids),))
            Account._send_notifications(notified)  # the batch's closing replies, once it is committed
            if len(ids) < batch_size:
                break
        self.invalidate_cache()
        return closed

    @api.model
    def _postcenter_autoclose_batch(self, ids, stage, now, notified):
        """Close the tickets ``ids`` that are still open with one write, which tracks them and renders their
        closing email together (the same messages and emails as closing each one); their closing replies'
        emails are queued and their messages noted in ``notified``, to be sent once the batch is committed. If
        that write fails (a closing check of another module refused one of them), each ticket is closed on its own
        (``_postcenter_autoclose``), so one ticket's failure never stops the others. Returns how many were closed."""
        tickets = rows.read_rows(self.browse(ids)).filtered(lambda ticket: not ticket.stage_id.closed)
        if not tickets:
            return 0
        queued = []
        try:
            with self.env.cr.savepoint():
                tickets.with_context(postcenter_autoclose=True, postcenter_now=now,
                                     postcenter_notify_later=queued).write({'stage_id': stage.id})
        except Exception:  # pylint: disable=broad-except
            # rolled back; told apart ticket by ticket below (an unexpected error is logged there)
            self.invalidate_cache()
            # one record at a time: a recordset of the whole batch would re-read every ticket of it after each
            # close (the write empties the cache that the batch shares)
            return sum(1 for ticket_id in tickets.ids
                       if self.browse(ticket_id)._postcenter_autoclose(stage, now))
        notified.extend(queued)
        return len(tickets)

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
            kind = 'auto_close' if automatic else 'manual_close'
            # the accounts with that reply, looked up once for all the tickets closed (the auto-close: a batch)
            accounts = Autoreply.search([('account_id', 'in', closing.mapped('email_account_id').ids),
                                         ('kind', '=', kind)]).mapped('account_id')
            replied = [ticket.id for ticket in closing
                       if ticket.email_account_id in accounts and Autoreply._on_closed(ticket, kind, now)]
            vals = dict(vals, customer_waiting_since=False, sla_deadline=False, is_late=False,
                        agent_waiting_since=False, autoclose_deadline=False)
            if replied:
                return super(HelpdeskTicket, self.with_context(postcenter_close_replied=replied)).write(vals)
        return super().write(vals)

    @api.multi
    def _track_template(self, tracking):
        """The closed stage's own email template (helpdesk_mgmt's "The ticket has been closed"): not sent on top
        of the account's closing reply, which is the customer's last email; and when the auto-close closes the
        tickets, queued rather than sent during the scheduled action (helpdesk_mgmt sends it at once: one mail
        server session per closed ticket, with the batch's tickets locked meanwhile), rendered for the tickets of
        the batch together (``mail.template._postcenter_send_mails``), each ticket whose closing reply went out
        left out."""
        templates = super()._track_template(tracking)
        if 'stage_id' not in templates:
            return templates
        replied = self.env.context.get('postcenter_close_replied') or ()
        if self.env.context.get('postcenter_autoclose') and templates['stage_id'][0]:
            template = templates.pop('stage_id')[0]
            template._postcenter_send_mails([ticket.id for ticket in self if ticket.id not in replied])
        elif self[:1].id in replied:
            del templates['stage_id']
        return templates

    @api.multi
    def message_track(self, tracked_fields, initial_values):
        """Odoo's tracking; when the auto-close closes tickets, the tracking message ("Awaiting -> Done", an internal
        note) of a ticket none of whose followers follows notes is created without working out whom to notify:
        Odoo's ``mail.message._notify`` would look up the ticket's followers of that subtype and find nobody (four
        queries and a read of the message, per ticket). Tickets with such a follower are tracked as Odoo does."""
        if not self.env.context.get('postcenter_autoclose') or self.env.context.get('message_create_from_mail_mail'):
            return super().message_track(tracked_fields, initial_values)
        silent = self - self._postcenter_note_followed()
        if silent:
            silent.with_context(message_create_from_mail_mail=True)._postcenter_track_silently(
                tracked_fields, initial_values)
        if silent != self:
            super(HelpdeskTicket, self - silent).message_track(tracked_fields, initial_values)
        return True

    @api.multi
    def _postcenter_track_silently(self, tracked_fields, initial_values):
        """``mail.thread.message_track`` for tickets whose tracking messages nobody is to be told of: the same
        changes, subtypes and tracking templates, each message with the values ``message_post`` gives it, the
        messages written together (``mail.message._postcenter_create_unnotified``). When another module overrides
        ``message_post`` of tickets, each one is tracked through Odoo's own path instead."""
        if not self._postcenter_posts_plainly():
            # Odoo's own path of message_track, skipping this module's override of it
            return super(HelpdeskTicket, self).message_track(  # pylint: disable=super-method-mismatch
                tracked_fields, initial_values)
        if not tracked_fields:
            return True
        # the new values of the tracked fields alone: the write just emptied them, and reading them with every
        # other column of the batch's tickets (Odoo's prefetch) would read the whole rows again
        tracking = self.with_context(prefetch_fields=False)._message_track_get_changes(tracked_fields, initial_values)
        posts = []
        for record in self:
            changes, tracking_value_ids = tracking[record.id]
            if not changes:
                continue
            subtype_xmlid = False
            if not self.env.context.get('mail_track_log_only'):
                subtype_xmlid = record._track_subtype(
                    dict((name, initial_values[record.id][name]) for name in changes))
            if subtype_xmlid:
                subtype = self.env.ref(subtype_xmlid)
                if not (subtype and subtype.exists()):
                    continue
            elif not tracking_value_ids:
                continue
            posts.append((record, {'subtype': subtype_xmlid or None, 'tracking_value_ids': tracking_value_ids}))
        self._postcenter_post_unnotified(posts)
        self._message_track_post_template(tracking)
        return True

    @api.multi
    def _message_track_post_template(self, tracking):
        """Odoo's tracking templates, always notified as Odoo does (``message_track`` above may have switched the
        notification of the tracking message alone off)."""
        if self.env.context.get('message_create_from_mail_mail') and self.env.context.get('postcenter_autoclose'):
            self = self.with_context(message_create_from_mail_mail=False)
        return super(HelpdeskTicket, self)._message_track_post_template(tracking)

    @api.multi
    def _postcenter_note_followed(self):
        """The tickets of ``self`` with a follower (partner or channel) of internal notes, the subtype of tracking
        messages; one query."""
        note = self.env['ir.model.data'].xmlid_to_res_id('mail.mt_note')
        self.env.cr.execute("""
            SELECT DISTINCT f.res_id FROM mail_followers f
              JOIN mail_followers_mail_message_subtype_rel r ON r.mail_followers_id = f.id
             WHERE f.res_model = %s AND f.res_id IN %s AND r.mail_message_subtype_id = %s""",
                            (self._name, tuple(self.ids), note))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

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
