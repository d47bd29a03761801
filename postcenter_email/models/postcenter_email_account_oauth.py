"""Email accounts that sign in with Google or Microsoft (OAuth 2.0) instead of a password.

The sign-in (authorization code + PKCE) starts from ``action_oauth_sign_in`` and ends in the controller's
callback (``_oauth_callback``); the access token is refreshed before it expires, on a cursor of its own
that holds the account's row, so that the rotated refresh token is saved every time and two workers never
refresh with the same one. The decisions are in ``services.oauth``.
"""
# The account model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited
import datetime
import logging
import secrets

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..services import imap, oauth, smtp
from ..services.exceptions import MailServerError
from .postcenter_email_account import CONNECTION_FIELDS, MANAGERS

_logger = logging.getLogger(__name__)
CALLBACK_PATH = '/postcenter_email/oauth/callback'
PARAM = 'postcenter_email.oauth.%s.%s'
IMAP_AUTH = [('password', 'Password'), ('google', 'Google (OAuth)'),
             ('microsoft', 'Microsoft 365 / Outlook.com (OAuth)')]
CONNECTION_FIELDS.add('imap_auth')
OAUTH_LOCK = 7272  # first key of the advisory lock a token refresh holds on its account


class PostcenterEmailAccount(models.Model):
    """OAuth 2.0 sign-in, tokens and XOAUTH2 logins of an email account."""

    _inherit = 'postcenter.email.account'

    imap_auth = fields.Selection(
        IMAP_AUTH, string='Authentication', default='password', required=True,
        help='Password: the mailbox password (or an app password).\n'
             'Google / Microsoft: sign in with the provider (OAuth 2.0); no password is kept. Microsoft 365 and '
             'Outlook.com accept nothing else for IMAP; Google accepts it or an app password.')
    oauth_shared_mailbox = fields.Boolean(
        string='Shared Mailbox',
        help='Microsoft 365 shared mailbox: sign in as a user who has access to it; the helpdesk then reads the '
             'mailbox of this account\'s email address with that user\'s permission.')
    oauth_login = fields.Char(string='Signed In As', readonly=True, copy=False,
                              help='The account that signed in with the provider.')
    oauth_refresh_token = fields.Char(string='Refresh Token', groups=MANAGERS, copy=False, readonly=True)
    oauth_access_token = fields.Char(string='Access Token', groups=MANAGERS, copy=False, readonly=True)
    oauth_token_expiry = fields.Datetime(string='Access Token Expiry', groups=MANAGERS, copy=False, readonly=True)
    oauth_nonce = fields.Char(string='Sign-in Nonce', groups=MANAGERS, copy=False, readonly=True)
    oauth_verifier = fields.Char(string='PKCE Verifier', groups=MANAGERS, copy=False, readonly=True)
    oauth_error = fields.Text(string='Sign-in Error', readonly=True, copy=False)

    # ------------------------------------------------------------------
    # Provider settings (system parameters)
    # ------------------------------------------------------------------

    @api.model
    def _oauth_settings(self, provider):
        """Endpoints, client and tenant of ``provider``: system parameters ``postcenter_email.oauth.<provider>.*``,
        the provider's real endpoints by default."""
        profile = oauth.profile(provider)
        params = self.env['ir.config_parameter'].sudo()
        tenant = params.get_param(PARAM % ('microsoft', 'tenant')) or oauth.DEFAULT_TENANT
        settings = {'profile': profile, 'tenant': tenant}
        for key in oauth.ENDPOINT_KEYS:
            settings[key] = oauth.endpoint(params.get_param(PARAM % (provider, key)) or getattr(profile, key), tenant)
        for key in ('client_id', 'client_secret'):
            settings[key] = params.get_param(PARAM % (provider, key)) or ''
        return settings

    @api.model
    def _oauth_redirect_uri(self):
        """The address the provider sends the administrator back to (copy it into the provider's console)."""
        base = self.env['ir.config_parameter'].sudo().get_param('web.base.url') or 'http://localhost:8069'
        return base.rstrip('/') + CALLBACK_PATH

    @api.model
    def _oauth_session_id(self):
        """The browser session that starts or ends a sign-in (the state is bound to it)."""
        from odoo.http import request
        try:
            return request.session.sid
        except (RuntimeError, AttributeError):
            return self.env.context.get('postcenter_oauth_session') or ''

    @api.model
    def _oauth_secret(self):
        return self.env['ir.config_parameter'].sudo().get_param('database.secret') or self.env.cr.dbname

    # ------------------------------------------------------------------
    # Sign in, Reconnect
    # ------------------------------------------------------------------

    @api.model
    def _oauth_start(self, record, kind, provider, login_hint):
        """Store a new PKCE verifier and nonce on ``record`` (an account or a wizard) and return the act_url that
        sends the administrator to ``provider``."""
        settings = self._oauth_settings(provider)
        if not settings['client_id']:
            raise UserError(_('Sign-in with %s is not set up yet: a manager enters its client ID and client secret '
                              'in Settings (Email channel: OAuth providers).') % dict(IMAP_AUTH)[provider])
        verifier, challenge = oauth.pkce_pair()
        nonce = secrets.token_urlsafe(16)
        record.sudo().write({'oauth_nonce': nonce, 'oauth_verifier': verifier})
        state = oauth.sign_state({'model': kind, 'id': record.id, 'provider': provider, 'nonce': nonce,
                                  'uid': self.env.uid, 'db': self.env.cr.dbname},
                                 self._oauth_secret(), self._oauth_session_id(), datetime.datetime.utcnow())
        profile = settings['profile']
        url = oauth.authorization_url(settings['authorize_url'], settings['client_id'], self._oauth_redirect_uri(),
                                      profile.scopes, state, challenge, login_hint=login_hint,
                                      extra=profile.extra_params)
        return {'type': 'ir.actions.act_url', 'url': url, 'target': 'self'}

    @api.multi
    def action_oauth_sign_in(self):
        """Sign in with the account's provider: returns the act_url of the provider's authorization page."""
        self.ensure_one()
        self.check_access_rights('write')
        self.check_access_rule('write')
        if self.imap_auth not in ('google', 'microsoft'):
            raise UserError(_('Choose Google or Microsoft as the authentication of "%s" first.') % self.name)
        return self._oauth_start(self, 'account', self.imap_auth, self.imap_user or self.email)

    @api.multi
    def action_oauth_reconnect(self):
        """Sign in again after the provider stopped accepting the account's tokens: the account, its settings and
        its progress in the mailbox are kept; only the tokens change."""
        return self.action_oauth_sign_in()

    @api.model
    def _oauth_callback(self, params, now=None):
        """The provider sent the administrator back with ``params`` (``code`` and ``state``, or ``error``): finish
        the sign-in and return the address to show next (the account, or the wizard with what went wrong)."""
        now = now or datetime.datetime.utcnow()
        payload = oauth.read_state(params.get('state'), self._oauth_secret(), self._oauth_session_id(), now)
        if payload.get('db') != self.env.cr.dbname or payload.get('uid') != self.env.uid:
            raise oauth.OAuthFailure('state', 'the state was made for another user or database')
        model = 'postcenter.email.account' if payload['model'] == 'account' else 'postcenter.email.account.wizard'
        record = self.env[model].browse(payload['id']).exists()
        if not record or not record.sudo().oauth_nonce or record.sudo().oauth_nonce != payload.get('nonce'):
            raise oauth.OAuthFailure('state', 'the sign-in was already used or its record is gone')
        record.check_access_rights('write')
        record.check_access_rule('write')
        verifier = record.sudo().oauth_verifier
        record.sudo().write({'oauth_nonce': False, 'oauth_verifier': False})
        try:
            if params.get('error'):
                raise oauth.classify(params['error'], params.get('error_description'))
            tokens, login = self._oauth_tokens(payload['provider'], params.get('code'), verifier, now)
            target = record._oauth_connect(payload['provider'], tokens, login)
        except MailServerError as error:
            _logger.info('Email account sign-in (%s %s) refused: %s', model, record.id, error)
            record._oauth_failed(self._oauth_describe(error, record))
            return record._oauth_page()
        except (UserError, ValidationError, AccessError) as error:
            record._oauth_failed(error.name)
            return record._oauth_page()
        return target._oauth_page()

    @api.model
    def _oauth_tokens(self, provider, code, verifier, now):
        """Trade ``code`` for tokens; check that every mail permission was granted; find who signed in."""
        settings = self._oauth_settings(provider)
        tokens = oauth.exchange_code(settings['token_url'], settings['client_id'], settings['client_secret'], code,
                                     self._oauth_redirect_uri(), verifier, now, timeout=self._imap_timeout())
        missing = oauth.missing_scopes(tokens.scope, settings['profile'].scopes)
        if missing:
            raise oauth.OAuthFailure('scope', ' '.join(missing))
        login = oauth.mailbox_address(tokens.id_token) or oauth.mailbox_address(
            userinfo=oauth.userinfo(settings['userinfo_url'], tokens.access_token, timeout=self._imap_timeout()))
        return tokens, login

    @api.model
    def _oauth_token_values(self, provider, tokens, login):
        return {'imap_auth': provider, 'oauth_login': login, 'oauth_access_token': tokens.access_token,
                'oauth_refresh_token': tokens.refresh_token,
                'oauth_token_expiry': fields.Datetime.to_string(tokens.expiry), 'oauth_error': False,
                'imap_password': False}

    @api.model
    def _oauth_check_login(self, login, email, shared, host, port, use_ssl, user, access_token):
        """The signed-in user is the account's mailbox (or one with access to it, for a shared mailbox), and an IMAP
        login with the new token works; else an ``OAuthFailure`` / ``MailServerError``."""
        if not shared and not oauth.same_mailbox(login, email):
            raise oauth.OAuthFailure('mailbox', login or '?')
        try:
            imap.check_mailbox(host, port, use_ssl, user, imap.Bearer(access_token), timeout=self._imap_timeout())
        except MailServerError as error:
            if error.kind == 'oauth_refused' and shared:
                raise oauth.OAuthFailure('shared', login or '?')
            if error.kind == 'oauth_refused':
                raise oauth.OAuthFailure('mailbox', login or '?')
            raise

    @api.multi
    def _oauth_connect(self, provider, tokens, login):
        """The account signed in: the new tokens are kept and the account is Connected, once an IMAP login with
        them worked. Its settings, tickets and progress in the mailbox stay as they were."""
        self.ensure_one()
        self._oauth_check_login(login, self.email, self.oauth_shared_mailbox, self.imap_host, self.imap_port,
                                self.imap_ssl, self.imap_user or self.email, tokens.access_token)
        self.sudo().write(dict(self._oauth_token_values(provider, tokens, login), state='connected',
                               last_error=False, last_check_date=fields.Datetime.now()))
        return self

    @api.multi
    def _oauth_failed(self, message):
        self.sudo().write({'oauth_error': message})

    @api.multi
    def _oauth_page(self):
        return '/web#id=%d&model=%s&view_type=form' % (self.id, self._name)

    # ------------------------------------------------------------------
    # Tokens
    # ------------------------------------------------------------------

    @api.multi
    def _oauth_access_token(self, now=None, refused=None):
        """A valid access token, refreshed first if it expires within minutes. The refresh holds an advisory lock on
        the account and reads the tokens in a transaction begun once it holds it: a second worker waits, then
        finds the new token instead of refreshing with the old refresh token (which rotation has made useless).
        The new refresh token is committed with the access token. A refresh token that no longer works raises
        ``OAuthFailure('grant')``: the account must sign in again. ``refused``: an access token the mail server
        refused before its time (revoked early, or expired on the provider's clock): refreshed if still the one
        stored."""
        self.ensure_one()
        now = now or datetime.datetime.utcnow()
        with self._own_env() as lock_env:
            # the lock first, then a transaction that starts after it (a snapshot that sees the last refresh)
            lock_env.cr.execute("SET LOCAL lock_timeout = '30s'")
            lock_env.cr.execute('SELECT pg_advisory_xact_lock(%s, %s)', (OAUTH_LOCK, self.id))
            with self._own_env() as env:
                env.cr.execute("""SELECT imap_auth, oauth_access_token, oauth_refresh_token, oauth_token_expiry
                                    FROM postcenter_email_account WHERE id = %s""", (self.id,))
                provider, access, refresh_token, expiry = env.cr.fetchone()
            expiry = fields.Datetime.from_string(expiry) if isinstance(expiry, str) else expiry
            if not oauth.needs_refresh(access, expiry, now) and (not refused or refused != access):
                return access
            settings = self._oauth_settings(provider)
            tokens = oauth.refresh(settings['token_url'], settings['client_id'], settings['client_secret'],
                                   refresh_token, now, timeout=self._imap_timeout())
            self._oauth_save_tokens(tokens)
        self.invalidate_cache(['oauth_access_token', 'oauth_refresh_token', 'oauth_token_expiry'], self.ids)
        return tokens.access_token

    @api.multi
    def _oauth_save_tokens(self, tokens, attempts=5):
        """Commit the refreshed tokens at once, in a transaction of their own (tried again if a concurrent write
        of the account conflicts): the provider has already made the old refresh token useless."""
        for attempt in range(attempts):
            try:
                with self._own_env() as env:
                    env.cr.execute("""UPDATE postcenter_email_account SET oauth_access_token = %s,
                                             oauth_refresh_token = %s, oauth_token_expiry = %s WHERE id = %s""",
                                   (tokens.access_token, tokens.refresh_token, tokens.expiry, self.id))
                return
            except psycopg2.extensions.TransactionRollbackError:
                if attempt == attempts - 1:
                    raise
                _logger.info('Email account %s: saving its new tokens conflicted; trying again', self.id)

    @api.multi
    def _imap_secret(self):
        """What the IMAP login gives as the password: the password, or the access token (XOAUTH2)."""
        self.ensure_one()
        if self.imap_auth in ('google', 'microsoft'):
            return imap.Bearer(self._oauth_access_token())
        return self.sudo().imap_password or ''

    @api.multi
    def _with_token(self, login):
        """``login(secret)``; for an OAuth account whose token the server refuses, once more with a refreshed
        token (a token can stop working before its expiry: revoked, or the provider's clock)."""
        secret = self._imap_secret()
        try:
            return login(secret)
        except MailServerError as error:
            if not isinstance(secret, imap.Bearer) or error.kind != 'oauth_refused':
                raise
            return login(imap.Bearer(self._oauth_access_token(refused=secret.token)))

    # ------------------------------------------------------------------
    # Overrides: every IMAP and SMTP login of an OAuth account uses its token
    # ------------------------------------------------------------------

    @api.multi
    def _imap_check(self):
        """Test Connection of an OAuth account logs in with XOAUTH2 (refreshing its token first if needed)."""
        self.ensure_one()
        if self.imap_auth == 'password':
            return super()._imap_check()
        return self._with_token(lambda secret: imap.check_mailbox(
            self.imap_host, self.imap_port, self.imap_ssl, self.imap_user, secret, timeout=self._imap_timeout()))

    @api.multi
    def _imap_open_mailbox(self, name, readonly=True):
        """The fetch of an OAuth account logs in with XOAUTH2 (a refused token is refreshed and tried once more)."""
        self.ensure_one()
        if self.imap_auth == 'password':
            return super()._imap_open_mailbox(name, readonly=readonly)
        return self._with_token(lambda secret: imap.open_mailbox(
            self.imap_host, self.imap_port, self.imap_ssl, self.imap_user, secret, name, readonly=readonly,
            timeout=self._imap_timeout()))

    @api.multi
    def _check_imap_values(self, vals):
        """Switching an OAuth account from forwarding to IMAP logs in with its token."""
        self.ensure_one()
        if vals.get('imap_auth', self.imap_auth) == 'password':
            return super()._check_imap_values(vals)
        merged = {key: vals.get(key, self[key]) for key in ('imap_host', 'imap_port', 'imap_ssl', 'imap_user')}
        try:
            self._with_token(lambda secret: imap.check_mailbox(
                merged['imap_host'], merged['imap_port'], merged['imap_ssl'], merged['imap_user'], secret,
                timeout=self._imap_timeout()))
        except MailServerError as error:
            raise ValidationError(_('The account stays on forwarding: %s')
                                  % self._describe_server_error(error, merged['imap_host'], merged['imap_port']))

    @api.model
    def _describe_server_error(self, error, host, port):
        """OAuth failures (a refused token, a refresh token that stopped working) in their own plain words."""
        if error.kind.startswith('oauth_'):
            return self._oauth_describe(error)
        return super()._describe_server_error(error, host, port)

    @api.model
    def _oauth_describe(self, error, record=None):
        """Plain, translated words for an ``OAuthFailure`` (or a refused token), with what to do."""
        reason = getattr(error, 'reason', error.kind.replace('oauth_', ''))
        messages = {
            'consent': _('The sign-in was cancelled, or access to the mailbox was not allowed. Sign in again and '
                         'press Allow (Accept) on the provider\'s page.'),
            'tenant': _('The provider says this account does not belong to the organisation set for the sign-in. '
                        'For Microsoft, check the tenant in Settings (organizations: work or school accounts; '
                        'common: also personal Outlook.com accounts) and that the app is registered there.'),
            'scope': _('The provider did not give every permission the helpdesk needs to read and send mail '
                       '(%(detail)s). Sign in again and allow all the permissions asked; for Microsoft, check the '
                       'API permissions of the app registration.'),
            'policy': _('Your organisation does not allow this app to reach the mailbox: an administrator of the '
                        'Google Workspace or Microsoft 365 organisation must allow it (for Microsoft, "Grant admin '
                        'consent"), then sign in again.'),
            'client': _('The provider refused the client ID or client secret of the helpdesk. A manager must check '
                        'them in Settings (Email channel: OAuth providers), and the redirect URI in the provider\'s '
                        'console.'),
            'grant': _('The provider no longer accepts the helpdesk\'s access to this mailbox (the access was '
                       'withdrawn, the password changed, or it expired): sign in again with Reconnect. The account, '
                       'its settings and the mail already fetched are kept; no mail is lost.'),
            'state': _('This sign-in link is not valid any more (too old, already used, or started in another '
                       'browser session). Start the sign-in again from the account.'),
            'mailbox': _('You signed in as %(login)s, but this account is %(email)s. Sign in with the account\'s own '
                         'mailbox (for a Microsoft 365 shared mailbox, tick "Shared Mailbox" first).'),
            'shared': _('%(login)s signed in, but has no access to the shared mailbox %(email)s. Give that user '
                        'full access to the mailbox in Microsoft 365, or sign in as a user who has it.'),
            'refused': _('The mail server refused the sign-in token for %(email)s: the signed-in account may not be '
                         'this mailbox, or its access was withdrawn. Sign in again with Reconnect.'),
            'unavailable': _('The provider could not be reached to sign in just now (%(detail)s). Try again in a '
                             'minute; the next fetch tries again by itself.'),
        }
        email = (record.email if record else '') or (self.email if len(self) == 1 else '') or ''
        template = messages.get(reason) or _('The provider refused the sign-in: %(detail)s')
        return template % {'detail': error.detail, 'login': error.detail, 'email': email}

    # ------------------------------------------------------------------
    # Sending through the account's own SMTP server with XOAUTH2
    # ------------------------------------------------------------------

    @api.multi
    def _sync_mail_server(self):
        """The account's ``ir.mail_server`` of an OAuth account logs in with XOAUTH2: it names the account and keeps
        no user or password of its own."""
        result = super()._sync_mail_server()
        for account in self.sudo().filtered('mail_server_id'):
            oauth_account = account if account.imap_auth != 'password' else False
            values = {'postcenter_oauth_account_id': oauth_account and oauth_account.id}
            if oauth_account:
                values.update(smtp_user=False, smtp_pass=False)
            account.mail_server_id.write(values)
        return result

    @api.multi
    def write(self, vals):
        """A change of authentication reaches the account's outgoing mail server."""
        result = super().write(vals)
        if 'imap_auth' in vals:
            self._sync_mail_server()
        return result

    @api.multi
    def _smtp_login_user(self):
        self.ensure_one()
        return self.smtp_user or self.email

    @api.multi
    def action_test_smtp(self):
        """Test SMTP of an OAuth account logs in with XOAUTH2."""
        password_accounts = self.filtered(lambda account: account.imap_auth == 'password' or
                                          account.send_method != 'smtp')
        if password_accounts:
            super(PostcenterEmailAccount, password_accounts).action_test_smtp()
        for account in self - password_accounts:
            try:
                smtp.check_login(account.smtp_host, account.smtp_port, account.smtp_encryption,
                                 account._smtp_login_user(), None, timeout=self._imap_timeout(),
                                 access_token=account._oauth_access_token())
            except MailServerError as error:
                detail = self._oauth_describe(error, account) if error.kind.startswith('oauth_') else \
                    self._describe_smtp_error(error, account.smtp_host, account.smtp_port)
                account.write({'smtp_state': 'error', 'smtp_last_error': detail})
            else:
                account.write({'smtp_state': 'ok', 'smtp_last_error': False})
        return True
