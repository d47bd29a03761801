#!/usr/bin/env bash
# Creates (or upgrades) the database and serves Odoo on http://localhost:8069.
#   POSTCENTER_DB    database name (default: postcenter)
#   POSTCENTER_PORT  HTTP port (default: 8069)
#   POSTCENTER_DEMO  1 (default): also start the demo mailbox and its connected account; 0: no demo
#   POSTCENTER_SMTP_PORT  port of the inbound SMTP server for forwarding accounts (default 2525)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${POSTCENTER_DB:-postcenter}
PORT=${POSTCENTER_PORT:-8069}
DEMO=${POSTCENTER_DEMO:-1}
SMTP_PORT=${POSTCENTER_SMTP_PORT:-2525}
mkdir -p .data
scripts/initdb.sh "$DB" .data/initdb.log || { tail -40 .data/initdb.log; exit 1; }
cleanup() {
  [ -n "${SMTP_PID:-}" ] && kill "$SMTP_PID" 2>/dev/null
  [ "$DEMO" != "0" ] && .venv/bin/python scripts/demo.py stop
  return 0
}
trap cleanup EXIT
if [ "$DEMO" != "0" ]; then
  .venv/bin/python scripts/demo.py start "$DB"
fi
.venv/bin/python scripts/inbound_smtp.py --database "$DB" --host 127.0.0.1 --port "$SMTP_PORT" \
  >>.data/inbound-smtp.log 2>&1 &
SMTP_PID=$!
cat <<MSG

  Odoo with postcenter_email: http://localhost:$PORT
  Log in as admin / admin (database "$DB").
  Email accounts: Helpdesk > Configuration > Email Accounts > Add account.
  Inbound SMTP for forwarding addresses: 127.0.0.1:$SMTP_PORT (log: .data/inbound-smtp.log).
MSG
if [ "$DEMO" != "0" ]; then
  cat <<MSG
  Demo: the account "Demo Soporte" reads a local mailbox; its sample mail is on the board
  (Helpdesk > Tickets). Send more: .venv/bin/python scripts/demo.py send --subject "Hola" --body "..."
MSG
fi
echo "  Stop with Ctrl+C."
echo
scripts/odoo.sh -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --log-level=info
