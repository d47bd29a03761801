#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster and gives the current OS user a superuser role,
# so Odoo connects over the local socket without a password.
set -euo pipefail
case "${1:-start}" in
  start)
    if ! pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main"' | grep -q online; then
      pg_ctlcluster --skip-systemctl-redirect 15 main start
    fi
    user=$(id -un)
    if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$user'\"" | grep -q 1; then
      su postgres -c "createuser --superuser '$user'"
    fi
    ;;
  stop)
    pg_ctlcluster --skip-systemctl-redirect 15 main stop || true
    ;;
esac
