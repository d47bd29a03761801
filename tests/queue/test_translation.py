"""Every term of postcenter_email_queue has its Spanish translation, and Spanish users get it."""
import os

from odoo.tools.translate import PoFile, trans_generate

from .conftest import ROOT


def test_every_term_has_a_spanish_entry(databases):
    with open(os.path.join(ROOT, 'postcenter_email_queue', 'i18n', 'es.po'), 'rb') as handle:
        spanish = {source: value for _type, _name, _res_id, source, value, _comments in PoFile(handle)}
    with databases['jobs']() as env:
        terms = {row[4] for row in trans_generate(False, ['postcenter_email_queue'], env.cr) if row[4].strip()}
    missing = sorted(term for term in terms if not spanish.get(term))
    assert terms and not missing, 'Terms without Spanish translation in postcenter_email_queue/i18n/es.po:\n%s' % \
        '\n'.join(missing)


def test_spanish_users_see_spanish(databases):
    with databases['jobs']() as env:
        gone = env['postcenter.email.account'].with_context(lang='es_ES').browse(987654)
        assert gone._job_fetch() == \
            'Nada que hacer: la cuenta fue eliminada o archivada, o ya no lee el correo por IMAP.'
