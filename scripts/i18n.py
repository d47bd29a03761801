"""Refresh the addon's translation files from a database where it is installed.

    .venv/bin/python scripts/i18n.py DBNAME

Exports every translatable term of postcenter_email to i18n/postcenter_email.pot and
rewrites i18n/es.po with the same entries, keeping the Spanish already written.
New terms get an empty msgstr: fill them in (the translation test lists the ones missing).
"""
import os
import subprocess
import sys
import tempfile

from odoo.tools.translate import quote, unquote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
I18N = os.path.join(ROOT, 'postcenter_email', 'i18n')

HEADER = '''# Translation of Odoo Server.
# This file contains the translation of the following modules:
#\t* postcenter_email
#
msgid ""
msgstr ""
"Project-Id-Version: Odoo Server 11.0\\n"
"Report-Msgid-Bugs-To: \\n"
"Last-Translator: \\n"
"Language-Team: \\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: \\n"
"Plural-Forms: \\n"
"Language: %s\\n"

'''


def parse(path):
    """[(comment lines, msgid, msgstr)] of a .po file, header left out."""
    entries, comments, key, parts = [], [], None, {'msgid': '', 'msgstr': ''}
    with open(path, encoding='utf-8') as handle:
        lines = handle.read().splitlines() + ['']
    for line in lines:
        if not line.strip():
            if key and parts['msgid']:
                entries.append((comments, parts['msgid'], parts['msgstr']))
            comments, key, parts = [], None, {'msgid': '', 'msgstr': ''}
        elif line.startswith('#'):
            comments.append(line)
        elif line.startswith('msgid '):
            key, parts['msgid'] = 'msgid', unquote(line[6:])
        elif line.startswith('msgstr '):
            key, parts['msgstr'] = 'msgstr', unquote(line[7:])
        elif line.startswith('"') and key:
            parts[key] += unquote(line)
    return entries


def write(path, entries, language):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(HEADER % language)
        for comments, msgid, msgstr in entries:
            handle.write('\n'.join(comments) + '\n')
            handle.write('msgid %s\nmsgstr %s\n\n' % (quote(msgid), quote(msgstr)))


def main(database):
    exported = os.path.join(tempfile.mkdtemp(), 'postcenter_email.po')
    subprocess.run([os.path.join(ROOT, 'scripts', 'odoo.sh'), '-d', database, '--i18n-export=' + exported,
                    '--modules=postcenter_email', '--stop-after-init', '--log-level=warn'], check=True)
    template = parse(exported)
    write(os.path.join(I18N, 'postcenter_email.pot'), template, '')
    es_path = os.path.join(I18N, 'es.po')
    known = {msgid: msgstr for _c, msgid, msgstr in parse(es_path)} if os.path.exists(es_path) else {}
    write(es_path, [(c, msgid, known.get(msgid, '')) for c, msgid, _s in template], 'es')
    missing = [msgid for _c, msgid, _s in template if not known.get(msgid)]
    print('%d terms, %d without Spanish' % (len(template), len(missing)))
    for msgid in missing:
        print('  missing: %r' % msgid)


if __name__ == '__main__':
    main(sys.argv[1])
