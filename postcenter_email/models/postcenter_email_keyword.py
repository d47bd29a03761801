from odoo import api, fields, models


class PostcenterEmailKeyword(models.Model):
    """A word or short phrase that marks a ticket as important."""

    _name = 'postcenter.email.keyword'
    _description = 'Important Keyword'
    _order = 'name'

    name = fields.Char(string='Keyword', required=True)

    _sql_constraints = [('name_unique', 'unique(name)', 'This keyword exists already.')]

    @api.model
    def create(self, vals):
        """Keywords are stored trimmed, with single spaces."""
        if vals.get('name'):
            vals = dict(vals, name=' '.join(vals['name'].split()))
        return super().create(vals)
