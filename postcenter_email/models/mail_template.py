from odoo import api, models

from odoo.addons.mail.models import mail_template as core

from ..services import templates

# Odoo's two Jinja environments of mail templates (escaping and not): compiled templates reused inside ``reusing``
for _environment in (core.mako_template_env, core.mako_safe_template_env):
    templates.install(_environment)


class MailTemplate(models.Model):
    """Templates are compiled once per text and reused: Odoo 11 compiles the text of a template for every email it
    renders (each notification, each automatic email)."""

    _inherit = 'mail.template'

    @api.model
    def render_template(self, template_txt, model, res_ids, post_process=False):
        """Odoo's rendering, with the compiled template of the same text reused (``services.templates``): the same
        output, without compiling it again."""
        with templates.reusing():
            return super().render_template(template_txt, model, res_ids, post_process=post_process)
