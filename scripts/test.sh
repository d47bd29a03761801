#!/usr/bin/env bash
# Every test of the project, against fresh databases:
#   0. lint          make lint: flake8, isort, pylint-odoo, configured as OCA's 11.0 repositories are
#   1. services      plain pytest, no database (postcenter_email/services), on Python 3.7 and on the system Python 3
#   2. install       a fresh database with the addon, then an upgrade; the addon's wheel built and installed into a
#                    fresh venv and a new database (scripts/wheel.sh); their logs are checked
#   3. inbound       the inbound SMTP server of forwarding accounts, as a process, over real SMTP
#   4. faults        real processes killed, run side by side, or losing Dovecot, PostgreSQL (a private cluster)
#   4b. queue        the job queue (queue_job + postcenter_email_queue): two Odoo servers behind a balancer and
#                    queue_job's runner fetch 20 accounts; the same results as the sequential scheduled action
#   5. odoo          pytest-odoo: models, wizards, fetching, options, forwarding, security, translations;
#                    OAuth sign-in against a local authorization server (.venv-oauth), Dovecot's oauth2 passdb
#   6. browser       headless Chromium drives a running Odoo: the "Add account" wizard (also "Sign in with
#                    Microsoft" on the local authorization server's consent page), the board
# Exits non-zero if any part fails. Artifacts (logs, screenshots) go to test-artifacts/.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ART=$ROOT/test-artifacts
DB=${POSTCENTER_TEST_DB:-postcenter_test}
rm -rf "$ART" && mkdir -p "$ART"
status=0
step() { printf '\n===== %s =====\n' "$*"; }
failed_steps=""
run() { "$@" || { status=1; failed_steps="$failed_steps\n  - $*"; }; }

step "lint (flake8, isort, pylint-odoo)"
run scripts/lint.sh

step "services (no database)"
run .venv/bin/pytest -p no:odoo -p no:cacheprovider -q --junitxml="$ART/junit/services.xml" tests/services
step "services on the system Python 3 ($(.venv-py3/bin/python --version))"
run .venv-py3/bin/pytest -p no:cacheprovider -q --junitxml="$ART/junit/services-py3.xml" tests/services

step "install and upgrade in a fresh database ($DB)"
dropdb --if-exists "$DB" && dropdb --if-exists "${DB}_e2e"
scripts/initdb.sh "$DB" "$ART/install.log" || { echo "install failed:"; tail -50 "$ART/install.log"; exit 1; }
scripts/initdb.sh "$DB" "$ART/upgrade.log" || { echo "upgrade failed:"; tail -50 "$ART/upgrade.log"; exit 1; }
createdb -T "$DB" "${DB}_e2e"
rm -rf ".data/filestore/${DB}_e2e" && cp -r ".data/filestore/$DB" ".data/filestore/${DB}_e2e"
step "the addon's wheel: built, installed into a fresh venv, installed from there into a new database"
run scripts/wheel.sh check "${DB}_wheel"
run .venv/bin/pytest -p no:odoo -p no:cacheprovider -q --junitxml="$ART/junit/packaging.xml" tests/packaging

step "inbound SMTP server (its own process, real SMTP traffic)"
run .venv/bin/pytest -p no:odoo -p no:cacheprovider -q --junitxml="$ART/junit/inbound.xml" tests/inbound

step "faults (real Odoo processes killed, side by side, losing their IMAP server or database)"
run .venv/bin/pytest -p no:odoo -p no:cacheprovider -q --junitxml="$ART/junit/faults.xml" tests/faults

step "job queue (queue_job's runner, two Odoo servers on one database, real Dovecot and SMTP)"
run .venv/bin/pytest -p no:odoo -p no:cacheprovider -q --junitxml="$ART/junit/queue.xml" tests/queue

step "odoo tests (pytest-odoo, real Dovecot)"
cat > "$ART/odoo-test.conf" <<CONF
[options]
addons_path = $ROOT
data_dir = $ROOT/.data
db_name = $DB
db_host =
log_level = warn
CONF
run .venv/bin/pytest -p no:cacheprovider -q --junitxml="$ART/junit/odoo.xml" --odoo-config="$ART/odoo-test.conf" postcenter_email/tests

step "browser (headless Chromium, real Odoo server, real Dovecot)"
POSTCENTER_E2E_DB="${DB}_e2e" run .venv-browser/bin/pytest -p no:cacheprovider -q --junitxml="$ART/junit/browser.xml" tests/e2e

echo
if [ $status -eq 0 ]; then echo "all test suites passed"; else printf 'SOME TESTS FAILED, in:%b\n' "$failed_steps"; fi
python3 scripts/summarize_junit.py "$ART/junit" services services-py3 packaging inbound faults queue odoo browser
exit $status
