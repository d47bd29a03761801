"""Service metrics of Email-channel tickets, stored when their events happen (a customer's email, an agent's
answer, a close, a reopening, the response deadline passing) and replayed from the chatter for the tickets that
existed before them. The rules are ``services.metrics``; this file reads the clock, applies them and writes."""
# The ticket model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited

import collections

from odoo import api, fields, models

from ..services import metrics, schedule, sla

_TYPES = {'first_customer_email_date': 'timestamp', 'first_answer_date': 'timestamp', 'first_answer_sla': 'varchar'}
SLA_STATES = [('met', 'Within SLA'), ('missed', 'Late')]


def _moment(value):
    """A datetime from what the database or the ORM gives (a string in Odoo 11's ORM)."""
    return fields.Datetime.from_string(value) if isinstance(value, str) else value


class HelpdeskTicket(models.Model):
    """Service metrics of Email-channel tickets."""

    _inherit = 'helpdesk.ticket'

    first_customer_email_date = fields.Datetime(
        string='First Customer Email', readonly=True, copy=False, index=True,
        help='When the email that opened the ticket arrived.')
    first_answer_date = fields.Datetime(string='First Answer', readonly=True, copy=False,
                                        help="When an agent first answered the customer.")
    first_response_time = fields.Integer(
        string='First Response (s)', readonly=True, copy=False, group_operator='avg',
        help="From the first customer email to the first agent's answer, in seconds of clock time.")
    first_response_work_time = fields.Integer(
        string='First Response in Working Hours (s)', readonly=True, copy=False, group_operator='avg',
        help="The first response counted in the working hours of the account's schedule only (without a schedule, "
             "every hour counts), in seconds.")
    first_answer_sla = fields.Selection(
        SLA_STATES, string='First Answer Within SLA', readonly=True, copy=False,
        help='Within SLA: the first answer came before the response time (SLA) ran out. Late: the response time ran '
             'out first. Empty: not answered yet and not late, or the account has no response time.')
    customer_email_count = fields.Integer(string='Customer Emails', readonly=True, copy=False, default=0)
    agent_answer_count = fields.Integer(string='Agent Answers', readonly=True, copy=False, default=0)
    time_to_close = fields.Integer(string='Time to Close (s)', readonly=True, copy=False, group_operator='avg',
                                   help='From the first customer email to the last close, in seconds.')
    reopen_count = fields.Integer(string='Times Reopened', readonly=True, copy=False, default=0)
    late_count = fields.Integer(string='Times Late', readonly=True, copy=False, default=0,
                                help='How many times the response time (SLA) ran out before an answer.')
    late_time = fields.Integer(
        string='Time Late (s)', readonly=True, copy=False, default=0,
        help='Seconds spent late, from each response deadline to the answer or close that ended the wait (a wait '
             'still open is counted when it ends).')

    # -- The same durations in hours, for the ticket's form (shown as hours:minutes) -----------------------------
    first_response_hours = fields.Float(string='First Response (h)', compute='_compute_service_hours')
    first_response_work_hours = fields.Float(string='First Response in Working Hours (h)',
                                             compute='_compute_service_hours')
    time_to_close_hours = fields.Float(string='Time to Close (h)', compute='_compute_service_hours')
    late_hours = fields.Float(string='Time Spent Late (h)', compute='_compute_service_hours')

    @api.depends('first_response_time', 'first_response_work_time', 'time_to_close', 'late_time')
    def _compute_service_hours(self):
        for ticket in self:
            ticket.first_response_hours = (ticket.first_response_time or 0) / 3600.0
            ticket.first_response_work_hours = (ticket.first_response_work_time or 0) / 3600.0
            ticket.time_to_close_hours = (ticket.time_to_close or 0) / 3600.0
            ticket.late_hours = (ticket.late_time or 0) / 3600.0

    @api.model_cr
    def init(self):
        """The report's and the dashboard's look-up: an account's tickets by the day they came in."""
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS helpdesk_ticket_postcenter_account_received_idx
                ON helpdesk_ticket (email_account_id, first_customer_email_date) WHERE email_account_id IS NOT NULL""")
        return super().init()

    # ------------------------------------------------------------------
    # Reading and writing the metrics (plain SQL: our own bookkeeping)
    # ------------------------------------------------------------------

    @api.multi
    def _postcenter_metrics_read(self):
        """``{id: (metrics, response deadline, late)}`` as stored now."""
        if not self.ids:
            return {}
        self.env.cr.execute('SELECT id, sla_deadline, is_late, %s FROM helpdesk_ticket WHERE id IN %%s'
                            % ', '.join(metrics.FIELDS), (tuple(self.ids),))
        found = {}
        for row in self.env.cr.dictfetchall():
            values = {name: row[name] for name in metrics.FIELDS}
            for name in metrics.COUNTERS:
                values[name] = values[name] or 0
            for name in ('first_customer_email_date', 'first_answer_date'):
                values[name] = _moment(values[name])
            found[row['id']] = (values, _moment(row['sla_deadline']), bool(row['is_late']))
        return found

    @api.model
    def _postcenter_metrics_write(self, changes):
        """Write ``{id: {field: value}}``: one UPDATE per set of fields changed."""
        groups = collections.defaultdict(list)
        for ticket_id, values in changes.items():
            if values:
                groups[tuple(sorted(values))].append((ticket_id, values))
        cr = self.env.cr
        for names, rows in groups.items():
            template = '(%s, ' + ', '.join('%%s::%s' % _TYPES.get(name, 'integer') for name in names) + ')'
            values = ', '.join(cr.mogrify(template, [ticket_id] + [row[name] for name in names]).decode()
                               for ticket_id, row in rows)
            query = 'UPDATE helpdesk_ticket t SET %s FROM (VALUES %s) AS v(id, %s) WHERE t.id = v.id' % (
                ', '.join('%s = v.%s' % (name, name) for name in names), values, ', '.join(names))
            # the column names are metrics.FIELDS, the values went through mogrify
            cr.execute(query)  # pylint: disable=sql-injection
        self.invalidate_cache(list(metrics.FIELDS), list(changes))

    @api.multi
    def _postcenter_working_seconds(self):
        """``working_seconds(start, end)`` of the ticket's account schedule, or ``None`` without one."""
        account = self.sudo().email_account_id
        if not account.resource_calendar_id:
            return None

        def working_seconds(start, end):
            return schedule.working_seconds(account._working_intervals(start, end), start, end)
        return working_seconds

    # ------------------------------------------------------------------
    # The live events
    # ------------------------------------------------------------------

    @api.model
    def _postcenter_response_clock(self, account, now):
        """A ticket opened by a customer's email: its metrics start with that email."""
        values = super()._postcenter_response_clock(account, now)
        started = metrics.customer_email(metrics.blank(), _moment(now))
        values.update(started, first_customer_email_date=now)
        return values

    @api.multi
    def _postcenter_customer_wrote(self, account, now):
        """A customer's email on an existing ticket: counted (``metrics.customer_email``, here as one UPDATE with no
        read: it runs for every email received)."""
        result = super()._postcenter_customer_wrote(account, now)
        self.env.cr.execute("""
            UPDATE helpdesk_ticket SET customer_email_count = coalesce(customer_email_count, 0) + 1,
                                       first_customer_email_date = coalesce(first_customer_email_date, %s)
             WHERE id IN %s""", (now, tuple(self.ids)))
        self.invalidate_cache(['customer_email_count', 'first_customer_email_date'], self.ids)
        return result

    @api.multi
    def _postcenter_agent_answered(self, now):
        """An agent's answer: counted; the first one sets the first response and the SLA's outcome. Read before
        the answer stops the response clock."""
        before = self._postcenter_metrics_read()
        result = super()._postcenter_agent_answered(now)
        at = _moment(now)
        changes = {}
        for ticket in self.filtered(lambda record: record.id in before):
            state, deadline, late = before[ticket.id]
            changes[ticket.id] = metrics.agent_answer(state, at, deadline, late, ticket._postcenter_working_seconds())
        self._postcenter_metrics_write(changes)
        return result

    @api.multi
    def _postcenter_became_late(self):
        """Tickets just marked late: one more time late, and a first answer not given yet missed the SLA."""
        result = super()._postcenter_became_late()
        self._postcenter_metrics_write({ticket_id: metrics.became_late(state)
                                        for ticket_id, (state, _due, _late) in self._postcenter_metrics_read().items()})
        return result

    @api.model
    def _postcenter_reschedule(self, account):
        """A new response time can make waiting tickets late at once: that is their becoming late."""
        self.env.cr.execute("""SELECT id FROM helpdesk_ticket WHERE email_account_id = %s
                                  AND customer_waiting_since IS NOT NULL AND is_late IS NOT TRUE""", (account.id,))
        waiting = tuple(row[0] for row in self.env.cr.fetchall())
        result = super()._postcenter_reschedule(account)
        if waiting:
            self.env.cr.execute('SELECT id FROM helpdesk_ticket WHERE id IN %s AND is_late', (waiting,))
            self.browse([row[0] for row in self.env.cr.fetchall()])._postcenter_became_late()
        return result

    @api.multi
    def write(self, vals):
        """Closing and reopening an Email-channel ticket are events of its metrics (time to close, times reopened);
        read before the write, which stops the response clock when it closes."""
        if not vals.get('stage_id'):
            return super().write(vals)
        closed = self.env['helpdesk.ticket.stage'].browse(vals['stage_id']).closed
        moving = self.filtered(lambda ticket: ticket.email_account_id and ticket.stage_id.closed != closed)
        before = moving._postcenter_metrics_read()
        result = super().write(vals)
        if before:
            at = _moment(self.env.context.get('postcenter_now') or fields.Datetime.now())
            self._postcenter_metrics_write({
                ticket_id: metrics.close(state, at, deadline, late) if closed else metrics.reopen(state)
                for ticket_id, (state, deadline, late) in before.items()})
        return result

    @api.multi
    def _postcenter_force_close(self, stage, now, reason):
        """The auto-close closing by SQL, past another module's check: a close for the metrics too."""
        before = self._postcenter_metrics_read()
        result = super()._postcenter_force_close(stage, now, reason)
        self._postcenter_metrics_write({ticket_id: metrics.close(state, _moment(now), deadline, late)
                                        for ticket_id, (state, deadline, late) in before.items()})
        return result

    # ------------------------------------------------------------------
    # The backfill: replayed from the chatter
    # ------------------------------------------------------------------

    @api.model
    def _postcenter_backfill_metrics(self, batch_size=500, now=None):
        """Install and upgrade: the metrics of every Email-channel ticket replayed from its chatter
        (``services.metrics.replay``), in batches of ``batch_size`` tickets (a few queries and one UPDATE per
        batch). Returns how many tickets were computed."""
        now = _moment(now or fields.Datetime.now())
        self.env.cr.execute('SELECT id FROM helpdesk_ticket WHERE email_account_id IS NOT NULL ORDER BY id')
        ids = [row[0] for row in self.env.cr.fetchall()]
        for start in range(0, len(ids), batch_size):
            batch = self.browse(ids[start:start + batch_size])
            self._postcenter_metrics_write(batch._postcenter_replayed_metrics(now))
        return len(ids)

    @api.multi
    def _postcenter_replayed_metrics(self, now):
        """``{id: metrics}`` of these tickets from their chatter, as of ``now``."""
        events = self._postcenter_chatter_events()
        self.env.cr.execute("""
            SELECT t.id, t.email_account_id, t.closed_date, s.closed FROM helpdesk_ticket t
              LEFT JOIN helpdesk_ticket_stage s ON s.id = t.stage_id WHERE t.id IN %s""", (tuple(self.ids),))
        tickets = self.env.cr.fetchall()
        accounts = self.env['postcenter.email.account'].sudo().with_context(active_test=False).browse(
            {row[1] for row in tickets})
        working = {}
        for account in accounts.filtered('resource_calendar_id'):
            moments = [event.at for row in tickets if row[1] == account.id for event in events.get(row[0], ())]
            if moments:
                intervals = account._working_intervals(min(moments), max(moments))
                working[account.id] = lambda a, b, intervals=intervals: schedule.working_seconds(intervals, a, b)
        seconds = {account.id: sla.seconds(account.sla_time, account.sla_unit) for account in accounts}
        return {ticket_id: metrics.replay(events.get(ticket_id, []), seconds[account_id], now,
                                          working.get(account_id), _moment(closed_date) if closed else None)
                for ticket_id, account_id, closed_date, closed in tickets}

    @api.multi
    def _postcenter_chatter_events(self):
        """``{id: [metrics.Event]}``, in order, from the chatter: the emails the account received (at the time in
        the chatter, or when stored if that is earlier), a customer's or, when an internal user wrote it, an agent's
        answer; agents' messages to the customer (not notes, not automatic replies); closes and reopenings (the
        stage's tracking). Emails the helpdesk sent by itself (the closed stage's email) are none of these."""
        comment = self.env.ref('mail.mt_comment').id
        self.env.cr.execute("""
            SELECT m.res_id, m.id, 0,
                   CASE WHEN m.message_type = 'email'
                        THEN least(m.date, date_trunc('second', m.create_date)) ELSE m.date END,
                   CASE WHEN m.message_type = 'comment' THEN CASE WHEN agent.internal THEN 'agent' END
                        WHEN agent.internal THEN 'agent' ELSE 'customer' END
              FROM mail_message m
              LEFT JOIN LATERAL (SELECT bool_or(NOT u.share) AS internal FROM res_users u
                                  WHERE u.partner_id = m.author_id) agent ON true
             WHERE m.model = 'helpdesk.ticket' AND m.res_id IN %(ids)s
               AND (m.message_type = 'comment' AND m.subtype_id = %(comment)s
                    OR m.message_type = 'email' AND EXISTS (
                        SELECT 1 FROM postcenter_email_receipt r WHERE r.ticket_id = m.res_id
                                                                  AND r.message_key = m.message_id))
             UNION ALL
            SELECT m.res_id, m.id, 1, m.date,
                   CASE WHEN so.closed IS NOT TRUE AND sn.closed THEN 'close'
                        WHEN so.closed AND sn.closed IS NOT TRUE THEN 'reopen' END
              FROM mail_tracking_value v JOIN mail_message m ON m.id = v.mail_message_id
              LEFT JOIN helpdesk_ticket_stage so ON so.id = v.old_value_integer
              LEFT JOIN helpdesk_ticket_stage sn ON sn.id = v.new_value_integer
             WHERE m.model = 'helpdesk.ticket' AND m.res_id IN %(ids)s AND v.field = 'stage_id'
             ORDER BY 4, 2, 3""", {'ids': tuple(self.ids), 'comment': comment})
        events = collections.defaultdict(list)
        for ticket_id, _message, _order, at, kind in self.env.cr.fetchall():
            if kind:
                events[ticket_id].append(metrics.Event(_moment(at), kind))
        return events
