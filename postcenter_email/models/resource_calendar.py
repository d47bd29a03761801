from odoo import fields, models

from odoo.addons.base.res.res_partner import _tz_get


class ResourceCalendar(models.Model):
    """Working schedules say which time zone their hours are in (as in later Odoo versions)."""

    _inherit = 'resource.calendar'

    tz = fields.Selection(_tz_get, string='Timezone', required=True,
                          default=lambda self: self.env.context.get('tz') or self.env.user.tz or 'UTC',
                          help='The hours of this schedule are in this time zone.')
