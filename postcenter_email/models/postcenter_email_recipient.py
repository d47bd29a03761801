from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..services import addresses


class PostcenterEmailRecipient(models.Model):
    """An email address typed as a tag (ticket notifications, contact forms)."""

    _name = 'postcenter.email.recipient'
    _description = 'Email Address'
    _order = 'name'

    name = fields.Char(string='Email', required=True)

    _sql_constraints = [('name_unique', 'unique(name)', 'This address exists already.')]

    @api.model
    def _normalized(self, value):
        try:
            return addresses.normalize_address(value).lower()
        except addresses.InvalidAddress as error:
            raise ValidationError(self.env['postcenter.email.account']._address_error(error, _('Email')))

    @api.model
    def create(self, vals):
        """Each address is validated and stored lower-case, once."""
        if 'name' in vals:
            vals = dict(vals, name=self._normalized(vals['name']))
        return super().create(vals)

    @api.model
    def name_create(self, name):
        """Typing an address that exists picks it instead of failing."""
        existing = self.search([('name', '=', self._normalized(name))], limit=1)
        if existing:
            return existing.name_get()[0]
        return super().name_create(name)
