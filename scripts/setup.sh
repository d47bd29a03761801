#!/usr/bin/env bash
# Installs what is missing and starts PostgreSQL. Safe to run again: each step checks first.
#   apt packages  - PostgreSQL 15, Dovecot (IMAP tests and demo), Chromium + driver (browser test)
#   lessc 2.7.3   - Odoo 11's web client compiles its LESS with it
#   .venv         - Python 3.7 with Odoo 11.0, helpdesk_mgmt and the pinned libraries
#   .venv-browser - system Python 3 with Selenium (kept apart: it needs a newer urllib3)
#   .venv-py3     - system Python 3 for the plain-Python services (they must not hold a port to a later Odoo back)
#   .venv-lint    - system Python 3 with flake8, isort and pylint-odoo (make lint)
#   .venv-oauth   - system Python 3 with Authlib + Flask: the tests' local OAuth 2.0 authorization server
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[setup] %s\n' "$*"; }
# pip warns about every extra index folder this machine's pip.conf names but lacks: drop that noise.
pip_quiet() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }

APT_PACKAGES="postgresql-15 dovecot-imapd chromium chromium-driver ssl-cert"
missing=""
for pkg in $APT_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  log "installing apt packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $missing >/dev/null
  # Dovecot's own system service is not used: tests and the demo run their own instance.
  (systemctl disable --now dovecot >/dev/null 2>&1 || service dovecot stop >/dev/null 2>&1 || true)
fi

if ! command -v lessc >/dev/null 2>&1 || ! lessc --version | grep -q '2\.7\.3'; then
  log "installing lessc 2.7.3 (npm)"
  npm install -g --silent less@2.7.3 >/dev/null
fi

py37=$(ls -d "$(pyenv root 2>/dev/null || echo /root/.pyenv)"/versions/3.7.*/bin/python3.7 2>/dev/null | tail -n 1 || true)
[ -z "$py37" ] && py37=$(command -v python3.7 || true)
if [ -z "$py37" ]; then
  echo "[setup] Python 3.7 is required (Odoo 11 does not run on newer Pythons)." >&2
  echo "[setup] Install it with pyenv ('pyenv install 3.7') or your package manager, then retry." >&2
  exit 1
fi

stamp_of() { cat "$@" | sha1sum | cut -c1-12; }
want=$(stamp_of requirements.txt requirements-odoo.txt)
if [ "$(cat .venv/.stamp 2>/dev/null)" != "$want" ]; then
  # A requirement added or changed: a working 3.7 venv is brought up to date in place; only a missing or broken
  # one is built again.
  if [ -f .venv/.stamp ] && .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 7))' 2>/dev/null
  then
    log "updating .venv to the requirements"
  else
    log "building .venv with $py37"
    rm -rf .venv
    "$py37" -m venv .venv
    pip_quiet .venv/bin/pip install -q --upgrade "pip<24" "setuptools<58" wheel
  fi
  pip_quiet .venv/bin/pip install -q -r requirements.txt
  pip_quiet .venv/bin/pip install -q --no-deps -r requirements-odoo.txt
  .venv/bin/python scripts/prune_addons.py
  echo "$want" > .venv/.stamp
fi

# A venv of the system Python 3 for one requirements file, rebuilt when the file changes.
python3_venv() {
  local folder=$1 requirements=$2 what=$3 want
  want=$(stamp_of "$requirements")
  if [ "$(cat "$folder/.stamp" 2>/dev/null)" != "$want" ]; then
    log "building $folder ($what)"
    rm -rf "$folder"
    python3 -m venv "$folder"
    pip_quiet "$folder/bin/pip" install -q -r "$requirements"
    echo "$want" > "$folder/.stamp"
  fi
}
python3_venv .venv-browser requirements-browser.txt "Selenium for the browser tests"
python3_venv .venv-py3 requirements-services-py3.txt "the services on the system Python 3"
python3_venv .venv-lint requirements-lint.txt "flake8, isort, pylint-odoo"
python3_venv .venv-oauth requirements-oauth.txt "the tests' local OAuth 2.0 authorization server"

scripts/pg.sh start
log "ready"
