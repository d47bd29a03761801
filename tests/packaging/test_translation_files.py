"""Both translation files read as Odoo reads them (a malformed entry stops the addon's install), with the same terms."""
import os

from odoo.tools.translate import PoFile

I18N = os.path.join(os.path.dirname(__file__), '..', '..', 'postcenter_email', 'i18n')


def entries(name):
    with open(os.path.join(I18N, name), 'rb') as handle:
        return [(source, value) for _type, _name, _res_id, source, value, _comments in PoFile(handle)]


def test_the_template_and_the_spanish_have_the_same_terms():
    template, spanish = entries('postcenter_email.pot'), entries('es.po')
    assert {source for source, _value in template} == {source for source, _value in spanish}
    assert all(value == '' for _source, value in template)
