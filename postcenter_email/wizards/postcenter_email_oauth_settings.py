from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..models.postcenter_email_account import MANAGERS
from ..services import oauth

PARAM = 'postcenter_email.oauth.%s.%s'
KEYS = [(provider, key) for provider in ('google', 'microsoft')
        for key in ('client_id', 'client_secret') + oauth.ENDPOINT_KEYS] + [('microsoft', 'tenant')]


class PostcenterEmailOAuthSettings(models.TransientModel):
    """Settings (managers only): the client of the helpdesk at Google and Microsoft, and their endpoints, kept as
    system parameters ``postcenter_email.oauth.<provider>.<key>``."""

    _name = 'postcenter.email.oauth.settings'
    _description = 'OAuth Providers of Email Accounts'

    redirect_uri = fields.Char(string='Redirect URI', readonly=True,
                               help='Copy it into the Google Cloud console and the Microsoft Entra admin center.')
    google_client_id = fields.Char(string='Google Client ID')
    google_client_secret = fields.Char()
    google_authorize_url = fields.Char(string='Google Authorization Endpoint')
    google_token_url = fields.Char(string='Google Token Endpoint')
    google_userinfo_url = fields.Char(string='Google Userinfo Endpoint')
    microsoft_client_id = fields.Char(string='Microsoft Application (Client) ID')
    microsoft_client_secret = fields.Char()
    microsoft_tenant = fields.Char(
        help='organizations: work or school accounts of any organisation; common: also personal Outlook.com and '
             'Hotmail accounts; or your tenant\'s ID or domain to accept only your organisation.')
    microsoft_authorize_url = fields.Char(string='Microsoft Authorization Endpoint')
    microsoft_token_url = fields.Char(string='Microsoft Token Endpoint')
    microsoft_userinfo_url = fields.Char(string='Microsoft Userinfo Endpoint')

    def _check_manager(self):
        if not self.env.user._is_superuser() and not self.user_has_groups(MANAGERS):
            raise AccessError(_('Only helpdesk managers may see or change the OAuth providers.'))

    @api.model
    def default_get(self, field_names):
        """The current system parameters (the providers' real endpoints where none is set)."""
        self._check_manager()
        values = super().default_get(field_names)
        params = self.env['ir.config_parameter'].sudo()
        for provider, key in KEYS:
            default = getattr(oauth.profile(provider), key, '') if key in oauth.ENDPOINT_KEYS else ''
            if key == 'tenant':
                default = oauth.DEFAULT_TENANT
            values['%s_%s' % (provider, key)] = params.get_param(PARAM % (provider, key)) or default
        values['redirect_uri'] = self.env['postcenter.email.account']._oauth_redirect_uri()
        return values

    @api.multi
    def action_save(self):
        """Store the settings as system parameters."""
        self.ensure_one()
        self._check_manager()
        params = self.env['ir.config_parameter'].sudo()
        for provider, key in KEYS:
            params.set_param(PARAM % (provider, key), (self['%s_%s' % (provider, key)] or '').strip())
        return {'type': 'ir.actions.act_window_close'}
