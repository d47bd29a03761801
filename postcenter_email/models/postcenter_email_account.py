from urllib.parse import urlparse

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..services import addresses, forwarding, imap
from ..services.exceptions import MailServerError

MANAGERS = 'helpdesk_mgmt.group_helpdesk_manager,base.group_system'
SECRET_FIELDS = ('imap_password',)


class PostcenterEmailAccount(models.Model):
    """A company mailbox connected to the helpdesk, by IMAP or by forwarding."""

    _name = 'postcenter.email.account'
    _description = 'Email Account'
    _order = 'name, id'

    name = fields.Char(
        string='Account Name', required=True,
        help='How this account is called; customers see it as the sender name of replies.')
    email = fields.Char(string='Email', required=True, help='The mailbox address connected to the helpdesk.')
    connection_type = fields.Selection(
        [('imap', 'IMAP'), ('forward', 'Forwarding')], string='Connection Type',
        required=True, default='imap',
        help='IMAP: the helpdesk reads the mailbox directly.\n'
             'Forwarding: the mail provider forwards every incoming email to the forwarding address.')
    imap_host = fields.Char(string='IMAP Server')
    imap_port = fields.Integer(string='IMAP Port', default=993)
    imap_ssl = fields.Boolean(string='SSL Encryption', default=True,
                              help='Connect with SSL/TLS from the start (usually port 993).')
    imap_user = fields.Char(string='IMAP User')
    imap_password = fields.Char(string='IMAP Password', groups=MANAGERS, copy=False)
    forward_address = fields.Char(
        string='Forwarding Address', copy=False, readonly=True,
        help='Set your mail provider to forward incoming mail to this address.')
    state = fields.Selection(
        [('not_validated', 'Not validated'), ('connected', 'Connected'), ('error', 'Error')],
        string='Status', required=True, default='not_validated', copy=False, readonly=True)
    last_error = fields.Text(string='Last Error', readonly=True, copy=False)
    last_error_date = fields.Datetime(string='Last Error On', readonly=True, copy=False)
    last_check_date = fields.Datetime(string='Last Successful Connection', readonly=True, copy=False)
    team_id = fields.Many2one('helpdesk.ticket.team', string='Helpdesk Team',
                              help='Team that receives the tickets of this account.')
    company_id = fields.Many2one(
        'res.company', string='Company', required=True,
        default=lambda self: self.env['res.company']._company_default_get('postcenter.email.account'))
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ('forward_address_unique', 'unique(forward_address)',
         'This forwarding address is already used by another account.'),
    ]

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------

    @api.model
    def _address_error(self, error, label):
        """``Field: "value" is not a valid email address. Why.`` in the user's language."""
        reasons = {
            'empty': _('The address is empty.'),
            'missing_at': _('An email address needs an @ followed by a domain, like name@example.com.'),
        }
        reason = reasons.get(error.code) or _('Check it for typos, spaces or missing parts (%s).') % error.detail
        return _('%s: "%s" is not a valid email address. %s') % (label, error.value, reason)

    @api.model
    def _normalize_email_field(self, value, label):
        """Normalised address, or a ``ValidationError`` naming the field."""
        try:
            return addresses.normalize_address(value)
        except addresses.InvalidAddress as error:
            raise ValidationError(self._address_error(error, label))

    @api.model
    def _normalize_vals(self, vals):
        """Normalise typed values before they are stored."""
        vals = dict(vals)
        if vals.get('email'):
            vals['email'] = self._normalize_email_field(vals['email'], _('Email'))
        for key in ('name', 'imap_host', 'imap_user'):
            if isinstance(vals.get(key), str):
                vals[key] = vals[key].strip()
        return vals

    @api.constrains('email')
    def _check_email(self):
        for account in self:
            self._normalize_email_field(account.email, _('Email'))
            twin = self.search([('id', '!=', account.id), ('email', 'ilike', account.email)]).filtered(
                lambda other: other.email.lower() == account.email.lower())[:1]
            if twin:
                raise ValidationError(_('Email: %s is already connected as the account "%s".')
                                      % (account.email, twin.name))

    @api.constrains('connection_type', 'imap_host', 'imap_port', 'imap_user')
    def _check_imap_settings(self):
        for account in self.filtered(lambda a: a.connection_type == 'imap'):
            if not account.imap_host:
                raise ValidationError(_('IMAP Server: enter the server address, e.g. imap.gmail.com.'))
            if not 1 <= account.imap_port <= 65535:
                raise ValidationError(_('IMAP Port: %s is not a port number (1 to 65535; usually 993 with SSL, '
                                        '143 without).') % account.imap_port)
            if not account.imap_user:
                raise ValidationError(_('IMAP User: enter the user name, usually the email address.'))

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model
    def create(self, vals):
        """Normalise typed values and give forwarding accounts their address."""
        vals = self._normalize_vals(vals)
        if vals.get('connection_type') == 'forward' and not vals.get('forward_address') and vals.get('email'):
            vals['forward_address'] = self._new_forward_address(vals['email'])
        return super().create(vals)

    @api.multi
    def write(self, vals):
        """Normalise typed values; a changed connection must be tested again."""
        vals = self._normalize_vals(vals)
        connection_fields = {'imap_host', 'imap_port', 'imap_ssl', 'imap_user', 'imap_password', 'connection_type'}
        if connection_fields & set(vals) and 'state' not in vals:
            vals['state'] = 'not_validated'
        return super().write(vals)

    @api.model
    def _search(self, args, offset=0, limit=None, order=None, count=False, access_rights_uid=None):
        """Searching on a password reveals it: only those who may read passwords may search on them."""
        searched = {leaf[0].split('.')[0] for leaf in args if isinstance(leaf, (list, tuple)) and len(leaf) == 3}
        if searched & set(SECRET_FIELDS) and not self._uid == SUPERUSER_ID and not self.user_has_groups(MANAGERS):
            raise AccessError(_('Only helpdesk managers may search email accounts by password.'))
        return super()._search(args, offset=offset, limit=limit, order=order, count=count,
                               access_rights_uid=access_rights_uid)

    # ------------------------------------------------------------------
    # Forwarding address
    # ------------------------------------------------------------------

    @api.model
    def _forwarding_domain(self):
        """The alias (catchall) domain of this Odoo, else the host of its web address."""
        params = self.env['ir.config_parameter'].sudo()
        domain = params.get_param('mail.catchall.domain')
        if not domain:
            domain = urlparse(params.get_param('web.base.url') or '').hostname
        return (domain or 'localhost').lower()

    @api.model
    def _new_forward_address(self, email, token=None):
        """A forwarding address for ``email`` that no account uses yet."""
        domain = self._forwarding_domain()
        candidate = forwarding.forward_address(email, token or forwarding.new_token(), domain)
        while self.with_context(active_test=False).search_count([('forward_address', '=', candidate)]):
            candidate = forwarding.forward_address(email, forwarding.new_token(), domain)
        return candidate

    # ------------------------------------------------------------------
    # Connection
    # ------------------------------------------------------------------

    @api.model
    def _describe_server_error(self, error, host, port):
        """Plain, translated words for a ``services.exceptions.MailServerError``."""
        messages = {
            'dns': _('The server name "%(host)s" could not be found. Check the IMAP server address.'),
            'refused': _('The server %(host)s refused the connection on port %(port)s. '
                         'Check the port, and whether SSL should be on.'),
            'timeout': _('The server %(host)s did not answer in time on port %(port)s. '
                         'It may be down, or a firewall may block that port.'),
            'tls': _('The secure connection (SSL/TLS) with %(host)s failed. Check the SSL switch and the port '
                     '(993 with SSL, 143 without). Server said: %(detail)s'),
            'auth': _('The server %(host)s rejected the user name or password. Check them; Gmail and Outlook '
                      'need an app password when two-step verification is on.'),
            'mailbox': _('Logged in to %(host)s, but the INBOX folder could not be opened: %(detail)s'),
            'protocol': _('The server %(host)s answered in a way that was not expected: %(detail)s'),
            'network': _('The connection to %(host)s was lost: %(detail)s'),
        }
        template = messages.get(error.kind, _('Unexpected error with the server %(host)s: %(detail)s'))
        return template % {'host': host, 'port': port, 'detail': error.detail}

    @api.model
    def _imap_timeout(self):
        """Seconds to wait for an IMAP server (system parameter ``postcenter_email.imap_timeout``)."""
        value = self.env['ir.config_parameter'].sudo().get_param('postcenter_email.imap_timeout')
        try:
            return max(1.0, float(value)) if value else float(imap.DEFAULT_TIMEOUT)
        except ValueError:
            return float(imap.DEFAULT_TIMEOUT)

    @api.multi
    def _imap_check(self):
        """Log in and open INBOX; raise a ``MailServerError`` on failure."""
        self.ensure_one()
        return imap.check_mailbox(self.imap_host, self.imap_port, self.imap_ssl, self.imap_user,
                                  self.sudo().imap_password or '', timeout=self._imap_timeout())

    @api.multi
    def _set_connected(self):
        self.write({'state': 'connected', 'last_error': False, 'last_check_date': fields.Datetime.now()})

    @api.multi
    def _set_error(self, message):
        self.write({'state': 'error', 'last_error': message, 'last_error_date': fields.Datetime.now()})

    @api.multi
    def action_test_connection(self):
        """Log in to each IMAP account and record the outcome on it (state, last error)."""
        for account in self:
            if account.connection_type != 'imap':
                raise UserError(_('"%s" receives mail by forwarding: there is no server to test.') % account.name)
            try:
                account._imap_check()
            except MailServerError as error:
                account._set_error(self._describe_server_error(error, account.imap_host, account.imap_port))
            else:
                account._set_connected()
        return True
