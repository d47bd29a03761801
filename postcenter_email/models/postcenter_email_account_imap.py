"""IMAP accounts: connecting (Test Connection, plain-words errors, backoff and alerts) and fetching (the
scheduled action, Fetch Now, batches committed with their UID progress under the account's fetch lock)."""
# The account model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited

import logging
from contextlib import closing

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..services import backoff, imap, progress, rfc822, timing
from ..services.exceptions import MailServerError
from .postcenter_email_account import DUE_FOR_FETCH, FETCH_LOCK

_logger = logging.getLogger(__name__)


class FetchLockLost(Exception):
    """The connection that held a fetch's lock is gone: the fetch must stop (the next one resumes it)."""


class PostcenterEmailAccount(models.Model):
    """IMAP connection and fetching of an email account."""

    _inherit = 'postcenter.email.account'

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------

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
    # Connection
    # ------------------------------------------------------------------

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
    # Fetching
    # ------------------------------------------------------------------

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
            account._fetch_scheduled(now=now)

    @api.multi
    def _fetch_scheduled(self, now=None):
        """The scheduled fetch of one due account: fetched here and now, an unexpected failure only logged so the
        next account goes on (with the job queue installed, postcenter_email_queue enqueues it instead)."""
        self.ensure_one()
        try:
            self._fetch_imap(now=now)
        except Exception:
            _logger.exception('Fetching email account %s failed unexpectedly', self.id)

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
            folder = env['postcenter.email.folder'].browse(folder_id)
            last_uid = int(folder[mark] or 0)
            account = self.with_env(env).with_context(postcenter_notify_later=notified, postcenter_settings={})
            account = account.with_context(postcenter_customers=account._batch_customers(
                [raw for uid, raw in messages if uid > last_uid]))
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

    @api.multi
    def _batch_customers(self, raws):
        """The customers of a batch's emails ``raws``, looked up at once, and those that storing them will create,
        created at once (``_postcenter_known_customers``, ``_postcenter_create_customers``): the batch's context
        ``postcenter_customers``."""
        with timing.phase('customer'):
            messages = [(rfc822.load(raw, headers_only=True), raw) for raw in raws]
            Partner = self.env['res.partner']
            customers = Partner._postcenter_known_customers([rfc822.sender(message)[1] for message, _raw in messages])
            customers.update(Partner._postcenter_create_customers(
                self.env['postcenter.email.receipt']._customers_to_create(self, messages, customers)))
        return customers

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

    @api.model
    def _send_notifications(self, message_ids):
        """Send the notification emails (agents' copies, automatic replies) of the committed messages
        ``message_ids`` still queued, together, once their batch is committed. If this process stops first, or the
        sending fails unexpectedly, they stay queued for Odoo's mail queue and the fetch goes on (with the job
        queue installed, postcenter_email_queue sends them in a job instead)."""
        if not message_ids:
            return
        try:
            self._send_queued_emails(message_ids)
        except Exception:
            _logger.exception('Email account %s: the emails of a fetched batch are left to the mail queue', self.id)

    @api.model
    def _send_queued_emails(self, message_ids):
        """Send the queued emails of the committed messages ``message_ids`` on a cursor of our own (one SMTP
        connection per mail server, each email exactly once: ``mail.mail.send``)."""
        with self._own_env() as env:
            env['mail.mail'].sudo().search([('mail_message_id', 'in', message_ids),
                                            ('state', '=', 'outgoing')]).send()
