"""The Email Service dashboard: a card per account with its figures of now and of the last 7 days, each opening
the tickets behind it."""
# The account model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited

import datetime

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError

REPORTS = 'postcenter_email.group_postcenter_email_team_leader'
MANAGER = 'helpdesk_mgmt.group_helpdesk_manager'
COUNTS = (('open', 'dashboard_open_count'), ('late', 'dashboard_late_count'), ('waiting', 'dashboard_waiting_count'),
          ('closed_today', 'dashboard_closed_today_count'), ('answered_7d', 'dashboard_answered_count'),
          ('sla_7d', 'dashboard_sla_count'))


class PostcenterEmailAccount(models.Model):
    """The figures of an account's dashboard card."""

    _inherit = 'postcenter.email.account'

    dashboard_open_count = fields.Integer(compute='_compute_dashboard', string='Open Tickets', groups=REPORTS)
    dashboard_late_count = fields.Integer(compute='_compute_dashboard', string='Late Now', groups=REPORTS)
    dashboard_waiting_count = fields.Integer(compute='_compute_dashboard', string='Waiting for the Customer',
                                             groups=REPORTS)
    dashboard_closed_today_count = fields.Integer(compute='_compute_dashboard', string='Closed Today', groups=REPORTS)
    dashboard_answered_count = fields.Integer(compute='_compute_dashboard', string='Answered, Last 7 Days',
                                              groups=REPORTS)
    dashboard_response_median = fields.Float(compute='_compute_dashboard', groups=REPORTS,
                                             string='Median First Response, Last 7 Days (h)')
    dashboard_sla_count = fields.Integer(compute='_compute_dashboard', groups=REPORTS,
                                         string='SLA Decided, Last 7 Days')
    dashboard_sla_within = fields.Float(compute='_compute_dashboard', string='Within SLA, Last 7 Days (%)',
                                        groups=REPORTS)

    @api.model
    def _dashboard_domains(self, now):
        """The tickets behind each figure (without the account): open, late now, waiting for the customer, closed
        since midnight (in the user's time zone), and of those received in the 7 days before ``now``, the answered
        ones (their median first response) and those whose SLA is decided (their share within it)."""
        zone = pytz.timezone(self.env.context.get('tz') or self.env.user.tz or 'UTC')
        moment = fields.Datetime.from_string(now)
        midnight = pytz.utc.localize(moment).astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        today = fields.Datetime.to_string(zone.normalize(midnight).astimezone(pytz.utc).replace(tzinfo=None))
        week = fields.Datetime.to_string(moment - datetime.timedelta(days=7))
        return {
            'open': [('closed', '=', False)],
            'late': [('closed', '=', False), ('is_late', '=', True)],
            'waiting': [('closed', '=', False), ('agent_waiting_since', '!=', False)],
            'closed_today': [('closed', '=', True), ('closed_date', '>=', today)],
            'answered_7d': [('first_customer_email_date', '>=', week), ('first_answer_date', '!=', False)],
            'sla_7d': [('first_customer_email_date', '>=', week), ('first_answer_sla', '!=', False)],
        }

    @api.model
    def _dashboard_scope(self):
        """Which tickets the user's figures count: every one for a helpdesk manager, those of their teams for a team
        leader (as the report's record rules)."""
        return [] if self.env.user.has_group(MANAGER) else [('team_id.user_ids', 'in', [self.env.uid])]

    @api.multi
    def _compute_dashboard(self):
        """Each figure for every account at once: one grouped query on the report per figure."""
        Report = self.env['postcenter.email.report']
        domains = self._dashboard_domains(fields.Datetime.now())
        base = [('email_account_id', 'in', self.ids)]
        for figure, name in COUNTS:
            groups = Report.read_group(base + domains[figure], ['email_account_id'], ['email_account_id'])
            found = {group['email_account_id'][0]: group['email_account_id_count'] for group in groups}
            for account in self:
                account[name] = found.get(account.id, 0)
        for figure, measure, name in (('answered_7d', 'first_response_median', 'dashboard_response_median'),
                                      ('sla_7d', 'sla_within', 'dashboard_sla_within')):
            groups = Report.read_group(base + domains[figure], ['email_account_id', measure], ['email_account_id'])
            found = {group['email_account_id'][0]: group[measure] for group in groups}
            for account in self:
                account[name] = found.get(account.id) or 0.0

    @api.multi
    def action_dashboard_tickets(self):
        """The tickets behind one figure of the card (``postcenter_figure`` in the context)."""
        self.ensure_one()
        titles = {'open': _('Open Tickets'), 'late': _('Late Now'), 'waiting': _('Waiting for the Customer'),
                  'closed_today': _('Closed Today'), 'answered_7d': _('Answered, Last 7 Days'),
                  'sla_7d': _('SLA Decided, Last 7 Days')}
        figure = self.env.context.get('postcenter_figure')
        if figure not in titles:
            raise UserError(_('This figure of the dashboard does not exist.'))
        action = self.env.ref('helpdesk_mgmt.helpdesk_ticket_action').read()[0]
        title = '%s: %s' % (self.name, titles[figure])
        action.update({
            'name': title, 'display_name': title,
            'domain': [('email_account_id', '=', self.id)] + self._dashboard_domains(fields.Datetime.now())[figure] +
            self._dashboard_scope(),
            'context': {},
        })
        return action
