import datetime
from collections import namedtuple
from contextlib import contextmanager

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..services import addresses, blocklist, outage, providers

FETCH_LOCK = 7271  # first key of the advisory lock a fetch holds on its account

MANAGERS = 'helpdesk_mgmt.group_helpdesk_manager,base.group_system'
TIME_UNITS = [('seconds', 'Seconds'), ('minutes', 'Minutes'), ('hours', 'Hours')]
SCHEDULE_FIELDS = ('sla_time', 'sla_unit', 'autoclose_enabled', 'autoclose_time', 'autoclose_unit')
SECRET_FIELDS = ('imap_password', 'smtp_password', 'oauth_refresh_token', 'oauth_access_token', 'oauth_nonce',
                 'oauth_verifier')
CONNECTION_FIELDS = {'imap_host', 'imap_port', 'imap_ssl', 'imap_user', 'imap_password', 'connection_type'}
# The scheduled fetch's one look-up: IMAP accounts whose next attempt has come (index on next_attempt).
# What storing an email needs of its account (``_ingest_settings``).
IngestSettings = namedtuple('IngestSettings', 'write_date team_id company_id create_ignored sla_time sla_unit '
                                              'notify_mode notify_recipients')
DUE_FOR_FETCH = """
    SELECT id FROM postcenter_email_account
     WHERE connection_type = 'imap' AND active AND (next_attempt IS NULL OR next_attempt <= %s)
     ORDER BY name, id"""


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

    # ------------------------------------------------------------------
    # Counts and durations shown on the account
    # ------------------------------------------------------------------

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

    @api.constrains('blocked_senders')
    def _check_blocked_senders(self):
        for account in self:
            _listed, invalid = blocklist.parse(account.blocked_senders)
            if invalid:
                raise ValidationError(_('Blocked Senders: %s is not an email address or an @domain.')
                                      % ', '.join(invalid))

    # ------------------------------------------------------------------
    # CRUD and access
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
    def _search(self, args, offset=0, limit=None, order=None, count=False, access_rights_uid=None):
        """Searching on a password reveals it: only those who may read passwords may search on them."""
        searched = {leaf[0].split('.')[0] for leaf in args if isinstance(leaf, (list, tuple)) and len(leaf) == 3}
        if searched & set(SECRET_FIELDS) and not self._uid == SUPERUSER_ID and not self.user_has_groups(MANAGERS):
            raise AccessError(_('Only helpdesk managers may search email accounts by password.'))
        return super()._search(args, offset=offset, limit=limit, order=order, count=count,
                               access_rights_uid=access_rights_uid)

    # ------------------------------------------------------------------
    # Shared by the concerns (the other postcenter_email_account_*.py files)
    # ------------------------------------------------------------------

    @api.model
    def _param(self, key, default):
        value = self.env['ir.config_parameter'].sudo().get_param('postcenter_email.' + key)
        try:
            return int(value) if value else default
        except ValueError:
            return default

    @api.model
    def _once_per_batch(self, key, compute):
        """``compute()``, worked out once per fetched batch: inside one (``postcenter_settings``, a dict in the
        context) the first value found for ``key`` is kept for the rest of it. A batch is one transaction, which
        sees the same rows all along. Outside a batch, computed each time."""
        batch = self.env.context.get('postcenter_settings')
        if batch is None:
            return compute()
        if key not in batch:
            batch[key] = compute()
        return batch[key]

    @contextmanager
    def _own_env(self):
        """An environment on a cursor of our own, committed when the block ends without error.

        A fetch commits batch by batch; the caller's cursor (a cron's, a request's) is never committed.
        """
        with api.Environment.manage(), self.pool.cursor() as cr:
            yield self.env(cr=cr)

    @api.multi
    def postcenter_backend_url(self):
        """Address of the account in the web client (for alerts)."""
        self.ensure_one()
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or ''
        return '%s/web#id=%d&model=postcenter.email.account&view_type=form' % (base, self.id)

    @api.multi
    def _ingest_settings(self):
        """The account's settings that storing an email reads (``IngestSettings``). Inside a fetched batch
        (``postcenter_settings``, a dict in the context) they are read once per transaction: posting a reply in a
        ticket empties Odoo's whole record cache, and reading the account again cost more than the rest of a
        small email's bookkeeping."""
        self.ensure_one()

        def read_settings():
            account = self.sudo()
            return IngestSettings(
                account.write_date, account.team_id.id, account.company_id.id, account.create_ignored,
                account.sla_time, account.sla_unit, account.notify_mode,
                tuple(account.notify_recipient_ids.mapped('name')))
        return self._once_per_batch(self.id, read_settings)

    @api.multi
    def _blocklist(self):
        return blocklist.parse(self.blocked_senders)[0]

    @api.multi
    def _contact_form_addresses(self):
        return set(self.contact_form_ids.mapped('name'))

    # ------------------------------------------------------------------
    # Views opened from the account
    # ------------------------------------------------------------------

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
