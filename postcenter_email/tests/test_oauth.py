"""Google / Microsoft sign-in (OAuth 2.0) of email accounts, against the test run's real local authorization
server (Authlib), Dovecot checking XOAUTH2 tokens by introspection, and an SMTP relay that takes only XOAUTH2.
The provider profiles point at the local server through their system parameters; nothing on the path is mocked."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit
import json
import os
import threading
import urllib.parse

import requests

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import common

from ..services import oauth
from .common import (ChannelCase, IngestCase, Mailbox, PostcenterCase, imap_test_server, make_email, read_spool,
                     real_smtp_delivery)

SESSION = 'browser-session-of-the-admin'


def oauth_server():
    return os.environ['POSTCENTER_TEST_OAUTH_URL']


def server_post(path, **form):
    response = requests.post(oauth_server() + path, data=form, timeout=10)
    return response


class OAuthMixin:
    """Point both provider profiles at the local server; sign in the way an administrator's browser does."""

    def configure_providers(self, env=None):
        client_id, client_secret = os.environ['POSTCENTER_TEST_OAUTH_CLIENT'].split(':')
        params = (env or self.env)['ir.config_parameter']
        for provider in ('google', 'microsoft'):
            for key, value in (('authorize_url', '/authorize'), ('token_url', '/token'),
                               ('userinfo_url', '/userinfo')):
                params.set_param('postcenter_email.oauth.%s.%s' % (provider, key), oauth_server() + value)
            params.set_param('postcenter_email.oauth.%s.client_id' % provider, client_id)
            params.set_param('postcenter_email.oauth.%s.client_secret' % provider, client_secret)
        self.client = (client_id, client_secret)

    def signin_as(self, login):
        server_post('/test/signin-as', login=login)

    def consent(self, action, allow=True):
        """The provider's page: open the action's URL, press Allow (or Deny); the callback's parameters."""
        self.assertEqual(action['type'], 'ir.actions.act_url')
        page = requests.get(action['url'], timeout=10)
        self.assertEqual(page.status_code, 200, page.text)
        self.assertIn('Allow', page.text)
        answer = requests.post(action['url'], data={'allow' if allow else 'deny': '1'}, allow_redirects=False,
                               timeout=10)
        self.assertEqual(answer.status_code, 302, answer.text)
        location = answer.headers['Location']
        self.assertTrue(location.startswith(self.env['postcenter.email.account']._oauth_redirect_uri()))
        return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))

    def callback(self, params):
        """What the controller does with the provider's answer: the page the administrator sees next."""
        return self.env['postcenter.email.account'].with_context(
            postcenter_oauth_session=SESSION)._oauth_callback(params)

    def sign_in(self, record, allow=True, reconnect=False):
        record = record.with_context(postcenter_oauth_session=SESSION)
        action = record.action_oauth_reconnect() if reconnect else record.action_oauth_sign_in()
        return self.callback(self.consent(action, allow=allow))

    def wizard(self, **values):
        self.account.active = False  # the test's password account has the same address
        base = {'connection_type': 'imap', 'step': 'details', 'name': 'Soporte', 'email': self.imap['user'],
                'imap_auth': 'microsoft', 'imap_host': self.imap['host'], 'imap_port': self.imap['port'],
                'imap_ssl': False, 'imap_user': self.imap['user']}
        base.update(values)
        return self.env['postcenter.email.account.wizard'].create(base)

    def tokens(self, account):
        account.invalidate_cache()
        return account.oauth_access_token, account.oauth_refresh_token

    def refresh_with(self, refresh_token):
        return server_post('/token', grant_type='refresh_token', refresh_token=refresh_token,
                           client_id=self.client[0], client_secret=self.client[1])


class OAuthCase(OAuthMixin, IngestCase):

    def setUp(self):
        super().setUp()
        self.configure_providers()
        self.signin_as(self.imap['user'])

    def connected_account(self):
        """The test's account, moved to Microsoft sign-in and signed in."""
        self.account.imap_auth = 'microsoft'
        self.sign_in(self.account)
        self.assertEqual(self.account.state, 'connected', self.account.oauth_error)
        return self.account


class TestSignIn(OAuthCase):

    def test_sign_in_round_trip_creates_the_account_connected(self):
        wizard = self.wizard(name='Soporte Microsoft')
        action = wizard.with_context(postcenter_oauth_session=SESSION).action_oauth_sign_in()
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(action['url']).query))
        self.assertEqual((query['response_type'], query['code_challenge_method']), ('code', 'S256'))
        self.assertIn('IMAP.AccessAsUser.All', query['scope'])
        self.assertNotIn(wizard.oauth_verifier, action['url'])  # the verifier never leaves the server
        page = self.callback(self.consent(action))
        account = self.env['postcenter.email.account'].search([('name', '=', 'Soporte Microsoft')])
        self.assertFalse(wizard.error_message)
        self.assertEqual(page, '/web#id=%d&model=postcenter.email.account&view_type=form' % account.id)
        self.assertEqual((account.state, account.imap_auth, account.oauth_login),
                         ('connected', 'microsoft', self.imap['user']))
        self.assertTrue(account.oauth_refresh_token and account.oauth_access_token and account.oauth_token_expiry)
        self.assertFalse(account.imap_password)
        self.mailbox.append(make_email(subject='Llegó por OAuth'))
        self.assertEqual(self.fetch(account), 'done')
        self.assertEqual(self.tickets(account).mapped('name'), ['Llegó por OAuth'])

    def test_consent_refused_says_so_in_the_wizard(self):
        wizard = self.wizard(name='Soporte Rechazado')
        page = self.sign_in(wizard, allow=False)
        self.assertIn('model=postcenter.email.account.wizard', page)
        self.assertIn('press Allow', wizard.error_message)
        self.assertFalse(self.env['postcenter.email.account'].search([('name', '=', 'Soporte Rechazado')]))

    def test_provider_refusals_are_told_on_the_account_in_plain_words(self):
        self.account.imap_auth = 'microsoft'
        for error, description, words in (
                ('invalid_request', "AADSTS50020: User account from identity provider does not exist in tenant",
                 'does not belong to the organisation'),
                ('consent_required', 'AADSTS90094: The grant requires admin permission.', 'Grant admin consent'),
                ('invalid_scope', 'AADSTS70011: The provided value for scope is not valid.', 'every permission'),
                ('access_denied', 'The user denied access', 'press Allow')):
            action = self.account.with_context(postcenter_oauth_session=SESSION).action_oauth_sign_in()
            state = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(action['url']).query))['state']
            page = self.callback({'state': state, 'error': error, 'error_description': description})
            self.assertEqual(page, '/web#id=%d&model=postcenter.email.account&view_type=form' % self.account.id)
            self.assertIn(words, self.account.oauth_error)
        self.sign_in(self.account)
        self.assertEqual((self.account.state, self.account.oauth_error), ('connected', False))

    def test_wrong_mailbox_for_the_token_is_refused(self):
        self.signin_as('ventas@example.com')
        wizard = self.wizard(name='Soporte Equivocado')
        self.sign_in(wizard)
        self.assertIn('You signed in as ventas@example.com, but this account is support@example.com',
                      wizard.error_message)
        self.assertFalse(self.env['postcenter.email.account'].search([('name', '=', 'Soporte Equivocado')]))

    def test_a_token_of_another_mailbox_is_refused_by_the_imap_server(self):
        self.connected_account()
        self.account.imap_user = 'ventas@example.com'  # the token is support's: Dovecot refuses it
        self.account.action_test_connection()
        self.assertEqual(self.account.state, 'error')
        self.assertIn('refused the sign-in token', self.account.last_error)

    def test_state_of_another_session_or_replayed_is_refused(self):
        wizard = self.wizard(name='Soporte Sesión')
        params = self.consent(wizard.with_context(postcenter_oauth_session=SESSION).action_oauth_sign_in())
        with self.assertRaises(oauth.OAuthFailure) as failure:
            self.env['postcenter.email.account'].with_context(
                postcenter_oauth_session='another-browser')._oauth_callback(params)
        self.assertEqual(failure.exception.reason, 'state')
        self.callback(params)
        with self.assertRaises(oauth.OAuthFailure):  # the same answer twice
            self.callback(params)

    def test_shared_mailbox_signs_in_as_a_delegate(self):
        shared = Mailbox('compartido@example.com', 'shared-mailbox')
        shared.clear()
        self.signin_as('agente@example.com')
        wizard = self.wizard(name='Compartido', email='compartido@example.com', imap_user='compartido@example.com')
        self.sign_in(wizard)
        self.assertIn('tick "Shared Mailbox"', wizard.error_message)
        wizard.oauth_shared_mailbox = True
        self.sign_in(wizard)
        account = self.env['postcenter.email.account'].search([('name', '=', 'Compartido')])
        self.assertEqual((account.state, account.oauth_login), ('connected', 'agente@example.com'))
        shared.append(make_email(subject='Para el buzón compartido', to='compartido@example.com'))
        self.assertEqual(self.fetch(account), 'done')
        self.assertEqual(self.tickets(account).mapped('name'), ['Para el buzón compartido'])

    def test_provider_addresses_pre_select_the_sign_in(self):
        Wizard = self.env['postcenter.email.account.wizard']
        for address, provider, host in (('ana@hotmail.com', 'microsoft', 'outlook.office365.com'),
                                        ('ana@outlook.com', 'microsoft', 'outlook.office365.com'),
                                        ('ana@gmail.com', 'google', 'imap.gmail.com'),
                                        ('ana@empresa.cl', 'password', False)):
            wizard = Wizard.new({'email': address, 'connection_type': 'imap', 'imap_auth': 'password'})
            wizard._onchange_email()
            if wizard.imap_auth != 'password':
                wizard._onchange_imap_auth()
            self.assertEqual((wizard.imap_auth, wizard.imap_host or False), (provider, host), address)

    def test_switching_from_forwarding_back_to_imap_logs_in_with_the_token(self):
        account = self.connected_account()
        account.write({'connection_type': 'forward'})
        account.write({'connection_type': 'imap'})
        self.assertEqual(account.state, 'connected')
        account.write({'connection_type': 'forward'})
        server_post('/test/revoke-user', login=self.imap['user'])
        server_post('/test/expire', login=self.imap['user'])
        with self.assertRaises(ValidationError) as refused:
            account.write({'connection_type': 'imap'})
        self.assertIn('stays on forwarding', refused.exception.name)
        self.assertIn('Reconnect', refused.exception.name)


class TestTokenLifecycle(OAuthCase):

    def test_fetch_after_expiry_refreshes_and_saves_the_rotated_token(self):
        account = self.connected_account()
        access, refresh = self.tokens(account)
        server_post('/test/expire', token=access)
        self.mailbox.append(make_email(subject='Después de expirar'))
        self.assertEqual(self.fetch(), 'done')
        new_access, new_refresh = self.tokens(account)
        self.assertNotEqual(new_access, access)
        self.assertNotEqual(new_refresh, refresh)
        self.assertEqual(self.tickets().mapped('name'), ['Después de expirar'])
        refused = self.refresh_with(refresh)  # rotation: the old refresh token no longer works
        self.assertEqual((refused.status_code, refused.json()['error']), (400, 'invalid_grant'))
        self.assertEqual(self.refresh_with(new_refresh).status_code, 200)  # the saved one does

    def test_token_valid_for_long_is_not_refreshed(self):
        account = self.connected_account()
        before = self.tokens(account)
        self.account.action_test_connection()
        self.assertEqual(self.tokens(account), before)

    def test_revoked_grant_error_then_reconnect_resumes_at_the_right_uid(self):
        self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Marta Jefa', 'login': 'pc_oauth_marta', 'email': 'marta@empresa.example',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        account = self.connected_account()
        self.mailbox.append(make_email(subject='Primero'))
        self.assertEqual(self.fetch(), 'done')
        server_post('/test/revoke-user', login=self.imap['user'])
        self.mailbox.append(make_email(subject='Segundo'))
        server_post('/test/expire', login=self.imap['user'])
        self.assertEqual(self.fetch(), 'error')
        self.assertEqual(account.state, 'error')
        self.assertIn('sign in again with Reconnect', account.last_error)
        self.assertTrue(account.failing_since)  # the episode that tells the managers has started
        alert = self.env['mail.mail'].search([('subject', '=', 'Email account Soporte is not working')])
        self.assertTrue(alert)
        self.assertIn('Reconnect', alert[0].body_html)
        self.sign_in(account, reconnect=True)
        self.assertEqual((account.state, account.failing_since), ('connected', False))
        self.mailbox.append(make_email(subject='Tercero'))
        self.assertEqual(self.fetch(), 'done')
        self.assertEqual(self.tickets().mapped('name'), ['Primero', 'Segundo', 'Tercero'])

    def test_converting_a_password_account_keeps_progress_and_tickets(self):
        self.mailbox.append(make_email(subject='Con clave'))
        self.assertEqual(self.fetch(), 'done')
        folder = self.account.folder_ids
        last_uid = folder.last_uid
        self.account.imap_auth = 'microsoft'
        self.assertEqual(self.account.state, 'not_validated')
        self.sign_in(self.account)
        self.assertEqual(self.account.state, 'connected')
        self.assertFalse(self.account.imap_password)
        self.assertEqual((self.account.folder_ids, self.account.folder_ids.last_uid), (folder, last_uid))
        self.mailbox.append(make_email(subject='Con OAuth'))
        self.assertEqual(self.fetch(), 'done')
        self.assertEqual(self.tickets().mapped('name'), ['Con clave', 'Con OAuth'])


class TestOAuthSmtp(OAuthMixin, ChannelCase):

    def test_reply_leaves_through_xoauth2(self):
        self.configure_providers()
        self.signin_as(self.imap['user'])
        self.account.imap_auth = 'microsoft'
        self.sign_in(self.account)
        self.account.write({'send_method': 'smtp', 'smtp_host': '127.0.0.1', 'smtp_encryption': 'none',
                            'smtp_port': int(os.environ['POSTCENTER_TEST_OAUTH_SMTP_PORT'])})
        self.assertFalse(self.account.mail_server_id.smtp_user)  # no password path: XOAUTH2 only
        self.account.action_test_smtp()
        self.assertEqual(self.account.smtp_state, 'ok', self.account.smtp_last_error)
        spool = os.environ['POSTCENTER_TEST_OAUTH_SMTP_SPOOL']
        mark = len(read_spool(spool))
        ticket = self.receive(make_email(subject='Quiero respuesta'), '2026-03-02 10:00:00')
        self.answer(ticket, '2026-03-02 10:05:00', text='Hola Ana, ya está resuelto.')
        with real_smtp_delivery():
            self.cr.commit()
            self.env['mail.mail'].process_email_queue()
        sent = read_spool(spool)[mark:]
        self.assertEqual(len(sent), 1)
        self.assertIn('ana@cliente.cl', sent[0][1])
        self.assertIn('ya está resuelto', sent[0][2].get_body().get_content())


class TestConcurrentRefresh(OAuthMixin, common.TransactionCase):
    """Two workers refresh the same account's token at once, on real separate transactions (committed)."""

    def test_two_concurrent_refreshes_keep_the_newer_token(self):
        registry = self.registry
        self.imap = imap_test_server()
        with api.Environment.manage(), registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.configure_providers(env)
            self.signin_as(self.imap['user'])
            # an address of its own (signed in as support, with the shared-mailbox permission), so that an account
            # left behind by a broken run never collides with other tests' accounts
            account = env['postcenter.email.account'].create({
                'name': 'Concurrente', 'email': 'concurrente@example.com', 'connection_type': 'imap',
                'imap_auth': 'microsoft', 'oauth_shared_mailbox': True, 'imap_host': '127.0.0.1',
                'imap_port': self.imap['port'], 'imap_ssl': False, 'imap_user': self.imap['user']})
            account_id = account.id
            self.addCleanup(self._drop_account, account_id)
            self.env = env
            self.sign_in(account)
            self.assertEqual(account.state, 'connected', account.oauth_error)
            access = account.oauth_access_token
            cr.commit()
        counts = json.loads(requests.get(oauth_server() + '/test/counts', timeout=10).text)
        with api.Environment.manage(), registry.cursor() as cr:  # the hour has passed
            cr.execute("UPDATE postcenter_email_account SET oauth_token_expiry = now() at time zone 'UTC' - "
                       "interval '1 minute' WHERE id = %s", (account_id,))
        server_post('/test/expire', token=access)
        results, errors = [], []

        def worker():
            try:
                with api.Environment.manage(), registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    results.append(env['postcenter.email.account'].browse(account_id)._oauth_access_token())
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(len(set(results)), 1)  # the second worker found the first one's new token
        after = json.loads(requests.get(oauth_server() + '/test/counts', timeout=10).text)
        self.assertEqual(after['refresh_token'] - counts['refresh_token'], 1)
        self.assertEqual(after['invalid_grant'], counts['invalid_grant'])
        with api.Environment.manage(), registry.cursor() as cr:
            cr.execute('SELECT oauth_access_token, oauth_refresh_token FROM postcenter_email_account WHERE id = %s',
                       (account_id,))
            saved_access, saved_refresh = cr.fetchone()
        self.assertEqual(saved_access, results[0])
        self.assertEqual(self.refresh_with(saved_refresh).status_code, 200)

    def _drop_account(self, account_id):
        with api.Environment.manage(), self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['postcenter.email.account'].browse(account_id).exists().unlink()
            env['ir.config_parameter'].search([('key', '=like', 'postcenter_email.oauth.%')]).unlink()


class TestOAuthSettingsAndSecrets(PostcenterCase):

    def test_managers_set_the_providers_and_see_the_redirect_uri(self):
        Settings = self.env['postcenter.email.oauth.settings'].sudo(self.manager)
        defaults = Settings.default_get(list(Settings._fields))
        self.assertTrue(defaults['redirect_uri'].endswith('/postcenter_email/oauth/callback'))
        self.assertEqual((defaults['microsoft_tenant'], defaults['google_token_url']),
                         ('organizations', 'https://oauth2.googleapis.com/token'))
        self.assertEqual(defaults['microsoft_authorize_url'],
                         'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize')
        Settings.create({'microsoft_client_id': 'app-id', 'microsoft_tenant': 'common'}).action_save()
        params = self.env['ir.config_parameter'].sudo()
        self.assertEqual(params.get_param('postcenter_email.oauth.microsoft.client_id'), 'app-id')
        token_url = self.env['postcenter.email.account']._oauth_settings('microsoft')['token_url']
        self.assertEqual(token_url, 'https://login.microsoftonline.com/common/oauth2/v2.0/token')

    def test_agents_cannot_see_the_providers(self):
        with self.assertRaises(AccessError):
            self.env['postcenter.email.oauth.settings'].sudo(self.agent).default_get(['microsoft_client_id'])
        menu = self.env.ref('postcenter_email.menu_postcenter_email_oauth_settings')
        self.assertNotIn(menu.id, self.env['ir.ui.menu'].sudo(self.agent)._visible_menu_ids())

    def test_tokens_are_readable_by_managers_only(self):
        account = self.Account.create(self.imap_values(imap_auth='microsoft'))
        account.sudo().write({'oauth_refresh_token': 'refresh-secret', 'oauth_access_token': 'access-secret'})
        self.assertEqual(account.read(['oauth_refresh_token'])[0]['oauth_refresh_token'], 'refresh-secret')
        for name in ('oauth_refresh_token', 'oauth_access_token', 'oauth_token_expiry'):
            with self.assertRaises(AccessError):
                account.sudo(self.agent).read([name])
        with self.assertRaises(AccessError):
            self.env['postcenter.email.account'].sudo(self.agent).search([('oauth_refresh_token', '=', 'x')])

    def test_sign_in_without_a_client_says_what_to_set_up(self):
        account = self.Account.create(self.imap_values(imap_auth='google'))
        self.env['ir.config_parameter'].sudo().set_param('postcenter_email.oauth.google.client_id', '')
        with self.assertRaises(UserError) as raised:
            account.action_oauth_sign_in()
        self.assertIn('client ID and client secret', raised.exception.name)
