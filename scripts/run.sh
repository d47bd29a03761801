#!/usr/bin/env bash
# Creates (or upgrades) the database and serves Odoo on http://localhost:8069.
#   POSTCENTER_DB    database name (default: postcenter)
#   POSTCENTER_PORT  HTTP port (default: 8069)
#   POSTCENTER_DEMO  1 (default): also start the demo mailbox and its connected account; 0: no demo
#   POSTCENTER_SMTP_PORT  port of the inbound SMTP server for forwarding accounts (default 2525)
#   POSTCENTER_QUEUE  1 (default): the job queue (OCA queue_job installed, its runner started inside Odoo, accounts
#                     fetched as parallel jobs); 0: a new database without it (the plain sequential scheduled action)
#   ODOO_QUEUE_JOB_CHANNELS  the job channels' capacities (default below: 4 accounts fetched at once)
set -euo pipefail
cd "$(dirname "$0")/.."
DB=${POSTCENTER_DB:-postcenter}
PORT=${POSTCENTER_PORT:-8069}
DEMO=${POSTCENTER_DEMO:-1}
SMTP_PORT=${POSTCENTER_SMTP_PORT:-2525}
QUEUE=${POSTCENTER_QUEUE:-1}
export ODOO_QUEUE_JOB_CHANNELS=${ODOO_QUEUE_JOB_CHANNELS:-root:6,root.postcenter_email:4,root.postcenter_email_send:2}
mkdir -p .data
scripts/initdb.sh "$DB" .data/initdb.log "$([ "$QUEUE" = "0" ] || echo queue_job)" || { tail -40 .data/initdb.log; exit 1; }
# a database with queue_job needs its runner, or no job would ever run: queue_job is loaded server-wide then
LOAD=web
if [ "$(psql -d "$DB" -tAc "SELECT state FROM ir_module_module WHERE name = 'queue_job'")" = "installed" ]; then
  LOAD=web,queue_job
fi
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
if [ "$LOAD" = "web,queue_job" ]; then
  echo "  Job queue: accounts fetched as jobs ($ODOO_QUEUE_JOB_CHANNELS); see them in Job Queue > Jobs."
else
  echo "  No job queue: the scheduled action fetches the accounts one after the other."
fi
if [ "$DEMO" != "0" ]; then
  cat <<MSG
  Demo: the account "Demo Soporte" reads a local mailbox; its sample mail is on the board
  (Helpdesk > Tickets). Send more: .venv/bin/python scripts/demo.py send --subject "Hola" --body "..."
MSG
fi
echo "  Stop with Ctrl+C."
echo
scripts/odoo.sh -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --load="$LOAD" --log-level=info
