"""Email Service report: one row per Email-channel ticket with its stored metrics, for the graph and pivot views.

A PostgreSQL view over ``helpdesk_ticket`` (as Odoo's own ``*.report`` models are), read by Odoo's ``read_group``:
averages and sums are SQL aggregates, the median is the aggregate ``postcenter_median`` created here (Odoo 11's
``read_group`` writes ``<group_operator>(<column>)``, so any aggregate function can be a field's operator), and the
share within the SLA is the average of a column worth 100 (within) or 0 (late), empty while undecided."""
from odoo import api, fields, models, tools

from ..models.helpdesk_ticket_metrics import SLA_STATES

MEDIAN = 'postcenter_median'


class PostcenterEmailReport(models.Model):
    """Email Service report (read only, a database view)."""

    _name = 'postcenter.email.report'
    _description = 'Email Service Report'
    _auto = False
    _rec_name = 'ticket_id'
    _order = 'first_customer_email_date desc'

    ticket_id = fields.Many2one('helpdesk.ticket', readonly=True)
    first_customer_email_date = fields.Datetime(string='Received On', readonly=True)
    email_account_id = fields.Many2one('postcenter.email.account', readonly=True)
    team_id = fields.Many2one('helpdesk.ticket.team', readonly=True)
    user_id = fields.Many2one('res.users', string='Agent', readonly=True)
    channel_id = fields.Many2one('helpdesk.ticket.channel', readonly=True)
    company_id = fields.Many2one('res.company', readonly=True)
    partner_id = fields.Many2one('res.partner', string='Customer', readonly=True)
    stage_id = fields.Many2one('helpdesk.ticket.stage', readonly=True)
    closed = fields.Boolean(readonly=True)
    is_important = fields.Boolean(string='Important', readonly=True)
    is_late = fields.Boolean(string='Late Now', readonly=True)
    agent_waiting_since = fields.Datetime(string='Waiting for the Customer Since', readonly=True)
    closed_date = fields.Datetime(string='Closed On', readonly=True)
    first_answer_date = fields.Datetime(string='First Answer', readonly=True)
    first_answer_sla = fields.Selection(SLA_STATES, string='First Answer Within SLA', readonly=True)

    ticket_count = fields.Integer(string='Tickets', readonly=True)
    late_ticket_count = fields.Integer(string='Late Tickets', readonly=True,
                                       help='Tickets that were late at least once.')
    first_response_hours = fields.Float(string='First Response, Average (h)', readonly=True, group_operator='avg')
    first_response_median = fields.Float(string='First Response, Median (h)', readonly=True,
                                         group_operator=MEDIAN)
    first_response_work_hours = fields.Float(string='First Response in Working Hours, Average (h)', readonly=True,
                                             group_operator='avg')
    first_response_work_median = fields.Float(string='First Response in Working Hours, Median (h)', readonly=True,
                                              group_operator=MEDIAN)
    sla_within = fields.Float(string='% Within SLA', readonly=True, group_operator='avg',
                              help='Of the tickets whose first answer is decided (given, or late), the share answered '
                                   'within the response time.')
    time_to_close_hours = fields.Float(string='Time to Close, Average (h)', readonly=True, group_operator='avg')
    customer_email_count = fields.Integer(string='Customer Emails', readonly=True)
    agent_answer_count = fields.Integer(string='Agent Answers', readonly=True)
    reopen_count = fields.Integer(string='Times Reopened', readonly=True)
    late_hours = fields.Float(string='Time Late (h)', readonly=True)

    @api.model_cr
    def init(self):
        """The median aggregate and the view."""
        cr = self.env.cr
        cr.execute("""
            CREATE OR REPLACE FUNCTION postcenter_median_final(double precision[]) RETURNS double precision
                LANGUAGE sql IMMUTABLE AS
                $$ SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY value) FROM unnest($1) AS value $$""")
        cr.execute("""
            CREATE OR REPLACE AGGREGATE postcenter_median(double precision) (
                SFUNC = array_append, STYPE = double precision[], FINALFUNC = postcenter_median_final,
                INITCOND = '{}')""")
        tools.drop_view_if_exists(cr, self._table)
        cr.execute("""
            CREATE VIEW postcenter_email_report AS (
                SELECT t.id, t.id AS ticket_id, t.first_customer_email_date, t.email_account_id, t.team_id,
                       t.user_id, t.channel_id, t.company_id, t.partner_id, t.stage_id,
                       coalesce(s.closed, false) AS closed, coalesce(t.is_important, false) AS is_important,
                       coalesce(t.is_late, false) AS is_late, t.agent_waiting_since, t.closed_date,
                       t.first_answer_date, t.first_answer_sla,
                       1 AS ticket_count,
                       CASE WHEN t.late_count > 0 OR t.is_late THEN 1 ELSE 0 END AS late_ticket_count,
                       (t.first_response_time / 3600.0)::double precision AS first_response_hours,
                       (t.first_response_time / 3600.0)::double precision AS first_response_median,
                       (t.first_response_work_time / 3600.0)::double precision AS first_response_work_hours,
                       (t.first_response_work_time / 3600.0)::double precision AS first_response_work_median,
                       (CASE t.first_answer_sla WHEN 'met' THEN 100.0 WHEN 'missed' THEN 0.0 END)::double precision
                           AS sla_within,
                       (t.time_to_close / 3600.0)::double precision AS time_to_close_hours,
                       coalesce(t.customer_email_count, 0) AS customer_email_count,
                       coalesce(t.agent_answer_count, 0) AS agent_answer_count,
                       coalesce(t.reopen_count, 0) AS reopen_count,
                       (coalesce(t.late_time, 0) / 3600.0)::double precision AS late_hours
                  FROM helpdesk_ticket t
                  LEFT JOIN helpdesk_ticket_stage s ON s.id = t.stage_id
                 WHERE t.email_account_id IS NOT NULL
            )""")
