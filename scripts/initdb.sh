#!/usr/bin/env bash
# Creates database $1 with helpdesk_mgmt + postcenter_email (and Spanish), or upgrades it if it exists.
# Usage: scripts/initdb.sh DBNAME [LOGFILE] [MODULES]
#   MODULES  more addons to install with it, comma-separated: "queue_job" gives the job queue (postcenter_email_queue,
#            the bridge, installs itself with it)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
db=$1
logfile=${2:-/dev/stdout}
modules=${3:-}
if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
  echo "[initdb] upgrading postcenter_email in $db${modules:+ (and installing $modules if missing)}"
  "$ROOT/scripts/odoo.sh" -d "$db" -u postcenter_email ${modules:+-i "$modules"} --stop-after-init --log-level=info \
    >"$logfile" 2>&1
else
  echo "[initdb] creating $db (helpdesk_mgmt, postcenter_email${modules:+, $modules}, Spanish)"
  "$ROOT/scripts/odoo.sh" -d "$db" -i "postcenter_email${modules:+,$modules}" --without-demo=all \
    --load-language=en_US,es_ES --stop-after-init --log-level=info >"$logfile" 2>&1
fi
