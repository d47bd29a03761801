"""Failures reach a person: the helpdesk managers are emailed once per episode of an account's failures, and once
per customer email that failed for good, each in their language; the account shows since when it fails."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
from freezegun import freeze_time

from .common import closed_port, read_spool, real_smtp_delivery
from .test_backoff import T0, BackoffCase, at

REFUSED = 'the mail server refused the recipient address.'


class AlertCase(BackoffCase):

    def setUp(self):
        super().setUp()
        self.use_platform_smtp()
        self.spool_mark = len(read_spool(self.spool))
        manager = self.env.ref('helpdesk_mgmt.group_helpdesk_manager')
        Users = self.env['res.users'].with_context(no_reset_password=True)

        def user(name, login, email, group, **values):
            return Users.create(dict(values, name=name, login=login, email=email,
                                     groups_id=[(6, 0, [group.id])]))
        self.marta = user('Marta Jefa', 'pc_alert_marta', 'marta@empresa.example', manager, lang='en_US')
        self.sergio = user('Sergio Jefe', 'pc_alert_sergio', 'sergio@empresa.example', manager, lang='es_ES',
                           tz='America/Santiago')
        self.ines = user('Inés Antigua', 'pc_alert_ines', 'ines@empresa.example', manager, active=False)
        self.andrea = user('Andrea Agente', 'pc_alert_andrea', 'andrea@empresa.example',
                           self.env.ref('helpdesk_mgmt.group_helpdesk_user'))
        self.watched = {u.email for u in self.marta | self.sergio | self.ines | self.andrea}

    def alerts(self):
        """The alerts that really left (Odoo's mail queue, the test SMTP sink) since the last call, by address."""
        with real_smtp_delivery():
            self.cr.commit()
            self.env['mail.mail'].process_email_queue()
        return self._read_new()

    def _read_new(self):
        found = read_spool(self.spool)
        new, self.spool_mark = found[self.spool_mark:], len(found)
        told = {}
        for _sender, recipients, message in new:
            for address in set(recipients) & self.watched:
                self.assertNotIn(address, told, 'told twice')
                told[address] = message
        return told

    def text(self, message):
        return message.get_body(('html', 'plain')).get_content()


class TestAccountFailing(AlertCase):

    def test_managers_are_told_once_per_episode_and_again_in_a_new_one(self):
        self.account.imap_password = 'wrong'
        self.cron(T0)
        self.assertEqual(set(self.alerts()), {self.marta.email, self.sergio.email})
        self.cron(at(T0, minutes=1))
        self.cron(at(T0, minutes=3))
        self.assertEqual(self.account.login_rejections, 3)
        self.assertEqual(self.alerts(), {}, 'the same episode tells nobody again')
        self.account.imap_port = closed_port()  # still failing, in another way, and not connected between
        self.cron(at(T0, minutes=4))
        self.assertEqual(self.alerts(), {})
        self.account.write({'imap_port': self.imap['port'], 'imap_password': self.imap['password']})
        self.cron(at(T0, minutes=5))
        self.assertEqual(self.account.state, 'connected')
        self.assertEqual(self.alerts(), {})
        self.account.imap_password = 'wrong again'
        self.cr.commit()
        self.account.action_test_connection()  # a failing Test Connection starts the new episode too
        self.assertEqual(set(self.alerts()), {self.marta.email, self.sergio.email})
        self.cron(at(T0, hours=1))
        self.assertEqual(self.alerts(), {})

    def test_each_manager_reads_it_in_their_language(self):
        self.account.imap_password = 'wrong'
        self.cron(T0)
        told = self.alerts()
        english, spanish = told[self.marta.email], told[self.sergio.email]
        self.assertEqual(english['Subject'], 'Email account Soporte is not working')
        self.assertIn('rejected the user name or password', self.text(english))
        self.assertIn('since 2026-03-02 12:00 (UTC)', self.text(english))
        self.assertIn('/web#id=%d&amp;model=postcenter.email.account' % self.account.id, self.text(english))
        self.assertEqual(spanish['Subject'], 'La cuenta de email Soporte no está funcionando')
        self.assertIn('rechazó el usuario o la contraseña', self.text(spanish))
        self.assertIn('desde el 2026-03-02 09:00 (America/Santiago)', self.text(spanish))
        for message in (english, spanish):
            self.assertEqual(message['Auto-Submitted'], 'auto-generated')
            self.assertIn('noreply@helpdesk.example.org', message['From'])

    def test_failing_since_is_set_when_the_episode_starts_and_cleared_on_success(self):
        self.account.imap_password = 'wrong'
        self.cron(T0)
        self.cron(at(T0, minutes=1))
        self.assertEqual(self.account.failing_since, T0)
        for moment, words in ((at(T0, seconds=30), 'under a minute'), (at(T0, minutes=45), '45 min'),
                              (at(T0, hours=3, minutes=20), '3 h 20 min'), (at(T0, days=2, hours=4), '2 d 4 h')):
            with freeze_time(moment):
                self.account.invalidate_cache(['failing_for'])
                self.assertEqual(self.account.failing_for, words)
        with freeze_time(at(T0, hours=3)):
            self.account.invalidate_cache(['failing_for'])
            self.assertEqual(self.account.with_context(lang='es_ES').failing_for, '3 h')
        self.account.imap_password = self.imap['password']
        self.assertEqual(self.account.failing_since, T0, 'not connected yet: the episode goes on')
        self.cron(at(T0, minutes=2))
        self.assertEqual((self.account.state, self.account.failing_since, self.account.failing_for),
                         ('connected', False, False))


class TestReplyFailedForGood(AlertCase):

    def failed_reply(self):
        customer = self.env['res.partner'].create({'name': 'Ana Pérez', 'email': 'ana@cliente.cl'})
        ticket = self.env['helpdesk.ticket'].create({
            'name': 'Pedido 1234 no llegó', 'description': 'x', 'email_account_id': self.account.id,
            'partner_id': customer.id, 'partner_email': customer.email})
        mail = self.env['mail.mail'].create({
            'model': 'helpdesk.ticket', 'res_id': ticket.id, 'subject': 'Re: Pedido 1234 no llegó',
            'body_html': '<p>Ya lo revisamos.</p>', 'email_to': 'ana@cliente.cl', 'state': 'exception'})
        return ticket, mail

    def test_managers_are_told_once_for_that_email(self):
        ticket, mail = self.failed_reply()
        sent = ticket._postcenter_reply_failed_for_good(mail, REFUSED)
        told = sent.mapped('recipient_ids')
        managers = self.marta.partner_id | self.sergio.partner_id
        self.assertEqual(managers & told, managers)
        self.assertFalse((self.ines.partner_id | self.andrea.partner_id) & told)
        self.assertEqual(set(sent.mapped('model')), {False}, 'the alerts are no email of the ticket')
        self.assertEqual(ticket._postcenter_reply_failed_for_good(mail, REFUSED), self.env['mail.mail'])
        told = self.alerts()
        self.assertEqual(set(told), {self.marta.email, self.sergio.email})
        english, spanish = told[self.marta.email], told[self.sergio.email]
        self.assertEqual(english['Subject'], 'Ticket %s: an email to the customer could not be sent' % ticket.number)
        for words in (ticket.number, 'Pedido 1234 no llegó', 'ana@cliente.cl', 'Soporte', REFUSED,
                      'Resend Failed Emails'):
            self.assertIn(words, self.text(english))
        self.assertEqual(spanish['Subject'], 'Ticket %s: no se pudo enviar un email al cliente' % ticket.number)
        self.assertIn('ana@cliente.cl', self.text(spanish))
        self.assertIn('Motivo: el servidor de correo rechazó la dirección del destinatario.', self.text(spanish))
        self.assertIn('Reenviar emails fallidos', self.text(spanish))
        self.assertEqual(ticket._postcenter_reply_failed_for_good(mail, REFUSED), self.env['mail.mail'])
        self.assertEqual(self.alerts(), {})
        other_ticket, other_mail = self.failed_reply()
        other_ticket._postcenter_reply_failed_for_good(other_mail, REFUSED)
        self.assertEqual(set(self.alerts()), {self.marta.email, self.sergio.email}, 'another email, another alert')

    def test_the_alerts_leave_as_soon_as_the_transaction_commits(self):
        ticket, mail = self.failed_reply()
        ticket._postcenter_reply_failed_for_good(mail, REFUSED)
        self.assertEqual(self._read_new(), {}, 'nothing leaves before the commit')
        with real_smtp_delivery():
            self.cr.commit()
            for handler in self.cr._pop_event_handlers()['commit']:  # what Odoo's cursor runs after a commit
                handler()
        self.assertEqual(set(self._read_new()), {self.marta.email, self.sergio.email})
