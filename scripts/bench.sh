#!/usr/bin/env bash
# `make bench`: IMAP ingestion speed of postcenter_email against Odoo's stock fetchmail (the plain mix, the
# helpdesk mix with a real outgoing SMTP server, the helpdesk mix behind a 30 ms round-trip proxy), then the
# inbound SMTP server's throughput (2000 messages over 4 connections, DATA to ticket committed), then
# the due-only SLA and auto-close scheduled actions against a full scan (100000 tickets, 1000 due), then the
# Email Service report over stored metrics against the same figures from the chatter (100000 tickets), then 100 IMAP
# accounts of 5 new emails each behind a 50 ms round-trip proxy: the sequential scheduled action against queue_job's
# jobs with a channel capacity of 4 (bench/bench_accounts.py), then the peak memory of the fetching process (first
# fetches of 1000 and 10000 messages, a 20 MB attachment).
# Builds its own databases and Dovecot, prints the figures, writes test-artifacts/bench/*.json.
# Options go to bench/bench_imap.py: --messages N (2000), --large N (10000; 0 skips),
# --stock-large, --batch-size N, --keep, --desk-messages N (2000), --slow-messages N (500), --rtt-ms MS (30).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/setup.sh"
cd "$ROOT"
export ODOO_PRELOAD_ADDONS=no
"$ROOT/.venv/bin/python" "$ROOT/bench/bench_imap.py" "$@"
"$ROOT/.venv/bin/python" "$ROOT/bench/bench_smtp.py"
"$ROOT/.venv/bin/python" "$ROOT/bench/bench_deadlines.py"
"$ROOT/.venv/bin/python" "$ROOT/bench/bench_report.py"
"$ROOT/.venv/bin/python" "$ROOT/bench/bench_accounts.py"
"$ROOT/.venv/bin/python" "$ROOT/bench/bench_memory.py"
