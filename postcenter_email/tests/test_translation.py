import os

from odoo.modules.module import get_module_path
from odoo.tests import common
from odoo.tools.translate import PoFile, trans_generate


class TestSpanish(common.TransactionCase):
    """Every term of the addon has its Spanish translation, and Spanish users get it."""

    def exported_terms(self):
        return {row[4] for row in trans_generate(False, ['postcenter_email'], self.cr) if row[4].strip()}

    def spanish_terms(self):
        path = os.path.join(get_module_path('postcenter_email'), 'i18n', 'es.po')
        with open(path, 'rb') as handle:
            return {source: value for _type, _name, _res_id, source, value, _comments in PoFile(handle)}

    def test_every_term_has_a_spanish_entry(self):
        spanish = self.spanish_terms()
        missing = sorted(term for term in self.exported_terms() if not spanish.get(term))
        self.assertFalse(missing, 'Terms without Spanish translation in i18n/es.po:\n%s' % '\n'.join(missing))

    def test_spanish_users_see_spanish(self):
        self.assertTrue(self.env['res.lang'].search([('code', '=', 'es_ES')]))
        Account = self.env['postcenter.email.account'].with_context(lang='es_ES')
        fields = Account.fields_get(['state', 'connection_type'])
        self.assertEqual(fields['state']['string'], 'Estado')
        self.assertIn(('forward', 'Reenvío'), fields['connection_type']['selection'])
        menu = self.env.ref('postcenter_email.menu_postcenter_email_account').with_context(lang='es_ES')
        self.assertEqual(menu.name, 'Cuentas de Email')
