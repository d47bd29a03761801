import datetime
import logging
from contextlib import contextmanager

import psycopg2

from odoo import _, api, fields, models, tools

from ..services import smtp, timing
from . import rows

_logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# What Odoo's ``mail.mail._send`` writes before sending, on purpose; left there, nothing was accepted
ODOO_SEND_GUARD = 'Error without exception. Probably due do sending an email without computed recipients.'
LOCK_NOT_AVAILABLE = '55P03'
INTERRUPTED_AFTER_MINUTES = 10  # a sending still marked after this long was interrupted


class SentToDelete:
    """The ids of the emails sent in a batch whose deletion is put off to its end. An object compared by identity:
    Odoo reuses an environment whose context is equal to the one asked for, so an empty list would be taken for
    another batch's."""

    def __init__(self):
        self.ids = []


class MailMail(models.Model):
    """Emails of Email-channel tickets leave exactly once: a committed mark before the SMTP conversation, the
    outcome decided after it; a failure is retried with backoff and the ticket says why, in plain words."""

    _inherit = 'mail.mail'

    postcenter_attempts = fields.Integer(string='Sending Attempts', readonly=True, copy=False)
    postcenter_sending_since = fields.Datetime(
        string='Sending Since', readonly=True, copy=False,
        help='Set, and committed, just before the mail server is given the email; cleared with the outcome. Still set '
             'later on: the sending was interrupted.')
    postcenter_failure_told = fields.Boolean(
        string='Managers Told of the Failure', readonly=True, copy=False,
        help='The helpdesk managers were told that this email failed for good (once per email).')

    @api.model
    def _postcenter_create_queued(self, values_list):
        """``create(values)`` for each of ``values_list``, emails each with a new message of its own (not one of a
        notification), in a few statements for them all: the same defaults as ``create``, each message written as
        ``mail.message.create`` writes it (``_postcenter_create_unnotified``: nobody is notified of an email's own
        message), then the emails' rows. Returns the emails, in order. Through the ORM, one by one, when a module
        other than mail and fetchmail overrides the ``create`` of emails, or when a value needs more than rows."""
        plain = not self.env.context.get('fetchmail_server_id') and rows.plain_create(self, {'mail', 'fetchmail'}) \
            and not any(values.get('mail_message_id') for values in values_list)
        if plain:
            try:
                with self.env.cr.savepoint():
                    return self._postcenter_insert_queued(values_list)
            except rows.NotPlain as reason:
                _logger.debug('Emails created one by one: %s', reason)
        return self.browse([self.create(dict(values)).id for values in values_list])

    @api.model
    def _postcenter_insert_queued(self, values_list):
        """The rows of ``_postcenter_create_queued``: the messages (the parents' fields of each email, with its
        defaults), then the emails linked to them."""
        parents, own = [], []
        for values in values_list:
            values = self._add_missing_default_values(dict(values))
            parents.append({name: value for name, value in values.items()
                            if name in self._fields and self._fields[name].inherited})
            own.append({name: value for name, value in values.items()
                        if not (name in self._fields and self._fields[name].inherited)})
        messages = self.env['mail.message'].with_context(message_create_from_mail_mail=True) \
            ._postcenter_create_unnotified(parents)
        return rows.insert(self, [dict(values, mail_message_id=message.id) for values, message in zip(own, messages)])

    @api.multi
    def send(self, auto_commit=False, raise_exception=False):
        """Odoo's ``send`` for every other email. Emails of Email-channel tickets go one by one through
        ``_postcenter_send_once`` on the mail server session of their batch (a failure to connect or log in is
        their failure: retried later, noted on the ticket, never raised)."""
        with timing.phase('notifications'):
            return self._postcenter_send(auto_commit, raise_exception)

    @api.multi
    def _postcenter_send(self, auto_commit, raise_exception):
        """The work of ``send`` (counted as notifications when the benchmark records where time goes)."""
        tickets = self._postcenter_of_tickets()
        others = self - tickets
        if others:
            # Odoo's own send() for every other email.
            super(MailMail, others).send(  # pylint: disable=super-method-mismatch
                auto_commit=auto_commit, raise_exception=raise_exception)
        sent_to_delete = SentToDelete()
        try:
            for server_id, batch_ids in tickets._split_by_server():
                tickets._postcenter_send_on_server(server_id, batch_ids, sent_to_delete)
        finally:
            self._postcenter_delete_sent(sent_to_delete.ids)
        return True

    @api.model
    def _postcenter_send_on_server(self, server_id, mail_ids, sent_to_delete):
        """The emails ``mail_ids`` sent one by one on one session of mail server ``server_id``, each in transactions
        of its own on one cursor for them all (``_postcenter_sending_env``); the sent ones Odoo would delete at once
        (``auto_delete``) are added to ``sent_to_delete`` (a ``SentToDelete``) instead."""
        session = connect_error = None
        try:
            session = self.env['ir.mail_server'].connect(mail_server_id=server_id)
        except Exception as error:
            connect_error = error
        try:
            with self._postcenter_sending_env() as Sending:
                batch = Sending.browse(mail_ids)
                batch._postcenter_read_together()
                for sending in batch:
                    self.browse(sending.id)._postcenter_send_once(sending, session, connect_error, sent_to_delete)
        finally:
            if session:
                try:
                    session.quit()
                except Exception:
                    _logger.info('SMTP session of mail server %s did not close cleanly', server_id)

    @api.multi
    def _postcenter_read_together(self):
        """Read the emails' rows and their messages' rows, for them all at once, into the cache: Odoo's ``_send``
        browses each email alone, so that each would read its own. (Their recipients and attachments are read by
        ``_send`` in a context of its own for each email, in which a value read here would not be found.) The
        emails this cursor does not see are left out, never an error."""
        visible = self.browse(self.exists().ids)  # one its caller has not committed yet is sent in the caller's
        visible.mapped('state')
        visible.mapped('mail_message_id').mapped('model')

    @api.model
    def _postcenter_delete_sent(self, mail_ids):
        """Delete, together and committed, the sent emails whose deletion Odoo asked for while a batch was being
        sent (see ``unlink``): those still sent (an email whose outcome was not committed stays as it was marked).
        Should it fail, they stay as sent emails: logged, never sent again."""
        if not mail_ids:
            return
        try:
            with api.Environment.manage(), self.pool.cursor() as cr:
                Mail = self.with_env(self.env(cr=cr)).sudo().with_context(postcenter_delete_later=None)
                Mail.search([('id', 'in', mail_ids), ('state', '=', 'sent')]).unlink()
        except Exception:
            _logger.exception('Sent emails %s could not be deleted; they stay as sent', mail_ids)

    @api.multi
    def unlink(self):
        """Odoo's deletion. While a batch of Email-channel emails is being sent (``postcenter_delete_later``: a
        ``SentToDelete``), the deletion Odoo's ``_send`` asks for once an email is sent (``auto_delete``) is put
        off: the emails are added to it and deleted together after the batch (``_postcenter_delete_sent``). Each
        deletion costs a handful of look-ups (properties, XML ids, defaults, attachments) and empties the whole
        cache; for a batch they are done once."""
        later = self.env.context.get('postcenter_delete_later')
        if later is None:
            return super().unlink()
        later.ids.extend(self.ids)
        return True

    @api.multi
    def _postcenter_of_tickets(self):
        """The emails of ``self`` that ``_postcenter_ticket`` finds an Email-channel ticket for, in one statement for
        them all (rather than reading each email's message and ticket in turn)."""
        if not self:
            return self
        self.env.cr.execute("""
            SELECT mail.id FROM mail_mail mail
              JOIN mail_message message ON message.id = mail.mail_message_id AND message.model = 'helpdesk.ticket'
              JOIN helpdesk_ticket ticket ON ticket.id = message.res_id
             WHERE mail.id IN %s AND ticket.email_account_id IS NOT NULL""", (tuple(self.ids),))
        found = {row[0] for row in self.env.cr.fetchall()}
        return self.filtered(lambda mail: mail.id in found)

    @api.multi
    def _postcenter_ticket(self):
        message = self.mail_message_id
        if message.model != 'helpdesk.ticket' or not message.res_id:
            return self.env['helpdesk.ticket']
        ticket = self.env['helpdesk.ticket'].sudo().browse(message.res_id).exists()
        return ticket if ticket.email_account_id else self.env['helpdesk.ticket']

    @api.multi
    def _postcenter_send_once(self, sending, session, connect_error, sent_to_delete):
        """Send one email at most once, even if this process dies in the middle.

        First the email is marked, in a transaction of its own that is committed, as interrupted (state
        ``exception``): if the process dies after the SMTP server accepted it and before the outcome is committed,
        it stays so, kept for a person to check and resend, and is never sent a second time. Then it is sent by
        Odoo's own ``_send`` in another transaction, which writes ``sent`` or the error; the outcome is decided
        once that returns (``_postcenter_after_send``). An email not visible to other transactions yet (created in
        the caller's uncommitted transaction) or being written by one goes through Odoo's ``_send`` in the
        caller's transaction, with Odoo's own guard. ``sending``: this email in the environment of its batch's
        sending (``_postcenter_sending_env``). ``sent_to_delete``: a ``SentToDelete`` that takes the emails sent on
        that cursor that Odoo deletes once sent, deleted by the caller after its batch."""
        self.ensure_one()
        claimed = sending._postcenter_claim()
        if claimed is False:  # sent, failed or being sent by someone else meanwhile
            return
        if claimed is None:
            self._postcenter_deliver(session, connect_error)
            return
        sending.env.cr.execute(
            "UPDATE mail_mail SET state = 'outgoing', postcenter_sending_since = NULL WHERE id = %s", (sending.id,))
        sending._postcenter_cache_as_claimed()
        try:
            sending.with_context(postcenter_delete_later=sent_to_delete)._postcenter_deliver(session, connect_error)
        except Exception:
            sending.env.cr.rollback()
            raise
        sending.env.cr.commit()  # pylint: disable=invalid-commit

    @api.multi
    def _postcenter_cache_as_claimed(self):
        """Put in the cache what the claim and its undoing just wrote in the email's row (outgoing, the reason it
        would be left with if interrupted, no sending time): Odoo's ``_send`` reads the row as it now is, and the
        rest of the row, read with the batch's, is left in the cache."""
        cache = self.env.cache
        for name, value in (('state', 'outgoing'), ('postcenter_sending_since', None),
                            ('failure_reason', self._postcenter_interrupted_reason())):
            field = self._fields[name]
            cache.set(self, field, field.convert_to_cache(value, self, validate=False))

    @contextmanager
    def _postcenter_sending_env(self):
        """A cursor of its own for sending emails, each committed on it one after the other (as Odoo's ``_send``
        with ``auto_commit`` does), in one environment: what the emails share (their recipients, the mail server,
        the ticket's company) is read once for the batch rather than for each email."""
        with api.Environment.manage(), self.pool.cursor() as cr:
            yield self.with_env(self.env(cr=cr))

    @api.multi
    def _postcenter_claim(self):
        """Mark the email as being sent, committed: True; False if it is no longer outgoing; None if another
        transaction cannot see it yet or holds it (the caller's own transaction wrote it). Runs on a cursor of
        its own (``_postcenter_sending_env``), on which nothing else is pending."""
        cr = self.env.cr
        try:
            cr.execute('SELECT state FROM mail_mail WHERE id = %s FOR UPDATE NOWAIT', (self.id,))
            row = cr.fetchone()
            if not row:
                cr.rollback()
                return None
            if row[0] != 'outgoing':
                cr.rollback()
                return False
            cr.execute("""
                UPDATE mail_mail SET state = 'exception', failure_reason = %s,
                                     postcenter_sending_since = (now() at time zone 'UTC')
                 WHERE id = %s""", (self._postcenter_interrupted_reason(), self.id))
            cr.commit()  # pylint: disable=invalid-commit
            return True
        except psycopg2.OperationalError as error:
            cr.rollback()
            if error.pgcode == LOCK_NOT_AVAILABLE:
                return None
            raise

    @api.multi
    def _postcenter_interrupted_reason(self):
        return _('The sending of this email was interrupted (the helpdesk stopped while talking to the mail '
                 'server): it may or may not have reached the customer. Check with the customer before using '
                 '"Resend Failed Emails".')

    @api.multi
    def _postcenter_deliver(self, session, connect_error):
        """Odoo's ``_send`` for this email on ``session``, then the outcome; or the connection's failure."""
        if connect_error is not None:
            self._postcenter_failed(self._postcenter_plain_reason(connect_error))
            return
        # Odoo's own sending, around which the outcome is decided.
        super(MailMail, self)._send(smtp_session=session)  # pylint: disable=super-method-mismatch
        self._postcenter_after_send()

    @api.multi
    def _postcenter_after_send(self):
        """Decide what happened from what Odoo's ``_send`` wrote: sent (or deleted once sent), or an error; when
        its guard is still there, no recipient address was accepted."""
        self.env.cr.execute('SELECT state, failure_reason FROM mail_mail WHERE id = %s', (self.id,))
        row = self.env.cr.fetchone()
        if not row or row[0] != 'exception':
            return
        self.invalidate_cache(ids=self.ids)
        reason = row[1]
        if reason in (ODOO_SEND_GUARD, _(ODOO_SEND_GUARD)):
            self._postcenter_failed(_('it has no valid recipient address.'), permanent=True)
        else:
            self._postcenter_failed(self._postcenter_plain_reason(reason))

    @api.multi
    def _postcenter_failed(self, plain, permanent=False):
        """The email could not leave (``plain``: why, in plain words): queued again later (2, 4, 8, 16 minutes),
        or failed for good after ``MAX_ATTEMPTS`` (at once when ``permanent``); either way the ticket says why."""
        attempts = MAX_ATTEMPTS if permanent else self.postcenter_attempts + 1
        values = {'state': 'exception', 'failure_reason': plain, 'postcenter_attempts': attempts}
        if attempts < MAX_ATTEMPTS:
            when = datetime.datetime.utcnow() + datetime.timedelta(minutes=smtp.retry_delay_minutes(attempts))
            values.update(state='outgoing', scheduled_date=fields.Datetime.to_string(when))
            note = _('An email to the customer could not be sent: %(reason)s It will be tried again at %(when)s '
                     '(UTC).') % {'reason': plain, 'when': values['scheduled_date']}
        elif permanent:
            note = _('An email to the customer could not be sent: %s Correct the address, then use "Resend '
                     'Failed Emails" on the ticket.') % plain
        else:
            note = _('An email to the customer could not be sent after %(attempts)s attempts: %(reason)s Fix the '
                     'cause, then use "Resend Failed Emails" on the ticket.') % {'attempts': attempts, 'reason': plain}
        self.write(values)
        ticket = self._postcenter_ticket()
        ticket.message_post(body='<p>%s</p>' % tools.html_escape(note), message_type='comment',
                            subtype='mail.mt_note', author_id=False)
        if attempts >= MAX_ATTEMPTS:
            ticket._postcenter_reply_failed_for_good(self, plain)

    @api.model
    def _cron_interrupted(self, now=None):
        """Scheduled action: emails whose sending was interrupted (still marked ``INTERRUPTED_AFTER_MINUTES`` after
        it started: the process died while talking to the mail server) fail for good, and their ticket says so, once.
        They are never sent again on their own: the mail server may have accepted them."""
        now = fields.Datetime.from_string(now or fields.Datetime.now())
        before = fields.Datetime.to_string(now - datetime.timedelta(minutes=INTERRUPTED_AFTER_MINUTES))
        interrupted = self.sudo().search([('postcenter_sending_since', '<', before)])
        for mail in interrupted:
            started = mail.postcenter_sending_since
            mail.write({'postcenter_sending_since': False, 'postcenter_attempts': MAX_ATTEMPTS,
                        'state': 'exception', 'failure_reason': mail._postcenter_interrupted_reason()})
            note = _('The sending of an email to the customer was interrupted at %s (UTC): it may or may not have '
                     'reached the customer. Check with the customer, then use "Resend Failed Emails" on the ticket if '
                     'it is needed.') % started
            ticket = mail._postcenter_ticket()
            ticket.message_post(body='<p>%s</p>' % tools.html_escape(note), message_type='comment',
                                subtype='mail.mt_note', author_id=False)
            ticket._postcenter_reply_failed_for_good(mail, mail._postcenter_interrupted_reason())
        return interrupted

    @api.model
    def _postcenter_plain_reason(self, reason):
        """Plain words for an SMTP failure (an exception or Odoo's ``failure_reason`` text)."""
        messages = {
            'auth': _('the mail server rejected the user name or password.'),
            'tls': _('the secure connection (SSL/TLS) with the mail server failed; check the encryption and port.'),
            'refused': _('the mail server refused the connection; check the server and port.'),
            'timeout': _('the mail server did not answer in time.'),
            'dns': _('the mail server name could not be found.'),
            'recipient': _('the mail server refused the recipient address.'),
        }
        kind = smtp.failure_kind(reason)
        return messages.get(kind) or _('the mail server answered: %s.') % tools.ustr(reason or '').strip()
