#!/usr/bin/env bash
# Creates database $1 with helpdesk_mgmt + postcenter_email (and Spanish), or upgrades it if it exists.
# Usage: scripts/initdb.sh DBNAME [LOGFILE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
db=$1
logfile=${2:-/dev/stdout}
if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
  echo "[initdb] upgrading postcenter_email in $db"
  "$ROOT/scripts/odoo.sh" -d "$db" -u postcenter_email --stop-after-init --log-level=info >"$logfile" 2>&1
else
  echo "[initdb] creating $db (helpdesk_mgmt, postcenter_email, Spanish)"
  "$ROOT/scripts/odoo.sh" -d "$db" -i postcenter_email --without-demo=all --load-language=en_US,es_ES \
    --stop-after-init --log-level=info >"$logfile" 2>&1
fi
