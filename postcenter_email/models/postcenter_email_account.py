import datetime
import logging
from contextlib import closing, contextmanager
from urllib.parse import urlparse

import psycopg2

from odoo import SUPERUSER_ID, _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.bus.models.bus_presence import AWAY_TIMER, DISCONNECTION_TIMER

from ..services import (addresses, autoreply, availability, backoff, blocklist, forwarding, imap, outage, progress,
                        providers, rfc822, schedule, signature, smtp)
from ..services.exceptions import MailServerError

_logger = logging.getLogger(__name__)
FETCH_LOCK = 7271  # first key of the advisory lock a fetch holds on its account

MANAGERS = 'helpdesk_mgmt.group_helpdesk_manager,base.group_system'
TIME_UNITS = [('seconds', 'Seconds'), ('minutes', 'Minutes'), ('hours', 'Hours')]
SCHEDULE_FIELDS = ('sla_time', 'sla_unit', 'autoclose_enabled', 'autoclose_time', 'autoclose_unit')
SECRET_FIELDS = ('imap_password', 'smtp_password', 'oauth_refresh_token', 'oauth_access_token', 'oauth_nonce',
                 'oauth_verifier')
CONNECTION_FIELDS = {'imap_host', 'imap_port', 'imap_ssl', 'imap_user', 'imap_password', 'connection_type'}
# The scheduled fetch's one look-up: IMAP accounts whose next attempt has come (index on next_attempt).
DUE_FOR_FETCH = """
    SELECT id FROM postcenter_email_account
     WHERE connection_type = 'imap' AND active AND (next_attempt IS NULL OR next_attempt <= %s)
     ORDER BY name, id"""


class FetchLockLost(Exception):
    """The connection that held a fetch's lock is gone: the fetch must stop (the next one resumes it)."""


class PostcenterEmailAccount(models.Model):
    """A company mailbox connected to the helpdesk, by IMAP or by forwarding."""

    _name = 'postcenter.email.account'
    _description = 'Email Account'
    _order = 'name, id'

    name = fields.Char(
        string='Account Name', required=True,
        help='How this account is called; customers see it as the sender name of replies.')
    email = fields.Char(required=True, help='The mailbox address connected to the helpdesk.')
    connection_type = fields.Selection(
        [('imap', 'IMAP'), ('forward', 'Forwarding')],
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
        [('not_validated', 'Not validated'), ('validating', 'Validating'), ('connected', 'Connected'),
         ('error', 'Error')],
        string='Status', required=True, default='not_validated', copy=False, readonly=True)
    last_error = fields.Text(readonly=True, copy=False)
    last_error_date = fields.Datetime(string='Last Error On', readonly=True, copy=False)
    last_check_date = fields.Datetime(string='Last Successful Connection', readonly=True, copy=False)
    team_id = fields.Many2one('helpdesk.ticket.team', string='Helpdesk Team',
                              help='Team that receives the tickets of this account.')
    company_id = fields.Many2one(
        'res.company', required=True,
        default=lambda self: self.env['res.company']._company_default_get('postcenter.email.account'))
    active = fields.Boolean(default=True)

    # -- Sending ---------------------------------------------------------------
    send_method = fields.Selection(
        [('default', "Default: the platform's no-reply address"), ('smtp', 'SMTP: my own mail server')],
        string='Sending Method', default='default', required=True,
        help="Default: replies leave from the platform's no-reply address, with Reply-To set to this account.\n"
             'SMTP: replies leave through your own mail server, from this account\'s address only.')
    smtp_preset = fields.Selection(
        [(preset.key, preset.label) for preset in providers.SMTP_PRESETS] + [('custom', 'Other server')],
        string='SMTP Provider', default='custom')
    smtp_host = fields.Char(string='SMTP Server')
    smtp_port = fields.Integer(string='SMTP Port', default=465)
    smtp_encryption = fields.Selection(
        [('ssl', 'SSL/TLS from the start (usually port 465)'), ('starttls', 'STARTTLS (usually port 587)'),
         ('none', 'None: not encrypted (not recommended)')],
        string='Encryption', default='ssl', required=True,
        help='How the connection to your SMTP server is encrypted. Gmail on port 465 encrypts from the start '
             '(SSL/TLS); Outlook / Office 365 on port 587 starts plain and switches to TLS (STARTTLS).')
    smtp_user = fields.Char(string='SMTP User')
    smtp_password = fields.Char(string='SMTP Password', groups=MANAGERS, copy=False)
    smtp_state = fields.Selection([('untested', 'Not tested'), ('ok', 'Working'), ('error', 'Error')],
                                  string='SMTP Status', default='untested', readonly=True, copy=False)
    smtp_last_error = fields.Text(string='SMTP Error', readonly=True, copy=False)
    mail_server_id = fields.Many2one('ir.mail_server', string='Outgoing Mail Server', readonly=True, copy=False,
                                     groups=MANAGERS)

    include_chain = fields.Boolean(
        string='Include Email Chain',
        help='Replies carry the last 10 emails of the conversation as a quoted history (newest first); '
             'otherwise only the new text.')
    signature = fields.Html(
        string='Email Signature', sanitize=True,
        help='Goes under the replies of this account. The buttons insert placeholders filled with the data of '
             'the agent who sends: a line whose data is missing disappears with its label.')

    # -- Service quality and automatic actions -----------------------------------
    sla_time = fields.Integer(
        string='Response Time (SLA)', default=24,
        help='Time after which a ticket without an answer from an agent is considered late. 0: no response time.')
    sla_unit = fields.Selection(TIME_UNITS, string='SLA Unit', default='hours', required=True)
    autoclose_enabled = fields.Boolean(
        string='Close Tickets Without an Answer from the Customer',
        help='Close a ticket automatically when the customer has not answered an agent for this long. The closing '
             'ignores every closing prerequisite, such as fields required to close.')
    autoclose_time = fields.Integer(string='Close After', default=72)
    autoclose_unit = fields.Selection(TIME_UNITS, string='Auto-Close Unit', default='hours', required=True)
    autoreply_ids = fields.One2many('postcenter.email.autoreply', 'account_id', string='Automatic Replies',
                                    context={'active_test': False})
    autoreply_hourly_limit = fields.Integer(
        string='Automatic Replies per Address per Hour', default=5,
        help='At most this many automatic replies go to one address in an hour, so that two robots can never '
             'answer each other for long.')
    resource_calendar_id = fields.Many2one(
        'resource.calendar', string='Working Hours',
        help='The working schedule (with its time zone and public holidays) of the "Out of working hours" reply.')
    close_required_field_ids = fields.Many2many(
        'ir.model.fields', 'postcenter_email_account_close_field_rel', 'account_id', 'field_id',
        string='Fields Required to Close',
        domain=[('model', '=', 'helpdesk.ticket'), ('store', '=', True),
                ('ttype', 'not in', ('one2many', 'binary', 'reference'))],
        help='An agent cannot close a ticket of this account while one of these fields is empty. The automatic '
             'close ignores them.')

    # -- Forwarding: Gmail's confirmation, validation ---------------------------
    gmail_confirmation_code = fields.Char(readonly=True, copy=False)
    gmail_confirmation_url = fields.Char(string='Gmail Confirmation Link', readonly=True, copy=False)
    gmail_confirmation_date = fields.Datetime(string='Gmail Confirmation Received', readonly=True, copy=False)
    validation_token = fields.Char(readonly=True, copy=False, groups=MANAGERS)
    validation_deadline = fields.Datetime(readonly=True, copy=False)

    # -- General options ---------------------------------------------------
    important_keyword_ids = fields.Many2many(
        'postcenter.email.keyword', 'postcenter_email_account_keyword_rel', 'account_id', 'keyword_id',
        string='Important Keywords',
        help='Words or short phrases; a new ticket whose subject or body contains one (ignoring case and '
             'accents, whole words only) is marked important.')
    notify_mode = fields.Selection(
        [('none', 'No notifications'), ('all', 'Every new ticket'), ('important', 'Important tickets only')],
        string='Ticket Notifications', default='none', required=True)
    notify_recipient_ids = fields.Many2many(
        'postcenter.email.recipient', 'postcenter_email_account_notify_rel', 'account_id', 'recipient_id',
        string='Notify', help='Addresses that receive a notice of new tickets.')
    create_ignored = fields.Boolean(string='Create Tickets as Ignored',
                                    help='New tickets start as ignored, out of the agents\' default view.')

    # -- Email options -------------------------------------------------------
    blocked_senders = fields.Text(
        help='Addresses separated by commas; write @domain.com to block a whole domain. '
             'Their mail never reaches the helpdesk.')
    contact_form_ids = fields.Many2many(
        'postcenter.email.recipient', 'postcenter_email_account_contact_form_rel', 'account_id', 'recipient_id',
        string='Contact Forms',
        help='Sender addresses of contact forms: for their mail, the customer is the first email address '
             'found in the body.')
    imap_after_fetch = fields.Selection(
        [('leave', 'Leave the mailbox as it is'), ('seen', 'Mark fetched mail as read')],
        string='After Fetching', default='leave', required=True,
        help='What the helpdesk does to the mailbox once an email is safely stored as a ticket.')

    # -- Fetch progress and problems --------------------------------------------
    folder_ids = fields.One2many('postcenter.email.folder', 'account_id', string='Folders', readonly=True)
    last_fetch_date = fields.Datetime(string='Last Fetch', readonly=True, copy=False)
    failed_ids = fields.One2many('postcenter.email.failed', 'account_id', string='Failed Emails', readonly=True)
    failed_count = fields.Integer(compute='_compute_counts', string='Failed Emails')
    receipt_count = fields.Integer(compute='_compute_counts', string='Received Emails')
    autoreply_sent_count = fields.Integer(compute='_compute_counts', string='Automatic Replies Sent')
    next_attempt = fields.Datetime(
        readonly=True, copy=False, index=True,
        help='The server rejected the user name or password: the scheduled fetch waits until then before logging '
             'in again (1, 2, 4 … up to 60 minutes after each rejection in a row), so that the provider does not '
             'lock the mailbox. Test Connection and Fetch Now try at once; changing the connection settings ends '
             'the wait.')
    login_rejections = fields.Integer(string='Rejected Logins in a Row', readonly=True, copy=False)
    failing_since = fields.Datetime(
        readonly=True, copy=False,
        help='When the account stopped working; cleared when it is connected again. The helpdesk managers are '
             'told by email when it starts, once.')
    failing_for = fields.Char(compute='_compute_failing_for',
                              help='How long the account has not been working.')

    _sql_constraints = [
        ('forward_address_unique', 'unique(forward_address)',
         'This forwarding address is already used by another account.'),
    ]

    @api.depends('failing_since')
    def _compute_failing_for(self):
        now = datetime.datetime.utcnow()
        units = {'d': _('%s d'), 'h': _('%s h'), 'min': _('%s min')}
        for account in self:
            if not account.failing_since:
                account.failing_for = False
                continue
            parts = outage.elapsed(fields.Datetime.from_string(account.failing_since), now)
            account.failing_for = ' '.join(units[unit] % number for number, unit in parts) or _('under a minute')

    @api.multi
    def _compute_counts(self):
        failed = {group['account_id'][0]: group['__count'] for group in
                  self.env['postcenter.email.failed'].sudo().read_group(
                      [('account_id', 'in', self.ids), ('state', '=', 'failed')], ['account_id'], ['account_id'],
                      lazy=False)}
        received = {group['account_id'][0]: group['__count'] for group in
                    self.env['postcenter.email.receipt'].sudo().read_group(
                        [('account_id', 'in', self.ids)], ['account_id'], ['account_id'], lazy=False)}
        replied = {group['account_id'][0]: group['__count'] for group in
                   self.env['postcenter.email.autoreply.log'].sudo().read_group(
                       [('account_id', 'in', self.ids)], ['account_id'], ['account_id'], lazy=False)}
        for account in self:
            account.failed_count = failed.get(account.id, 0)
            account.receipt_count = received.get(account.id, 0)
            account.autoreply_sent_count = replied.get(account.id, 0)

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
        return _('%(field)s: "%(value)s" is not a valid email address. %(why)s') % {
            'field': label, 'value': error.value, 'why': reason}

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
        for key in ('name', 'imap_host', 'imap_user', 'smtp_host', 'smtp_user'):
            if isinstance(vals.get(key), str):  # one line: these end up in mail headers (From, Reply-To)
                vals[key] = ' '.join(vals[key].split())
        return vals

    @api.constrains('email')
    def _check_email(self):
        for account in self:
            self._normalize_email_field(account.email, _('Email'))
            twin = self.search([('id', '!=', account.id), ('email', 'ilike', account.email)]).filtered(
                lambda other: other.email.lower() == account.email.lower())[:1]
            if twin:
                raise ValidationError(_('Email: %(email)s is already connected as the account "%(account)s".')
                                      % {'email': account.email, 'account': twin.name})

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

    @api.constrains('send_method', 'smtp_host', 'smtp_port')
    def _check_smtp_settings(self):
        for account in self.filtered(lambda a: a.send_method == 'smtp'):
            if not (account.smtp_host or '').strip():
                raise ValidationError(_('SMTP Server: enter the server address, e.g. smtp.gmail.com.'))
            if not 1 <= account.smtp_port <= 65535:
                raise ValidationError(_('SMTP Port: %s is not a port number (1 to 65535; usually 465 or 587).')
                                      % account.smtp_port)

    @api.onchange('smtp_preset')
    def _onchange_smtp_preset(self):
        preset = providers.smtp_preset(self.smtp_preset)
        if preset:
            self.smtp_host, self.smtp_port, self.smtp_encryption = preset.host, preset.port, preset.encryption
            self.smtp_user = self.smtp_user or self.email

    @api.constrains('blocked_senders')
    def _check_blocked_senders(self):
        for account in self:
            _listed, invalid = blocklist.parse(account.blocked_senders)
            if invalid:
                raise ValidationError(_('Blocked Senders: %s is not an email address or an @domain.')
                                      % ', '.join(invalid))

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
    # CRUD
    # ------------------------------------------------------------------

    @api.model
    def create(self, vals):
        """Normalise typed values and give forwarding accounts their address."""
        vals = self._normalize_vals(vals)
        if vals.get('connection_type') == 'forward' and not vals.get('forward_address') and vals.get('email'):
            vals['forward_address'] = self._new_forward_address(vals['email'])
        account = super().create(vals)
        account._sync_mail_server()
        account._ensure_autoreplies()
        return account

    @api.multi
    def write(self, vals):
        """Normalise typed values; a changed connection must be tested again, and switching to IMAP is
        tested before it is saved (a forwarding account gets its forwarding address when it needs one).
        Changed connection settings end the wait after rejected logins (they deserve a try at the next run);
        becoming connected ends the episode of failures."""
        vals = self._normalize_vals(vals)
        if vals.get('connection_type') == 'imap' and 'state' not in vals:
            for account in self.filtered(lambda record: record.connection_type != 'imap'):
                account._check_imap_values(vals)
            vals['state'] = 'connected'
        elif CONNECTION_FIELDS & set(vals) and 'state' not in vals:
            vals['state'] = 'not_validated'
        if CONNECTION_FIELDS & set(vals):
            vals.setdefault('next_attempt', False)
            vals.setdefault('login_rejections', 0)
        if vals.get('state') == 'connected':
            vals.update(failing_since=False, next_attempt=False, login_rejections=0)
        smtp_fields = {'send_method', 'smtp_host', 'smtp_port', 'smtp_encryption', 'smtp_user', 'smtp_password'}
        if smtp_fields & set(vals) and 'smtp_state' not in vals:
            vals['smtp_state'] = 'untested'
        result = super().write(vals)
        if smtp_fields & set(vals) or 'name' in vals:
            self._sync_mail_server()
        if set(SCHEDULE_FIELDS) & set(vals):
            for account in self:
                self.env['helpdesk.ticket']._postcenter_reschedule(account)
        if vals.get('connection_type') == 'forward':
            for account in self.filtered(lambda record: not record.forward_address):
                account.forward_address = self._new_forward_address(account.email)
        return result

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
        self.ensure_one()
        calendar = self.sudo().resource_calendar_id
        if not calendar:
            return False
        moment = fields.Datetime.from_string(now)
        days = calendar.with_context(tz=calendar.tz or 'UTC')._iter_work_intervals(
            moment, moment + datetime.timedelta(minutes=1), None, compute_leaves=True)
        return not schedule.is_working_time([(start, end) for day in days for start, end, _data in day], moment)

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

    @api.multi
    def _check_imap_values(self, vals):
        """Log in with the IMAP settings ``vals`` would give this account; a ``ValidationError`` if that fails."""
        self.ensure_one()
        merged = {key: vals.get(key, self.sudo()[key]) for key in
                  ('imap_host', 'imap_port', 'imap_ssl', 'imap_user', 'imap_password')}
        if not merged['imap_host'] or not merged['imap_user']:
            raise ValidationError(_('IMAP Server: enter the server, port, user and password before switching to IMAP.'))
        try:
            imap.check_mailbox(merged['imap_host'], merged['imap_port'], merged['imap_ssl'], merged['imap_user'],
                               merged['imap_password'] or '', timeout=self._imap_timeout())
        except MailServerError as error:
            raise ValidationError(_('The account stays on forwarding: %s')
                                  % self._describe_server_error(error, merged['imap_host'], merged['imap_port']))

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
        """Plain, translated words for a ``services.exceptions.MailServerError``: what happened and what the admin
        can do; the library's words, when they help, only as a technical detail at the end. A failure in the
        middle of a fetch (``error.midway``) says what became of the mail read so far."""
        detail = _('(Technical detail: %(detail)s)')
        messages = {
            'dns': _('The server name "%(host)s" could not be found. Check the IMAP server address.'),
            'refused': _('The server %(host)s refused the connection on port %(port)s. '
                         'Check the port, and whether SSL should be on.'),
            'timeout': _('The server %(host)s did not answer in time on port %(port)s. '
                         'It may be down, or a firewall may block that port.'),
            'tls': _('The secure connection (SSL/TLS) with %(host)s failed. Check the SSL switch and the port '
                     '(993 with SSL, 143 without).') + ' ' + detail,
            'auth': _('The server %(host)s rejected the user name or password. Check them. Gmail and Google Workspace '
                      'need an app password (with 2-Step Verification) or the sign-in with Google; Microsoft 365 and '
                      'Outlook.com accept only the sign-in with Microsoft (Authentication).'),
            'mailbox': _('Logged in to %(host)s, but its INBOX folder could not be opened. Check that this user '
                         'has an INBOX and may read it by IMAP (some providers need IMAP switched on in the '
                         'mailbox settings).') + ' ' + detail,
            'protocol': _('The server %(host)s on port %(port)s does not answer as an IMAP server does. Check that '
                          'this is the IMAP server and port of your mail provider.') + ' ' + detail,
            'network': _('The connection to the IMAP server %(host)s was cut before the helpdesk could log in. '
                         'Try again in a minute; if this keeps happening, check the server address and port, and '
                         'the network between the helpdesk and the server.'),
            'unavailable': _('The server %(host)s could not check the user name and password just now, a '
                             'temporary failure on its side (%(detail)s). The next fetch tries again.'),
        }
        midway = {
            'timeout': _('The IMAP server %(host)s stopped answering in the middle of the fetch. What was fetched '
                         'before is kept; the next fetch goes on from there. If this keeps happening, ask your '
                         'mail provider whether the server is overloaded.'),
            'protocol': _('The IMAP server %(host)s gave an answer the helpdesk did not expect in the middle of the '
                          'fetch, so the fetch stopped. What was fetched before is kept; the next fetch goes on '
                          'from there. If this keeps happening, ask your mail provider about it.') + ' ' + detail,
            'network': _('The connection to the IMAP server %(host)s was cut in the middle of the fetch. What was '
                         'fetched before is kept; the next fetch goes on from there. If this keeps happening, check '
                         'the network between the helpdesk and the server, or ask your mail provider whether it '
                         'limits connections.'),
        }
        template = (getattr(error, 'midway', False) and midway.get(error.kind)) or messages.get(error.kind) or \
            _('Something unexpected went wrong with the IMAP server %(host)s. Try again in a minute; if this keeps '
              'happening, ask your mail provider.') + ' ' + detail
        return template % {'host': host, 'port': port, 'detail': error.detail or type(error).__name__}

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
    def _imap_open_mailbox(self, name, readonly=True):
        """Log in and select the folder ``name``: the ``services.imap.Mailbox`` of a fetch."""
        self.ensure_one()
        return imap.open_mailbox(self.imap_host, self.imap_port, self.imap_ssl, self.imap_user, self._imap_secret(),
                                 name, readonly=readonly, timeout=self._imap_timeout())

    @api.multi
    def _imap_secret(self):
        """What the IMAP login gives as the password (an OAuth account gives its access token instead)."""
        self.ensure_one()
        return self.sudo().imap_password or ''

    @api.multi
    def _set_connected(self, now=None, values=None):
        """The connection worked at ``now``: Connected (which ends an episode of failures and any wait)."""
        self.write(dict(values or {}, state='connected', last_error=False,
                        last_check_date=now or fields.Datetime.now()))

    @api.multi
    def _set_failed(self, error, now=None, values=None):
        """The connection failed at ``now`` with ``error`` (a ``MailServerError``): Error with the reason in plain
        words; after a rejected login the next scheduled attempt waits (``services.backoff``); the first failure
        of an episode (none is open: the account was connected since the last one) tells the helpdesk managers."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        rejections, next_attempt = backoff.after_failure(error.kind, self.login_rejections,
                                                         fields.Datetime.from_string(now))
        values = dict(values or {}, state='error', last_error_date=now, login_rejections=rejections,
                      last_error=self._describe_server_error(error, self.imap_host, self.imap_port),
                      next_attempt=fields.Datetime.to_string(next_attempt) if next_attempt else False)
        starts_episode = not self.failing_since
        if starts_episode:
            values['failing_since'] = now
        self.write(values)
        if starts_episode:
            self._tell_managers_failing(error)

    @api.multi
    def _tell_managers_failing(self, error):
        """Email each helpdesk manager, in their language, that the account stopped working and why."""
        self.ensure_one()
        return self.env['postcenter.email.alert']._tell_managers(
            'postcenter_email.mail_template_account_failing', self,
            lambda account: {'postcenter_reason': account._describe_server_error(error, account.imap_host,
                                                                                 account.imap_port)})

    @api.multi
    def postcenter_backend_url(self):
        """Address of the account in the web client (for alerts)."""
        self.ensure_one()
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        return '%s/web#id=%d&model=postcenter.email.account&view_type=form' % (base, self.id)

    @api.multi
    def _blocklist(self):
        return blocklist.parse(self.blocked_senders)[0]

    @api.multi
    def _contact_form_addresses(self):
        return set(self.contact_form_ids.mapped('name'))

    @api.multi
    def _notify_new_ticket(self, ticket):
        """Queue a notice of ``ticket`` to the account's notification addresses, if its settings ask for one."""
        self.ensure_one()
        recipients = self.notify_recipient_ids.mapped('name')
        if not recipients or self.notify_mode == 'none' or \
                (self.notify_mode == 'important' and not ticket.is_important):
            return
        template = self.env.ref('postcenter_email.mail_template_ticket_notice')
        template.send_mail(ticket.id, email_values={
            'email_to': ','.join(recipients), 'recipient_ids': [],
            'headers': repr({'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All'}),
        })

    @api.multi
    def action_test_connection(self):
        """Log in to each IMAP account at once (whatever its next attempt) and record the outcome on it."""
        for account in self:
            if account.connection_type != 'imap':
                raise UserError(_('"%s" receives mail by forwarding: there is no server to test.') % account.name)
            try:
                account._imap_check()
            except MailServerError as error:
                account._set_failed(error)
            else:
                account._set_connected()
        return True

    # ------------------------------------------------------------------
    # Fetching (IMAP)
    # ------------------------------------------------------------------

    @api.model
    def _param(self, key, default):
        value = self.env['ir.config_parameter'].sudo().get_param('postcenter_email.' + key)
        try:
            return int(value) if value else default
        except ValueError:
            return default

    @contextmanager
    def _own_env(self):
        """An environment on a cursor of our own, committed when the block ends without error.

        A fetch commits batch by batch; the caller's cursor (a cron's, a request's) is never committed.
        """
        with api.Environment.manage(), self.pool.cursor() as cr:
            yield self.env(cr=cr)

    @api.multi
    def action_fetch(self):
        """Fetch now, synchronously, whatever the account's next attempt: new mail of each IMAP account becomes
        tickets."""
        self.check_access_rights('write')
        self.check_access_rule('write')
        for account in self:
            if account.connection_type != 'imap':
                raise UserError(_('"%s" receives mail by forwarding: there is nothing to fetch.') % account.name)
            if account.sudo()._fetch_imap() == 'busy':
                raise UserError(_('"%s" is being fetched right now; try again in a minute.') % account.name)
        self.invalidate_cache()
        return True

    @api.model
    def _cron_fetch(self, now=None):
        """Scheduled action: fetch every active IMAP account whose next attempt has come (``now``, UTC, by default
        the present), found by one indexed query: accounts waiting after rejected logins are skipped until then.
        One account's failure never stops the others."""
        self.env.cr.execute(DUE_FOR_FETCH, (now or fields.Datetime.now(),))
        for account in self.browse([row[0] for row in self.env.cr.fetchall()]):
            try:
                account._fetch_imap(now=now)
            except Exception:
                _logger.exception('Fetching email account %s failed unexpectedly', account.id)

    @api.multi
    def _fetch_imap(self, now=None):
        """Read the account's new mail into tickets; returns 'done', 'error' or 'busy' (another fetch runs).
        The outcome is recorded at ``now`` (by default, when the fetch ends)."""
        self.ensure_one()
        with self._own_env() as lock_env:
            lock_env.cr.execute('SELECT pg_try_advisory_xact_lock(%s, %s), pg_backend_pid()', (FETCH_LOCK, self.id))
            locked, holder = lock_env.cr.fetchone()
            if not locked:
                return 'busy'
            try:
                self.with_context(postcenter_fetch_lock=holder)._fetch_imap_folder('INBOX')
            except MailServerError as error:
                _logger.info('Email account %s: %s', self.id, error)
                self._record_fetch(error, now=now)
                return 'error'
            self._record_fetch(now=now)
            return 'done'

    @api.multi
    def _fetch_imap_folder(self, name):
        """Fetch one folder in batches; each batch (tickets and progress) is committed before the mailbox is touched.
        When the mailbox is left as it is, the next batch is read from the server while this one is stored.

        A first read (or a re-read after a UIDVALIDITY change) stores the UIDs it chose before its first batch,
        so that an interruption resumes it with the same messages (``services.progress``)."""
        mark_seen = self.imap_after_fetch == 'seen'
        with self._imap_open_mailbox(name, readonly=not mark_seen) as mailbox:
            folder_id, stored = self._folder_state(name)
            plan = progress.plan(stored['uidvalidity'], mailbox.uidvalidity, stored['last_uid'],
                                 stored['last_fetch_date'], stored['unfinished'])
            if plan.mode == 'after':
                uids = mailbox.uids_after(plan.last_uid)
            elif plan.mode == 'resume':
                uids, end_uid = progress.still_to_read(stored['unfinished']), int(stored['unfinished'].end_uid)
            else:
                uids, end_uid = progress.full_read(mailbox.unseen_uids(),
                                                   mailbox.uids_since(plan.since) if plan.since else [],
                                                   mailbox.uidnext)
                self._start_full_read(folder_id, mailbox.uidvalidity, uids, end_uid)
            mark = 'last_uid' if plan.mode == 'after' else 'resume_done_uid'
            batches = progress.batches(uids, self._param('fetch_batch_size', 50))
            if mark_seen:  # the session flags each batch once it is stored: one batch at a time
                for batch in batches:
                    mailbox.mark_seen(self._ingest_batch(folder_id, mailbox.fetch(batch), mark))
            else:  # the next batch is fetched while this one is stored (the same batches, stored in order)
                with closing(imap.fetch_ahead(mailbox, batches)) as fetched:
                    for _batch, messages in fetched:
                        self._ingest_batch(folder_id, messages, mark)
            if plan.mode != 'after':
                self._set_folder_state(folder_id, mailbox.uidvalidity, end_uid)

    @api.multi
    def _folder_state(self, name):
        """The folder's progress record (created on first use) and what it stores, read afresh."""
        with self._own_env() as env:
            Folder = env['postcenter.email.folder']
            folder = Folder.search([('account_id', '=', self.id), ('name', '=', name)], limit=1) or \
                Folder.create({'account_id': self.id, 'name': name})
            unfinished = progress.Unfinished(folder.resume_uidvalidity, folder.resume_uids or '',
                                             folder.resume_end_uid, folder.resume_done_uid) \
                if folder.resume_uidvalidity else None
            return folder.id, {'uidvalidity': folder.uidvalidity, 'last_uid': folder.last_uid,
                               'last_fetch_date': fields.Datetime.from_string(folder.last_fetch_date),
                               'unfinished': unfinished}

    @api.model
    def _start_full_read(self, folder_id, uidvalidity, uids, end_uid):
        """Store what a first read (or re-read) will take, before its first batch: it is resumed from this."""
        with self._own_env() as env:
            env['postcenter.email.folder'].browse(folder_id).write({
                'resume_uidvalidity': uidvalidity, 'resume_uids': progress.compact(uids),
                'resume_end_uid': str(end_uid), 'resume_done_uid': '0'})

    @api.model
    def _set_folder_state(self, folder_id, uidvalidity, last_uid):
        """A first read (or re-read) is done: from now on the folder is read by UID."""
        with self._own_env() as env:
            env['postcenter.email.folder'].browse(folder_id).write({
                'uidvalidity': uidvalidity, 'last_uid': str(last_uid), 'last_fetch_date': fields.Datetime.now(),
                'resume_uidvalidity': False, 'resume_uids': False, 'resume_end_uid': False,
                'resume_done_uid': False})

    @api.multi
    def _ingest_batch(self, folder_id, messages, mark='last_uid'):
        """Ingest ``[(uid, raw)]`` in one transaction of our own; return the UIDs it covered.

        The folder's progress field ``mark`` (``last_uid``, or ``resume_done_uid`` during a first read) moves in
        the same transaction, so a crash either keeps both the tickets and the progress, or neither. UIDs at or
        below it are already done and skipped.
        """
        done, notified = [], []
        # the batch's conversation locks first (a customer may be writing to another account at this moment),
        # then the batch's own transaction, committed before them
        with self._own_env() as lock_env, self._own_env() as env:
            lock_env['postcenter.email.receipt']._lock_conversations(self.with_env(lock_env),
                                                                     [raw for _uid, raw in messages])
            self._check_fetch_lock(env.cr)
            customers = env['res.partner']._postcenter_known_customers(
                [rfc822.sender(rfc822.load(raw, headers_only=True))[1] for _uid, raw in messages])
            account = self.with_env(env).with_context(postcenter_notify_later=notified,
                                                      postcenter_customers=customers)
            folder = env['postcenter.email.folder'].browse(folder_id)
            last_uid = int(folder[mark] or 0)
            for uid, raw in messages:
                if uid > last_uid:
                    account._receive(raw)
                done.append(uid)
            if done:
                values = {mark: str(max([last_uid] + done))}
                if mark == 'last_uid':
                    values['last_fetch_date'] = fields.Datetime.now()
                folder.write(values)
        self._send_notifications(notified)
        return done

    @api.model
    def _send_notifications(self, message_ids):
        """Send the notification emails of the committed messages ``message_ids`` still queued, together (one SMTP
        connection per mail server, each email exactly once: ``mail.mail.send``). If this process stops first, or
        the sending fails unexpectedly, they stay queued for Odoo's mail queue and the fetch goes on."""
        if not message_ids:
            return
        try:
            with self._own_env() as env:
                env['mail.mail'].sudo().search([('mail_message_id', 'in', message_ids),
                                                ('state', '=', 'outgoing')]).send()
        except Exception:
            _logger.exception('Email account %s: the emails of a fetched batch are left to the mail queue', self.id)

    @api.multi
    def _check_fetch_lock(self, cr):
        """Raise ``FetchLockLost`` if the fetch lock taken by ``_fetch_imap`` (its holder's backend in the context)
        is gone, as when PostgreSQL restarted: the fetch stops rather than run beside another one."""
        holder = self.env.context.get('postcenter_fetch_lock')
        if not holder:
            return
        cr.execute("""SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s
                         AND objsubid = 2 AND pid = %s AND granted""", (FETCH_LOCK, self.id, holder))
        if not cr.fetchone():
            _logger.warning('Email account %s: the connection holding its fetch lock is gone (the database '
                            'restarted?); the fetch stops here and the next one goes on from the last batch stored',
                            self.id)
            raise FetchLockLost('Email account %s: the fetch lock was lost' % self.id)

    @api.multi
    def _receive(self, raw):
        """One email through the pipeline, in a savepoint: if it fails it is kept as a failed email instead. A
        conflict with a concurrent transaction (serialization failure, deadlock) is no fault of the email: it is
        raised, so the whole transaction is tried again (the next fetch; the SMTP sender hears 451 and retries)."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                return self.env['postcenter.email.receipt']._ingest(self, raw)
        except psycopg2.extensions.TransactionRollbackError:
            raise
        except Exception as error:
            _logger.exception('Email account %s: an email could not be turned into a ticket', self.id)
            self.env.clear()
            # the batch's customers may include one created in the savepoint just rolled back
            (self.env.context.get('postcenter_customers') or {}).clear()
            self.env['postcenter.email.failed']._keep(self, raw, error)
            return self.env['postcenter.email.receipt']

    @api.multi
    def _record_fetch(self, error=None, now=None):
        """The outcome of a fetch on the account, ``error`` being its ``MailServerError`` if it failed (written on a
        cursor of our own, with any alert it starts)."""
        now = now or fields.Datetime.now()
        with self._own_env() as env:
            account = self.with_env(env)
            if error:
                account._set_failed(error, now, {'last_fetch_date': now})
            else:
                account._set_connected(now, {'last_fetch_date': now})

    # ------------------------------------------------------------------
    # Receiving by forwarding (inbound SMTP server, Odoo's mail gateway)
    # ------------------------------------------------------------------

    @api.model
    def _forwarding_accounts(self, addresses):
        """Active forwarding accounts whose forwarding address is one of ``addresses``."""
        wanted = [address.strip().lower() for address in addresses if address]
        if not wanted:
            return self.browse()
        return self.search([('connection_type', '=', 'forward'), ('forward_address', 'in', wanted)])

    @api.model
    def _store_forwarded(self, addresses, raw):
        """The way in of the inbound SMTP server and of Odoo's mail gateway: the email is stored for the
        forwarding ``addresses`` in a transaction of its own, committed on return, while this cursor holds the
        locks of its conversation and customer (taken before that transaction starts, so that two emails of one
        conversation or one new customer, arriving at the same moment, make one ticket and one customer).
        Returns the ids of the tickets it went to."""
        accounts = self._forwarding_accounts(addresses)
        if not accounts:
            return []
        self.env['postcenter.email.receipt']._lock_conversations(accounts, [raw])
        with self._own_env() as env:
            return self.with_env(env)._receive_forwarded(addresses, raw).mapped('ticket_id').ids

    @api.model
    def _receive_forwarded(self, addresses, raw):
        """Store one email sent to forwarding ``addresses``: the same pipeline as IMAP mail, once per account."""
        receipts = self.env['postcenter.email.receipt']
        for account in self._forwarding_accounts(addresses):
            receipts |= account._receive(raw)
        return receipts

    # ------------------------------------------------------------------
    # Sending through the account's own SMTP server
    # ------------------------------------------------------------------

    @api.multi
    def _sync_mail_server(self):
        """Keep one ``ir.mail_server`` per account that sends by SMTP. It is archived from the start, so that
        Odoo never picks it as the default server for other mail; replies name it explicitly."""
        for account in self.sudo():
            if account.send_method != 'smtp':
                if account.mail_server_id:
                    server = account.mail_server_id
                    account.mail_server_id = False
                    server.unlink()
                continue
            values = {'name': _('Email account: %s') % account.name, 'smtp_host': account.smtp_host,
                      'smtp_port': account.smtp_port, 'smtp_encryption': account.smtp_encryption,
                      'smtp_user': account.smtp_user or False, 'smtp_pass': account.smtp_password or False,
                      'active': False, 'sequence': 1000}
            if account.mail_server_id:
                account.mail_server_id.write(values)
            else:
                account.mail_server_id = self.env['ir.mail_server'].sudo().create(values)

    @api.model
    def _describe_smtp_error(self, error, host, port):
        """Plain, translated words for an SMTP ``MailServerError``."""
        messages = {
            'dns': _('The SMTP server name "%(host)s" could not be found. Check the SMTP server address.'),
            'refused': _('The SMTP server %(host)s refused the connection on port %(port)s. Check the port and the '
                         'encryption (465: SSL/TLS from the start; 587: STARTTLS).'),
            'timeout': _('The SMTP server %(host)s did not answer in time on port %(port)s. Check the port and the '
                         'encryption (465: SSL/TLS from the start; 587: STARTTLS).'),
            'tls': _('The secure connection (SSL/TLS) with %(host)s failed. Check the encryption for this port '
                     '(465: SSL/TLS from the start; 587: STARTTLS). Server said: %(detail)s'),
            'auth': _('The SMTP server %(host)s rejected the user name or password (%(detail)s). Gmail needs an app '
                      'password (with 2-Step Verification) or the sign-in with Google; Microsoft 365 switches sending '
                      'with a password off: sign in with Microsoft.'),
        }
        template = messages.get(error.kind, _('The SMTP server %(host)s could not be used: %(detail)s'))
        return template % {'host': host, 'port': port, 'detail': error.detail}

    @api.multi
    def action_test_smtp(self):
        """Connect to the account's SMTP server, log in and quit; record the outcome in plain words."""
        for account in self:
            if account.send_method != 'smtp':
                raise UserError(_('"%s" sends through the platform\'s server: there is no SMTP server to test.')
                                % account.name)
            try:
                smtp.check_login(account.smtp_host, account.smtp_port, account.smtp_encryption, account.smtp_user,
                                 account.sudo().smtp_password, timeout=self._imap_timeout())
            except MailServerError as error:
                account.write({'smtp_state': 'error',
                               'smtp_last_error': self._describe_smtp_error(error, account.smtp_host,
                                                                            account.smtp_port)})
            else:
                account.write({'smtp_state': 'ok', 'smtp_last_error': False})
        return True

    @api.multi
    def action_insert_placeholder(self):
        """Signature buttons: add ``{{placeholder}}`` (from the button's context) at the end of the signature."""
        name = self.env.context.get('placeholder')
        if name not in signature.PLACEHOLDERS:
            raise UserError(_('Unknown placeholder.'))
        for account in self:
            current = account.signature or ''
            token = '{{%s}}' % name
            if current.endswith('</p>'):
                account.signature = current[:-4] + ' ' + token + '</p>'
            else:
                account.signature = '%s<p>%s</p>' % (current, token)
        return True

    @api.multi
    def _signature_for(self, user):
        """The account's signature filled with ``user``'s data ('' when the account has none)."""
        self.ensure_one()
        if not self.signature:
            return ''
        partner = user.partner_id
        first, last = signature.split_name(user.name)
        region = partner.country_id.code or user.company_id.country_id.code
        return signature.render(self.signature, {
            'agent_first_name': first, 'agent_last_name': last, 'agent_email': user.email or '',
            'agent_phone': signature.international_phone(partner.phone or partner.mobile or '', region),
            'agent_job_title': partner.function or '',
        })

    @api.multi
    def _email_chain(self, message, limit=10):
        """The last ``limit`` emails of ``message``'s ticket before it, quoted newest first (HTML)."""
        self.ensure_one()
        earlier = self.env['mail.message'].sudo().search([
            ('model', '=', message.model), ('res_id', '=', message.res_id), ('id', '<', message.id),
            ('message_type', 'in', ('email', 'comment')), ('subtype_id', '=', self.env.ref('mail.mt_comment').id),
        ], order='id desc', limit=limit)
        quoted = []
        for previous in earlier:
            author = previous.author_id.name or previous.email_from or ''
            header = _('On %(date)s, %(author)s wrote:') % {'date': previous.date, 'author': author}
            quoted.append('<p class="o_postcenter_chain_header">%s</p><blockquote>%s</blockquote>'
                          % (tools.html_escape(header), previous.body or ''))
        return ''.join(quoted)

    @api.multi
    def _note_gmail_confirmation(self, code, link):
        """Show Gmail's forwarding confirmation on the account, so the admin need not look for it."""
        self.write({'gmail_confirmation_code': code or False, 'gmail_confirmation_url': link or False,
                    'gmail_confirmation_date': fields.Datetime.now()})

    # ------------------------------------------------------------------
    # Validation of forwarding accounts
    # ------------------------------------------------------------------

    @api.multi
    def action_validate(self):
        """Send a validation email with a one-time token to the account's own address; when it comes back
        through the forwarding address, the account is connected."""
        minutes = self._param('validation_timeout_minutes', 10)
        now = fields.Datetime.from_string(fields.Datetime.now())
        for account in self:
            if account.connection_type != 'forward':
                raise UserError(_('"%s" is connected by IMAP: use Test Connection.') % account.name)
            token = forwarding.new_token(24)
            account.sudo().write({
                'validation_token': token, 'state': 'validating', 'last_error': False,
                'validation_deadline': fields.Datetime.to_string(now + datetime.timedelta(minutes=minutes)),
            })
            self.env['mail.mail'].sudo().create({
                'email_from': account._validation_sender(), 'email_to': account.email,
                'subject': _('Helpdesk forwarding validation %s') % token,
                'body_html': '<p>%s</p><p>%s</p>' % (
                    _('This message checks that mail sent to %s reaches the helpdesk through its forwarding '
                      'address. It needs no answer.') % account.email, token),
                'headers': repr({'X-Postcenter-Validation': token, 'Auto-Submitted': 'auto-generated'}),
                'auto_delete': False,
            }).send()
        return True

    @api.multi
    def _validation_sender(self):
        """The platform's no-reply address (system parameter ``postcenter_email.noreply_address``)."""
        address = self.env['ir.config_parameter'].sudo().get_param('postcenter_email.noreply_address')
        return address or 'noreply@%s' % self._forwarding_domain()

    @api.multi
    def _validation_received(self, token):
        """A validation email came back through the forwarding address: connected if it carries the token."""
        self.ensure_one()
        if self.state == 'validating' and token and token == self.sudo().validation_token:
            self.sudo().write({'state': 'connected', 'validation_token': False, 'validation_deadline': False,
                               'last_error': False, 'last_check_date': fields.Datetime.now()})
            return True
        return False

    @api.model
    def _cron_validation_timeout(self, now=None):
        """Scheduled action: validations that did not come back in time go back to "not validated", with why."""
        now = now or fields.Datetime.now()
        late = self.sudo().search([('state', '=', 'validating'), ('validation_deadline', '<', now)])
        late.write({
            'state': 'not_validated', 'validation_token': False, 'last_error_date': now,
            'last_error': _('The validation email did not come back through the forwarding address in time. '
                            'Check that your mail provider forwards incoming mail to the forwarding address '
                            '(for Gmail, that the forwarding was confirmed with its code and is switched on), '
                            'and that the message is not filtered as spam; then validate again.'),
        })
        return late

    @api.multi
    def action_view_failed(self):
        self.ensure_one()
        action = self.env.ref('postcenter_email.action_postcenter_email_failed').read()[0]
        action['domain'] = [('account_id', '=', self.id)]
        action['context'] = {'search_default_failed': 1}
        return action

    @api.multi
    def action_view_autoreplies_sent(self):
        self.ensure_one()
        action = self.env.ref('postcenter_email.action_postcenter_email_autoreply_log').read()[0]
        action['domain'] = [('account_id', '=', self.id)]
        return action

    @api.multi
    def action_view_receipts(self):
        self.ensure_one()
        action = self.env.ref('postcenter_email.action_postcenter_email_receipt').read()[0]
        action['domain'] = [('account_id', '=', self.id)]
        return action
