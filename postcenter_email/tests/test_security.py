from odoo.exceptions import AccessError

from .common import PostcenterCase


class TestAccountSecurity(PostcenterCase):
    """Managers administer accounts; agents see names and addresses, never passwords."""

    def setUp(self):
        super().setUp()
        self.account = self.Account.create(self.imap_values())

    def test_manager_reads_and_edits_everything(self):
        account = self.account.sudo(self.manager)
        self.assertEqual(account.read(['imap_password'])[0]['imap_password'], self.imap['password'])
        account.write({'name': 'Soporte 2', 'imap_password': 'new'})
        self.assertEqual(account.imap_password, 'new')
        account.unlink()

    def test_agent_reads_name_and_address_only(self):
        account = self.account.sudo(self.agent)
        values = account.read(['name', 'email', 'connection_type', 'state'])[0]
        self.assertEqual((values['name'], values['email']), ('Soporte', self.imap['user']))
        with self.assertRaises(AccessError):
            account.read(['imap_password'])
        self.assertNotIn('imap_password', self.env['postcenter.email.account'].sudo(self.agent).fields_get())

    def test_agent_cannot_change_anything(self):
        Account = self.env['postcenter.email.account'].sudo(self.agent)
        with self.assertRaises(AccessError):
            self.account.sudo(self.agent).write({'name': 'Hacked'})
        with self.assertRaises(AccessError):
            Account.create(self.imap_values(email='ventas@example.com'))
        with self.assertRaises(AccessError):
            self.account.sudo(self.agent).unlink()

    def test_agent_cannot_search_on_the_password(self):
        with self.assertRaises(AccessError):
            self.env['postcenter.email.account'].sudo(self.agent).search([('imap_password', '=', 'x')])

    def test_menu_is_for_managers(self):
        menu = self.env.ref('postcenter_email.menu_postcenter_email_account')
        Menu = self.env['ir.ui.menu']
        self.assertIn(menu.id, Menu.sudo(self.manager)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.sudo(self.agent)._visible_menu_ids())
