"""Both translation files of each addon read as Odoo reads them (a malformed entry stops the addon's install), with the
same terms."""
import os

import pytest

from odoo.tools.translate import PoFile

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')


def entries(addon, name):
    with open(os.path.join(ROOT, addon, 'i18n', name), 'rb') as handle:
        return [(source, value) for _type, _name, _res_id, source, value, _comments in PoFile(handle)]


@pytest.mark.parametrize('addon', ['postcenter_email', 'postcenter_email_queue'])
def test_the_template_and_the_spanish_have_the_same_terms(addon):
    template, spanish = entries(addon, addon + '.pot'), entries(addon, 'es.po')
    assert {source for source, _value in template} == {source for source, _value in spanish}
    assert all(value == '' for _source, value in template)
