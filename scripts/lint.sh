#!/usr/bin/env bash
# `make lint`: flake8 (everything), isort (everything), pylint with pylint-odoo (the addon), configured as
# OCA's 11.0 repositories are (.flake8, .isort.cfg, .pylintrc). Exits non-zero on any finding.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
echo "[lint] flake8";  .venv-lint/bin/flake8 postcenter_email postcenter_email_queue scripts tests bench conftest.py || status=1
echo "[lint] isort";   .venv-lint/bin/isort --check-only --diff --quiet postcenter_email postcenter_email_queue scripts tests bench conftest.py || status=1
echo "[lint] pylint-odoo"; .venv-lint/bin/pylint --rcfile=.pylintrc postcenter_email postcenter_email_queue || status=1
[ $status -eq 0 ] && echo "[lint] clean"
exit $status
