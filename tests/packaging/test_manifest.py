"""The manifest names every Python package the addon imports (pip installs them from the wheel's requirements)."""
import ast
import importlib.util
import os
import sys

ADDON = os.path.join(os.path.dirname(__file__), '..', '..', 'postcenter_email')
# Odoo 11's own requirements: whoever runs Odoo has them already
ODOO_PROVIDES = {'odoo', 'psycopg2', 'pytz', 'lxml', 'dateutil', 'babel', 'werkzeug', 'jinja2',
                 'PIL', 'passlib', 'html2text', 'docutils', 'decorator', 'mock', 'psutil', 'reportlab', 'yaml'}
# used by the addon's tests only (the test run installs them)
TEST_ONLY = {'freezegun', 'xlrd'}  # xlrd reads back the spreadsheet of the pivot's export


def manifest():
    with open(os.path.join(ADDON, '__manifest__.py')) as handle:
        return ast.literal_eval(handle.read())


def imported_top_modules():
    found = set()
    for folder, _dirs, files in os.walk(ADDON):
        for name in files:
            if name.endswith('.py'):
                with open(os.path.join(folder, name), encoding='utf-8') as handle:
                    tree = ast.parse(handle.read())
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        found.update(alias.name.split('.')[0] for alias in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        found.add(node.module.split('.')[0])
    return found


def standard_library(name):
    """Whether ``name`` comes with Python (not from site-packages)."""
    try:
        spec = importlib.util.find_spec(name)
    except ValueError:  # imported already by someone who left no spec (werkzeug under Odoo)
        module = sys.modules[name]
        return 'site-packages' not in (getattr(module, '__file__', None) or '')
    if spec is None:
        return False
    if spec.origin in ('built-in', 'frozen'):
        return True
    location = spec.origin if spec.origin not in (None, 'namespace') else \
        next(iter(spec.submodule_search_locations or []), '')
    return 'site-packages' not in location


def test_external_dependencies_name_every_package_the_addon_imports():
    imported = imported_top_modules() - ODOO_PROVIDES - TEST_ONLY
    third_party = {name for name in imported if not standard_library(name)}
    assert third_party == set(manifest()['external_dependencies']['python'])


def test_the_manifest_has_what_the_oca_asks():
    found = manifest()
    assert found['version'].startswith('11.0.') and len(found['version'].split('.')) == 5
    for key in ('maintainers', 'development_status', 'website', 'license', 'author'):
        assert found.get(key), key
