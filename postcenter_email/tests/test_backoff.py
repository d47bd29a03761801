"""A rejected password backs off (1, 2, 4 … 60 minutes), other failures keep the pace, the buttons try at once:
against the real Dovecot of the test run, with the scheduled action's clock passed in."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
import contextlib
import datetime

from odoo import fields

from ..models.postcenter_email_account import DUE_FOR_FETCH
from .common import DovecotControl, IngestCase, Mailbox, SilentServer, closed_port, make_email, second_imap_user

T0 = '2026-03-02 12:00:00'


def at(moment, **delta):
    return fields.Datetime.to_string(fields.Datetime.from_string(moment) + datetime.timedelta(**delta))


class BackoffCase(IngestCase):

    def cron(self, now):
        """The scheduled action at ``now``, as Odoo runs it (what the test wrote is committed first)."""
        self.cr.commit()
        self.env['postcenter.email.account']._cron_fetch(now=now)
        self.refresh()

    @contextlib.contextmanager
    def provider_refuses_the_password(self):
        """The provider refuses the account's (unchanged) password for a while: a real Dovecot refusal."""
        dovecot = DovecotControl()
        dovecot.set_password(self.imap['user'], 'changed-at-the-provider')
        try:
            yield
        finally:
            dovecot.set_password(self.imap['user'], self.imap['password'])

    def assert_waiting(self, rejections, next_attempt):
        self.assertEqual(self.account.state, 'error')
        self.assertIn('rejected the user name or password', self.account.last_error)
        self.assertEqual((self.account.login_rejections, self.account.next_attempt), (rejections, next_attempt))


class TestRejectedPassword(BackoffCase):

    def test_wrong_password_waits_1_2_4_up_to_60_minutes_and_the_cron_skips_it_until_then(self):
        self.account.imap_password = 'wrong'
        now = T0
        for rejections, wait in enumerate((1, 2, 4, 8, 16, 32, 60, 60), start=1):
            self.cron(now)
            self.assert_waiting(rejections, at(now, minutes=wait))
            self.assertEqual(self.account.last_fetch_date, now)
            self.cron(at(now, minutes=wait, seconds=-1))  # a second before its next attempt: not tried
            self.assert_waiting(rejections, at(now, minutes=wait))
            self.assertEqual(self.account.last_fetch_date, now)
            now = self.account.next_attempt
        self.assertEqual(self.account.failing_since, T0)

    def test_an_account_that_waits_does_not_hold_up_the_others(self):
        user, password = second_imap_user()
        other_box = Mailbox(user, password)
        other_box.clear()
        other = self.account.copy({'name': 'Ventas', 'email': user, 'imap_user': user, 'imap_password': password})
        self.account.imap_password = 'wrong'
        self.cron(T0)
        other_box.append(make_email())
        self.cron(at(T0, seconds=30))
        self.assert_waiting(1, at(T0, minutes=1))
        self.assertEqual((other.state, other.last_fetch_date, len(self.tickets(other))),
                         ('connected', at(T0, seconds=30), 1))

    def test_the_scheduled_fetch_finds_the_due_accounts_with_one_indexed_query(self):
        self.cr.execute('SET LOCAL enable_seqscan = off')
        self.cr.execute('EXPLAIN ' + DUE_FOR_FETCH, (T0,))
        plan = '\n'.join(row[0] for row in self.cr.fetchall())
        self.cr.execute('RESET enable_seqscan')
        self.assertIn('postcenter_email_account_next_attempt_index', plan)

    def test_changing_the_connection_settings_ends_the_wait(self):
        self.account.imap_password = 'wrong'
        self.cron(T0)
        self.assert_waiting(1, at(T0, minutes=1))
        self.account.imap_password = self.imap['password']
        self.assertEqual((self.account.state, self.account.next_attempt, self.account.login_rejections),
                         ('not_validated', False, 0))
        self.cron(at(T0, seconds=10))
        self.assertEqual(self.account.state, 'connected')
        self.assertFalse(self.account.failing_since)


class TestTemporaryFailures(BackoffCase):

    def test_a_closed_port_or_a_timeout_keeps_the_normal_pace(self):
        self.account.imap_port = closed_port()
        self.cron(T0)
        self.assertIn('refused the connection', self.account.last_error)
        self.assertEqual((self.account.state, self.account.next_attempt, self.account.login_rejections),
                         ('error', False, 0))
        self.cron(at(T0, minutes=1))
        self.assertEqual(self.account.last_fetch_date, at(T0, minutes=1), 'tried again at the next run')
        self.env['ir.config_parameter'].set_param('postcenter_email.imap_timeout', '1')
        silent = SilentServer()
        self.addCleanup(silent.close)
        self.account.imap_port = silent.port
        self.cron(at(T0, minutes=2))
        self.assertIn('did not answer in time', self.account.last_error)
        self.assertEqual((self.account.next_attempt, self.account.login_rejections), (False, 0))
        self.cron(at(T0, minutes=3))
        self.assertEqual(self.account.last_fetch_date, at(T0, minutes=3), 'tried again at the next run')
        self.assertEqual(self.account.failing_since, T0)


class TestButtonsTryAtOnce(BackoffCase):

    def test_fetch_now_tries_at_once_and_its_success_ends_the_wait(self):
        self.mailbox.append(make_email())
        with self.provider_refuses_the_password():
            self.cron(T0)
            self.cron(at(T0, minutes=1))
        self.assert_waiting(2, at(T0, minutes=3))
        self.cron(at(T0, minutes=2))
        self.assert_waiting(2, at(T0, minutes=3))
        self.assertEqual(self.tickets(), self.env['helpdesk.ticket'], 'the scheduled fetch still waits')
        self.cr.commit()
        self.account.action_fetch()
        self.refresh()
        self.assertEqual(len(self.tickets()), 1)
        self.assertEqual((self.account.state, self.account.next_attempt, self.account.login_rejections,
                          self.account.failing_since), ('connected', False, 0, False))

    def test_test_connection_tries_at_once_and_its_success_ends_the_wait(self):
        with self.provider_refuses_the_password():
            self.cron(T0)
            self.account.action_test_connection()  # at once, although the next attempt is a minute away
            self.assertEqual(self.account.login_rejections, 2)
            self.assertEqual(self.account.state, 'error')
        self.account.action_test_connection()
        self.assertEqual((self.account.state, self.account.next_attempt, self.account.login_rejections,
                          self.account.failing_since), ('connected', False, 0, False))
