#!/usr/bin/env bash
# Creates (or upgrades) the database and serves Odoo on http://localhost:8069.
#   POSTCENTER_DB    database name (default: postcenter)
#   POSTCENTER_PORT  HTTP port (default: 8069)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${POSTCENTER_DB:-postcenter}
PORT=${POSTCENTER_PORT:-8069}
mkdir -p .data
scripts/initdb.sh "$DB" .data/initdb.log || { tail -40 .data/initdb.log; exit 1; }
cat <<MSG

  Odoo with postcenter_email: http://localhost:$PORT
  Log in as admin / admin (database "$DB").
  Email accounts: Helpdesk > Configuration > Email Accounts > Add account.
  Stop with Ctrl+C.

MSG
exec scripts/odoo.sh -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --log-level=info
