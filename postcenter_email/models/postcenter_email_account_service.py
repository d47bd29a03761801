"""Service quality of an account: its six automatic replies, its working hours and whether an agent of its
team is available right now."""
# The account model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited

import datetime

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.bus.models.bus_presence import AWAY_TIMER, DISCONNECTION_TIMER

from ..services import autoreply, availability, schedule
from .postcenter_email_account import TIME_UNITS


class PostcenterEmailAccount(models.Model):
    """Automatic replies, working hours and agent availability of an email account."""

    _inherit = 'postcenter.email.account'

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

    @api.constrains('sla_time', 'autoclose_enabled', 'autoclose_time', 'autoreply_hourly_limit')
    def _check_service_times(self):
        for account in self:
            if account.sla_time < 0:
                raise ValidationError(_('Response Time (SLA): %s is not a duration; write 0 for no response time, or '
                                        'a positive number.') % account.sla_time)
            if account.autoclose_enabled and account.autoclose_time <= 0:
                raise ValidationError(_('Close After: write a positive number of %s, or switch off the automatic '
                                        'close.') % dict(TIME_UNITS)[account.autoclose_unit].lower())
            if account.autoreply_hourly_limit < 1:
                raise ValidationError(_('Automatic Replies per Address per Hour: %s is too low; it must be at least '
                                        '1.') % account.autoreply_hourly_limit)

    @api.constrains('resource_calendar_id')
    def _check_working_hours(self):
        for account in self.filtered(lambda a: not a.resource_calendar_id):
            if account.autoreply_ids.filtered(lambda reply: reply.kind == 'out_of_hours' and reply.active):
                raise ValidationError(_('Working Hours: "Out of working hours" is switched on and needs them; switch '
                                        'it off first, or choose another schedule.'))

    # ------------------------------------------------------------------
    # Automatic replies, working hours, agents
    # ------------------------------------------------------------------

    @api.model
    def _ensure_all_autoreplies(self):
        """Install and upgrade: every account, archived ones too, has its six automatic replies."""
        # Install and upgrade: every account, once.
        self.sudo().with_context(active_test=False).search([])._ensure_autoreplies()  # pylint: disable=no-search-all

    @api.multi
    def _ensure_autoreplies(self):
        """Every account has its six automatic replies, switched off until the admin writes them."""
        Autoreply = self.env['postcenter.email.autoreply'].sudo().with_context(active_test=False)
        for account in self:
            existing = set(Autoreply.search([('account_id', '=', account.id)]).mapped('kind'))
            for sequence, kind in enumerate(autoreply.KINDS):
                if kind not in existing:
                    Autoreply.create({'account_id': account.id, 'kind': kind, 'sequence': sequence})

    @api.multi
    def _is_out_of_hours(self, now):
        """Whether ``now`` (UTC) is outside the account's working hours: the attendances and public holidays
        of its schedule, in the schedule's time zone. Without a schedule, never."""
        moment = fields.Datetime.from_string(now)
        intervals = self._working_intervals(moment, moment + datetime.timedelta(minutes=1))
        return intervals is not None and not schedule.is_working_time(intervals, moment)

    @api.multi
    def _working_intervals(self, start, end):
        """The working intervals (``(start, end)`` pairs in UTC) of the account's schedule from ``start`` to
        ``end`` (datetimes, UTC), at least: its attendances minus its public holidays, read in the schedule's time
        zone. ``None`` when the account has no schedule."""
        self.ensure_one()
        calendar = self.sudo().resource_calendar_id
        if not calendar:
            return None
        # from the start of ``start``'s day in the schedule's zone: Odoo 11 steps from ``start`` a day at a time
        # and would leave out the last day when the span ends earlier in its day than it starts
        zone = pytz.timezone(calendar.tz or 'UTC')
        local = pytz.utc.localize(start).astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        midnight = zone.normalize(local).astimezone(pytz.utc).replace(tzinfo=None)
        days = calendar.with_context(tz=zone.zone)._iter_work_intervals(min(midnight, start), end, None,
                                                                        compute_leaves=True)
        return [(begin, finish) for day in days for begin, finish, _data in day]

    @api.multi
    def _team_agents(self):
        """Who may take the account's tickets: active internal members of its team (every helpdesk user when
        it has none)."""
        self.ensure_one()
        users = self.sudo().team_id.user_ids if self.team_id else \
            self.env.ref('helpdesk_mgmt.group_helpdesk_user').sudo().users
        return users.filtered(lambda user: user.active and not user.share)

    @api.multi
    def _agent_available(self, now):
        """Whether one of ``_team_agents`` has "Available for Helpdesk Tickets" on and is connected to Odoo,
        not idle, at ``now`` (``services.availability``)."""
        users = self._team_agents()
        if not users:
            return False
        self.env.cr.execute('SELECT user_id, last_poll, last_presence FROM bus_presence WHERE user_id IN %s',
                            (tuple(users.ids),))
        presence = {user_id: (poll, seen) for user_id, poll, seen in self.env.cr.fetchall()}
        agents = []
        for user in users:
            poll, seen = presence.get(user.id, (None, None))
            agents.append(availability.Agent(user.id, user.helpdesk_available, fields.Datetime.from_string(poll),
                                             fields.Datetime.from_string(seen)))
        return availability.anyone_available(agents, fields.Datetime.from_string(now), DISCONNECTION_TIMER,
                                             AWAY_TIMER)
