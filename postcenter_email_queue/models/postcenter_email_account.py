"""The Email channel's work as queue_job jobs: the scheduled fetch enqueues one job per due account (channel
``root.postcenter_email``), and the emails of a fetched batch or a forwarded email (agents' copies, automatic
replies) are sent by a job of their own (channel ``root.postcenter_email_send``), so a slow mail server never slows
fetching. Without queue_job, postcenter_email does both itself, as before."""
import logging

import psycopg2

from odoo import _, api, models

from odoo.addons.postcenter_email.models.postcenter_email_account_imap import FetchLockLost
from odoo.addons.queue_job.exception import FailedJobError, RetryableJobError
from odoo.addons.queue_job.job import job

_logger = logging.getLogger(__name__)

FETCH_CHANNEL = 'root.postcenter_email'
SEND_CHANNEL = 'root.postcenter_email_send'
LOCK_LOST_RETRY = 60  # seconds before a fetch stopped by a lost lock (a database restart) runs again
# a job is created without queue_job's "Queue Job created" note and without the creator as follower: per job, that
# is a message, a follower and their notification work, for nobody to read
QUIET = {'mail_create_nolog': True, 'mail_create_nosubscribe': True}


def fetch_identity(account_id):
    """The identity key of an account's fetch job: queue_job enqueues no second one while one is pending."""
    return 'postcenter_email.fetch.%d' % account_id


class PostcenterEmailAccount(models.Model):
    """Fetching and sending as jobs."""

    _inherit = 'postcenter.email.account'

    @api.multi
    def _fetch_scheduled(self, now=None):
        """With the job queue, the scheduled fetch does not fetch the account itself: it enqueues its fetch as a job
        (``root.postcenter_email``), at most one pending per account (the identity key). The runner dispatches the
        jobs to the Odoo workers of every server on the database, as many at once as the channel's capacity; the
        account's fetch lock still keeps one fetch of an account at a time. Each job is committed at once, on a
        cursor of its own, so the first accounts are fetched while the scheduled action enqueues the others."""
        self.ensure_one()
        description = _('Email channel: fetch "%s"') % self.name
        with self._own_env() as env:
            self.with_env(env).with_context(**QUIET).with_delay(
                identity_key=fetch_identity(self.id), description=description)._job_fetch(now=now)

    @api.multi
    @job(default_channel=FETCH_CHANNEL)
    def _job_fetch(self, now=None):
        """The job of one account's scheduled fetch; it returns what happened, in plain words (shown on the job). A
        server failure is the account's (Error, its reason, the managers told once): the job is done. What the
        fetch did not expect fails the job, with plain words on it (queue_job's *Failed* jobs)."""
        account = self.exists()
        if not account or not account.active or account.connection_type != 'imap':
            return _('Nothing to do: the account was deleted or archived, or no longer reads mail by IMAP.')
        try:
            outcome = account._fetch_imap(now=now)
        except psycopg2.OperationalError:
            raise  # a conflict with another transaction: queue_job tries the job again in a few seconds
        except FetchLockLost:
            raise RetryableJobError(_('The connection to the database was lost during the fetch (did PostgreSQL '
                                      'restart?). What was fetched is kept; the fetch goes on in a minute.'),
                                    seconds=LOCK_LOST_RETRY)
        except Exception as error:  # queue_job logs it with its traceback, and keeps that on the job
            words = {'name': account.name, 'error': describe(error)}
            raise FailedJobError(_('Fetching the email account "%(name)s" failed unexpectedly (%(error)s). No mail is '
                                   'lost: what was fetched is kept, the rest stays in the mailbox, and the next '
                                   'scheduled fetch tries again. If this keeps happening, send the job\'s Exception '
                                   'Information to your Odoo provider.') % words) from error
        if outcome == 'busy':
            return _('Skipped: the account was being fetched at that moment (Fetch Now, or another job).')
        if outcome == 'error':
            return _('The account could not be fetched: %s') % account._last_error_committed()
        return _('Fetched: the new mail of the account is in the helpdesk.')

    @api.multi
    def _last_error_committed(self):
        """The account's last error as the fetch committed it (on a cursor of its own: this job's transaction
        still sees the account as it was when the job started)."""
        self.ensure_one()
        with self._own_env() as env:
            return self.with_env(env).last_error

    @api.model
    def _send_notifications(self, message_ids):
        """With the job queue, the emails of a committed batch (or forwarded email) are sent by a job
        (``root.postcenter_email_send``) instead of by the fetch itself: the fetch goes on at once, whatever the mail
        server's speed. The job is enqueued on a cursor of its own, committed at once, so it runs while the fetch
        goes on. Should it never run, or not be enqueued, the emails are still in Odoo's mail queue."""
        if not message_ids:
            return
        try:
            with self._own_env() as env:
                env['postcenter.email.account'].with_context(**QUIET).with_delay(
                    description=_('Email channel: send the emails of %d received messages') % len(message_ids),
                )._job_send_notifications(list(message_ids))
        except Exception:
            _logger.exception('Email account %s: the emails of a fetched batch are left to the mail queue', self.id)

    @api.model
    @job(default_channel=SEND_CHANNEL)
    def _job_send_notifications(self, message_ids):
        """The job that sends the queued emails of the committed messages ``message_ids``; an email that the mail
        server refuses is marked and retried as every email of the helpdesk is (``mail.mail``)."""
        self._send_queued_emails(message_ids)
        return _('Sent: the emails of %d received messages.') % len(message_ids)


def describe(error):
    """The error's own words, or its kind when it has none."""
    return str(error) or type(error).__name__
