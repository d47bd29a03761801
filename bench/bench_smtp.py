"""Inbound SMTP benchmark: forwarded mail over SMTP, from DATA to ticket committed.

The inbound server (scripts/inbound_smtp.py) runs as its own process against a fresh database
with one forwarding account; N messages (bench/mailgen.py, the IMAP benchmark's corpus) are sent
to its forwarding address over C parallel SMTP connections. Each message counts when the server
answered 250, which it does only after the ticket is committed. Printed: messages per second.

    .venv/bin/python bench/bench_smtp.py [--messages 2000] [--connections 4]
"""
import argparse
import json
import os
import smtplib
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))
os.environ['ODOO_PRELOAD_ADDONS'] = 'no'

import bench_imap  # noqa: E402
import mailgen  # noqa: E402

from tests.support.ports import free_port, wait_for_port  # noqa: E402

DB = 'postcenter_bench_smtp'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--messages', type=int, default=2000)
    parser.add_argument('--connections', type=int, default=4)
    parser.add_argument('--keep', action='store_true')
    args = parser.parse_args()
    os.makedirs(bench_imap.ARTIFACTS, exist_ok=True)
    bench_imap.build_template()
    bench_imap.clone_database(DB)
    odoo = bench_imap.configure_odoo()
    registry = odoo.registry(DB)
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        account = env['postcenter.email.account'].create({
            'name': 'Bench forwarding', 'email': 'ventas@bench.example', 'connection_type': 'forward'})
        address, account_id = account.forward_address, account.id
        warm_address = env['postcenter.email.account'].create({
            'name': 'Warm-up', 'email': 'warm@bench.example', 'connection_type': 'forward'}).forward_address
    odoo.sql_db.close_all()
    messages = mailgen.generate(args.messages, bench_imap.SEED)
    port = free_port()
    log = open(os.path.join(bench_imap.ARTIFACTS, 'inbound-smtp.log'), 'w')
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, 'scripts', 'inbound_smtp.py'), '--database', DB,
                               '--port', str(port)], stdout=log, stderr=subprocess.STDOUT)
    failures = []
    try:
        wait_for_port(port, timeout=60)
        with smtplib.SMTP('127.0.0.1', port) as warm:  # the server loads its registry on the first RCPT
            warm.sendmail('warm@warmup.example', [warm_address], b'Subject: warm-up\r\nMessage-ID: <warm@x>\r\n\r\nx')
        shares = [messages[index::args.connections] for index in range(args.connections)]

        def sender(share):
            with smtplib.SMTP('127.0.0.1', port, timeout=120) as client:
                for raw in share:
                    try:
                        client.sendmail('ventas@bench.example', [address], raw)
                    except smtplib.SMTPException as error:
                        failures.append(str(error))
        threads = [threading.Thread(target=sender, args=(share,)) for share in shares]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        counts = bench_imap.count_tickets(cr, 'email_account_id = %d' % account_id)
    odoo.sql_db.close_all()
    if not args.keep:
        bench_imap.drop_database(DB)
        bench_imap.drop_database(bench_imap.TEMPLATE)
        bench_imap.drop_database(bench_imap.STOCK_TEMPLATE)
    rate = args.messages / seconds
    line = ('Inbound SMTP, %d messages over %d connections (DATA to ticket committed): %.1f s, %.1f msg/s, '
            'tickets %d, emails %d, refused %d' % (args.messages, args.connections, seconds, rate,
                                                   counts['tickets'], counts['emails'], len(failures)))
    with open(os.path.join(bench_imap.ARTIFACTS, 'smtp.json'), 'w') as handle:
        json.dump({'messages': args.messages, 'connections': args.connections, 'seconds': seconds, 'rate': rate,
                   'counts': counts, 'failures': failures[:20], 'line': line}, handle, indent=2)
    print()
    print(line)


if __name__ == '__main__':
    main()
