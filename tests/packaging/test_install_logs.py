"""The addon installs and upgrades without a warning or error of its own.

scripts/test.sh installs the addon into a fresh database and upgrades it, writing
the Odoo logs to test-artifacts/; this reads them.
"""
import os
import re

import pytest

ARTIFACTS = os.path.join(os.path.dirname(__file__), '..', '..', 'test-artifacts')
PROBLEM = re.compile(r'^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ')
# Odoo's own base menu points at a test addon that no package ships; not ours.
FOREIGN = ('module test_exceptions: module not found',)


def log_lines(name):
    path = os.path.join(ARTIFACTS, name)
    if not os.path.exists(path):
        pytest.fail('%s is missing: run the tests with `make test`' % path)
    with open(path, encoding='utf-8', errors='replace') as handle:
        return handle.read().splitlines()


@pytest.mark.parametrize('name', ['install.log', 'upgrade.log', 'wheel-install.log'])
def test_log_has_no_problem(name):
    lines = log_lines(name)
    problems = [line for line in lines if PROBLEM.match(line) and not any(text in line for text in FOREIGN)]
    assert not problems, '\n'.join(problems)
    assert not any('Traceback' in line for line in lines)


def test_the_wheel_install_used_the_wheel():
    """scripts/wheel.sh installed the addon from its wheel into a venv of its own, without the source tree."""
    lines = log_lines('wheel-install.log')
    assert any('.venv-wheel/lib/python3.7/site-packages/odoo/addons' in line and 'addons paths' in line
               for line in lines), 'Odoo found its addons in the wheel venv'
    assert not any('addons paths' in line and "'%s'" % os.path.abspath(os.path.join(ARTIFACTS, '..')) in line
                   for line in lines), 'the source tree is not on the addons path'
    assert any('loading postcenter_email/views/postcenter_email_account_views.xml' in line for line in lines)


def test_install_really_installed_the_addon():
    lines = log_lines('install.log')
    assert any('loading postcenter_email/views/postcenter_email_account_views.xml' in line for line in lines)
    assert any('module postcenter_email: loading translation file (es)' in line for line in lines)
