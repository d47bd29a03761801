from odoo import fields, models


class ResUsers(models.Model):
    """Agents say whether they take Email-channel tickets (the "no agent available" automatic reply)."""

    _inherit = 'res.users'

    helpdesk_available = fields.Boolean(
        string='Available for Helpdesk Tickets', default=True,
        help='Switch it off when you are away: while no agent of a team is available and connected, the '
             '"no agent available" automatic reply answers new emails.')

    def __init__(self, pool, cr):
        """Agents switch their own availability from their preferences."""
        super().__init__(pool, cr)
        type(self).SELF_WRITEABLE_FIELDS = list(self.SELF_WRITEABLE_FIELDS) + ['helpdesk_available']
        type(self).SELF_READABLE_FIELDS = list(self.SELF_READABLE_FIELDS) + ['helpdesk_available']
