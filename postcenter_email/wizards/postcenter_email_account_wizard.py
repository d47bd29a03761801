from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..models.postcenter_email_account_oauth import IMAP_AUTH
from ..services import addresses, forwarding, imap, oauth, providers
from ..services.exceptions import MailServerError

PRESET_SELECTION = [(preset.key, preset.label) for preset in providers.IMAP_PRESETS] + [('custom', 'Other server')]


class PostcenterEmailAccountWizard(models.TransientModel):
    """"Add account": step 1 chooses IMAP or forwarding, step 2 asks for the account's details."""

    _name = 'postcenter.email.account.wizard'
    _description = 'Add Email Account'

    step = fields.Selection([('type', 'Connection type'), ('details', 'Account details')],
                            default='type', required=True)
    connection_type = fields.Selection(
        [('imap', 'IMAP'), ('forward', 'Forwarding')], default='imap', required=True,
        help='IMAP: the helpdesk reads your mailbox directly.\n'
             'Forwarding: your mail provider forwards incoming emails to an address we give you.')
    name = fields.Char(string='Account Name', help='The name users and customers will see for this account.')
    email = fields.Char()
    imap_preset = fields.Selection(PRESET_SELECTION, string='Provider', default='custom')
    imap_host = fields.Char(string='IMAP Server')
    imap_port = fields.Integer(string='IMAP Port', default=993)
    imap_ssl = fields.Boolean(string='SSL Encryption', default=True)
    imap_user = fields.Char(string='IMAP User')
    imap_password = fields.Char(string='IMAP Password')
    imap_auth = fields.Selection(
        IMAP_AUTH, string='Authentication', default='password', required=True,
        help='Microsoft 365 and Outlook.com accept only the sign-in with Microsoft for IMAP. Gmail and Google '
             'Workspace: the sign-in with Google, or an app password (with 2-Step Verification).')
    oauth_shared_mailbox = fields.Boolean(
        string='Shared Mailbox',
        help='Microsoft 365 shared mailbox: sign in as a user who has access to it.')
    oauth_nonce = fields.Char(string='Sign-in Nonce')
    oauth_verifier = fields.Char(string='PKCE Verifier')
    forward_token = fields.Char(default=lambda self: forwarding.new_token())
    forward_address = fields.Char(string='Forwarding Address', compute='_compute_forward_address')
    error_message = fields.Text(readonly=True)

    @api.depends('email', 'forward_token')
    def _compute_forward_address(self):
        accounts = self.env['postcenter.email.account']
        for wizard in self:
            try:
                email = addresses.normalize_address(wizard.email)
            except addresses.InvalidAddress:
                wizard.forward_address = False
                continue
            wizard.forward_address = forwarding.forward_address(
                email, wizard.forward_token or forwarding.new_token(), accounts._forwarding_domain())

    # ------------------------------------------------------------------
    # As the user types
    # ------------------------------------------------------------------

    @api.onchange('imap_preset')
    def _onchange_imap_preset(self):
        preset = providers.imap_preset(self.imap_preset)
        if preset:
            self.imap_host, self.imap_port, self.imap_ssl = preset.host, preset.port, preset.ssl
        if self.imap_preset in ('gmail', 'outlook') and self.imap_auth == 'password':
            self.imap_auth = 'google' if self.imap_preset == 'gmail' else 'microsoft'

    @api.onchange('email')
    def _onchange_email(self):
        if not self.email:
            return None
        try:
            email = addresses.normalize_address(self.email)
        except addresses.InvalidAddress as error:
            message = self.env['postcenter.email.account']._address_error(error, _('Email'))
            return {'warning': {'title': _('Email'), 'message': message}}
        self.email = email
        if not self.imap_user:
            self.imap_user = email
        provider = oauth.guess_provider(email)
        if provider and self.imap_auth == 'password':
            self.imap_auth = provider
        preset = providers.guess_imap_preset(email)
        if preset and not self.imap_host:
            self.imap_preset = preset.key
            self.imap_host, self.imap_port, self.imap_ssl = preset.host, preset.port, preset.ssl
        return None

    @api.onchange('imap_auth')
    def _onchange_imap_auth(self):
        profile = oauth.profile(self.imap_auth)
        if profile:
            self.imap_host, self.imap_port, self.imap_ssl = profile.imap_host, profile.imap_port, True
            self.imap_preset = 'gmail' if profile.key == 'google' else 'outlook'

    @api.onchange('imap_port')
    def _onchange_imap_port(self):
        if self.imap_port and not 1 <= self.imap_port <= 65535:
            return {'warning': {'title': _('IMAP Port'),
                                'message': _('%s is not a port number (1 to 65535).') % self.imap_port}}
        return None

    # ------------------------------------------------------------------
    # Steps
    # ------------------------------------------------------------------

    def _reopen(self):
        return {
            'type': 'ir.actions.act_window', 'res_model': self._name, 'res_id': self.id,
            'view_mode': 'form', 'views': [(False, 'form')], 'target': 'new', 'name': _('Add Email Account'),
        }

    @api.multi
    def action_next(self):
        self.ensure_one()
        self.step = 'details'
        return self._reopen()

    @api.multi
    def action_back(self):
        self.ensure_one()
        self.write({'step': 'type', 'error_message': False})
        return self._reopen()

    def _account_values(self):
        """The account's values from what was typed; a ``UserError`` names the first field that is wrong."""
        if not (self.name or '').strip():
            raise UserError(_('Account Name: enter the name users will see for this account.'))
        try:
            email = addresses.normalize_address(self.email)
        except addresses.InvalidAddress as error:
            raise UserError(self.env['postcenter.email.account']._address_error(error, _('Email')))
        values = {'name': self.name.strip(), 'email': email, 'connection_type': self.connection_type}
        if self.connection_type == 'imap':
            if not (self.imap_host or '').strip():
                raise UserError(_('IMAP Server: enter the server address, e.g. imap.gmail.com.'))
            if not 1 <= (self.imap_port or 0) <= 65535:
                raise UserError(_('IMAP Port: %s is not a port number (1 to 65535; usually 993 with SSL, '
                                  '143 without).') % (self.imap_port or 0))
            if not (self.imap_user or '').strip():
                raise UserError(_('IMAP User: enter the user name, usually the email address.'))
            if not self.imap_password and self.imap_auth == 'password':
                raise UserError(_('IMAP Password: enter the password of the mailbox.'))
            values.update(imap_host=self.imap_host.strip(), imap_port=self.imap_port, imap_ssl=self.imap_ssl,
                          imap_user=self.imap_user.strip(), imap_auth=self.imap_auth,
                          oauth_shared_mailbox=self.oauth_shared_mailbox)
            if self.imap_auth == 'password':
                values['imap_password'] = self.imap_password
        return values

    def _open_accounts(self):
        """Close the wizard; the account list that opened it reloads and shows the new account."""
        return {'type': 'ir.actions.act_window_close'}

    @api.multi
    def action_connect(self):
        """IMAP: log in and open INBOX; only then is the account saved, as connected."""
        self.ensure_one()
        values = self._account_values()
        accounts = self.env['postcenter.email.account']
        try:
            imap.check_mailbox(values['imap_host'], values['imap_port'], values['imap_ssl'],
                               values['imap_user'], values['imap_password'], timeout=accounts._imap_timeout())
        except MailServerError as error:
            self.error_message = accounts._describe_server_error(error, values['imap_host'], values['imap_port'])
            return self._reopen()
        try:
            account = accounts.create(values)
        except ValidationError as error:
            raise UserError(error.name)
        account._set_connected()
        return self._open_accounts()

    @api.multi
    def action_oauth_sign_in(self):
        """Sign in with Google or Microsoft: returns the act_url of the provider's page. The account is saved,
        connected, when the provider sends the administrator back and an IMAP login with the token works."""
        self.ensure_one()
        values = self._account_values()
        if self.imap_auth not in ('google', 'microsoft'):
            raise UserError(_('Choose Google or Microsoft as the authentication first.'))
        self.write({'error_message': False, 'step': 'details'})
        return self.env['postcenter.email.account']._oauth_start(self, 'wizard', self.imap_auth,
                                                                 values['imap_user'])

    @api.multi
    def _oauth_connect(self, provider, tokens, login):
        """The sign-in worked: the account is created, Connected, once an IMAP login with the token worked."""
        self.ensure_one()
        values = self._account_values()
        accounts = self.env['postcenter.email.account']
        accounts._oauth_check_login(login, values['email'], self.oauth_shared_mailbox, values['imap_host'],
                                    values['imap_port'], values['imap_ssl'], values['imap_user'],
                                    tokens.access_token)
        values.update(accounts._oauth_token_values(provider, tokens, login))
        try:
            account = accounts.create(values)
        except ValidationError as error:
            raise UserError(error.name)
        account._set_connected()
        return account

    @api.multi
    def _oauth_failed(self, message):
        self.write({'error_message': message, 'step': 'details'})

    @api.multi
    def _oauth_page(self):
        return '/web#id=%d&model=%s&view_type=form' % (self.id, self._name)

    @api.multi
    def action_save_forwarding(self):
        """Forwarding: save the account with its forwarding address, not validated yet."""
        self.ensure_one()
        values = self._account_values()
        accounts = self.env['postcenter.email.account']
        values['forward_address'] = accounts._new_forward_address(values['email'], token=self.forward_token)
        try:
            accounts.create(values)
        except ValidationError as error:
            raise UserError(error.name)
        return self._open_accounts()
