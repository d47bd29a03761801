"""Many mailboxes at once: the sequential scheduled action against queue_job's jobs, in one run.

What is measured: the wall-clock time (``time.perf_counter``) from the start of the scheduled fetch until every one
of the 500 emails of 100 IMAP accounts (5 new emails each, every one a new conversation: 500 tickets) is a
committed ticket, with Dovecot behind a TCP proxy on loopback that adds 50 ms of round trip (``--rtt-ms``;
``bench/latency_proxy.py``), as mailboxes at a provider are.

- sequential: the scheduled action without queue_job (``_cron_fetch`` of database ``PREFIX_accounts_seq``, in this
  process): it fetches the accounts one after the other, and returns when the last is done.
- jobs: the same scheduled action with queue_job installed (``PREFIX_accounts_jobs``) enqueues one job per account;
  one Odoo server, prefork with 6 HTTP workers and queue_job's runner inside (``--load=web,queue_job``), runs them with
  the ``root.postcenter_email`` channel's capacity of 4 (``--capacity``); the time ends when the database holds the
  500 tickets and every fetch job is done (polled every 50 ms).

Both databases are copies of one (helpdesk_mgmt + postcenter_email), both read the same mailboxes through the same
proxy (the mailbox is left as it is), with the same outgoing SMTP server (an aiosmtpd sink); each path first fetches
eight warm-up accounts of its own (untimed: the server's workers load the registry then). Both must end with the
same tickets: the bench prints whether they agree.

    .venv/bin/python bench/bench_accounts.py [--accounts 100] [--messages 5] [--rtt-ms 50] [--capacity 4] [--keep]

Called by ``make bench`` (``scripts/bench.sh``). Results: printed, and written to
``test-artifacts/bench/accounts.json``.
"""
import argparse
import datetime
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import time

import bench_imap
import mailgen
from bench_imap import ARTIFACTS, PASSWORD, PREFIX, ROOT, SEED, clone_database, drop_database, fill_mailbox, log
from latency_proxy import LatencyProxy

from tests.support.dovecot import Dovecot
from tests.support.odoo_server import OdooServer
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

TEMPLATE = PREFIX + '_accounts'
DB_SEQ, DB_JOBS = PREFIX + '_accounts_seq', PREFIX + '_accounts_jobs'
WARM_ACCOUNTS = 8
WORKERS = 6


def new_conversations(count, seed):
    """``count`` emails of the bench's generator, each opening a conversation of its own (no reply headers)."""
    found = []
    for raw in mailgen.generate(count, seed):
        message = email.message_from_bytes(raw, policy=email.policy.SMTP)
        for header in ('In-Reply-To', 'References'):
            del message[header]
        subject = message['Subject']
        while subject.startswith('Re: '):
            subject = subject[4:]
        del message['Subject']
        message['Subject'] = subject
        found.append(message.as_bytes())
    return found


def build_databases():
    drop_database(TEMPLATE)
    subprocess.run([os.path.join(ROOT, 'scripts', 'initdb.sh'), TEMPLATE,
                    os.path.join(ARTIFACTS, 'accounts-initdb.log')], check=True)
    clone_database(DB_SEQ, TEMPLATE)
    clone_database(DB_JOBS, TEMPLATE)
    subprocess.run([os.path.join(ROOT, 'scripts', 'initdb.sh'), DB_JOBS,
                    os.path.join(ARTIFACTS, 'accounts-queue_job.log'), 'queue_job'], check=True)


def set_up(odoo, db, port, sink, logins, warm):
    """The outgoing server and one IMAP account per login (through the proxy); returns ``(ids, warm ids)``."""
    with odoo.api.Environment.manage(), odoo.registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env['ir.mail_server'].search([]).write({'active': False})
        env['ir.mail_server'].create({'name': 'Bench sink', 'smtp_host': '127.0.0.1', 'smtp_port': sink.port,
                                      'smtp_encryption': 'none', 'sequence': 1})
        ids = []
        for login in warm + logins:
            ids.append(env['postcenter.email.account'].create({
                'name': login.split('@')[0], 'email': login, 'connection_type': 'imap', 'imap_host': '127.0.0.1',
                'imap_port': port, 'imap_ssl': False, 'imap_user': login, 'imap_password': PASSWORD,
                'state': 'connected'}).id)
        # the timed accounts wait while the warm-up ones are fetched
        env['postcenter.email.account'].browse(ids[len(warm):]).write({'active': False})
    return ids[len(warm):], ids[:len(warm)]


def switch(odoo, db, off, on):
    with odoo.api.Environment.manage(), odoo.registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Account = env['postcenter.email.account'].with_context(active_test=False)
        Account.browse(off).write({'active': False})
        Account.browse(on).write({'active': True})


def cron(odoo, db):
    """One run of the fetch scheduled action, committed."""
    with odoo.api.Environment.manage(), odoo.registry(db).cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env['postcenter.email.account']._cron_fetch()


def tickets(db, account_ids):
    out = subprocess.run(['psql', '-d', db, '-tAc', 'SELECT count(*) FROM helpdesk_ticket WHERE email_account_id IN '
                          '(%s)' % ','.join(map(str, account_ids))], check=True, stdout=subprocess.PIPE)
    return int(out.stdout.strip())


def wait_jobs(db, account_ids, expected, timeout=900):
    """Until the accounts have ``expected`` tickets and no fetch job is left to run (one connection, polled)."""
    import psycopg2
    connection = psycopg2.connect(dbname=db)
    connection.autocommit = True
    deadline = time.perf_counter() + timeout
    try:
        with connection.cursor() as cr:
            while True:
                cr.execute("""SELECT (SELECT count(*) FROM helpdesk_ticket WHERE email_account_id = ANY(%s)),
                                     (SELECT count(*) FROM queue_job WHERE method_name = '_job_fetch'
                                         AND state NOT IN ('done', 'failed'))""", (list(account_ids),))
                made, left = cr.fetchone()
                if made >= expected and not left:
                    return
                if time.perf_counter() > deadline:
                    raise RuntimeError('the jobs did not make the %d tickets in %d s' % (expected, timeout))
                time.sleep(0.05)
    finally:
        connection.close()


def signature(db, account_ids):
    """Per account (in creation order), the sorted titles of its tickets and the Message-IDs of their emails."""
    out = subprocess.run(['psql', '-d', db, '-tAc', """
        SELECT t.email_account_id, t.name, m.message_id FROM helpdesk_ticket t
          JOIN mail_message m ON m.model = 'helpdesk.ticket' AND m.res_id = t.id AND m.message_type = 'email'
         WHERE t.email_account_id IN (%s)""" % ','.join(map(str, account_ids))],
                         check=True, stdout=subprocess.PIPE).stdout.decode()
    rows = [line.split('|', 2) for line in out.splitlines() if line.strip()]
    order = {str(account_id): index for index, account_id in enumerate(account_ids)}
    return sorted((order[account], title, message_id) for account, title, message_id in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--accounts', type=int, default=100)
    parser.add_argument('--messages', type=int, default=5, help='new emails per account (5)')
    parser.add_argument('--rtt-ms', type=float, default=50.0, help='round trip the proxy adds (50 ms)')
    parser.add_argument('--capacity', type=int, default=4, help="the root.postcenter_email channel's capacity (4)")
    parser.add_argument('--keep', action='store_true', help='keep the databases afterwards')
    args = parser.parse_args()
    os.makedirs(ARTIFACTS, exist_ok=True)
    whole = time.perf_counter()
    logins = ['cuenta-%03d@bench.example' % number for number in range(args.accounts)]
    warm = ['calentar-%d@bench.example' % number for number in range(WARM_ACCOUNTS)]
    total = args.accounts * args.messages
    log('accounts: building the databases (postcenter_email; a copy with queue_job)')
    build_databases()
    dovecot = Dovecot(users={login: PASSWORD for login in logins + warm}).start()
    proxy = LatencyProxy('127.0.0.1', dovecot.imap_port, args.rtt_ms / 2000.0).start()
    sink_folder = os.path.join(ARTIFACTS, 'accounts-sink')
    shutil.rmtree(sink_folder, ignore_errors=True)
    sink = SmtpSink(sink_folder).start()
    server = None
    channels = 'root:%d,root.postcenter_email:%d,root.postcenter_email_send:2' % (args.capacity + 2, args.capacity)
    results = {}
    try:
        corpus = new_conversations(total + 2 * WARM_ACCOUNTS, SEED + 7)
        for index, login in enumerate(logins):
            fill_mailbox(dovecot, login, corpus[index * args.messages:(index + 1) * args.messages])
        for index, login in enumerate(warm):
            fill_mailbox(dovecot, login, corpus[total + 2 * index:total + 2 * index + 2])
        log('accounts: %d mailboxes of %d new emails each, Dovecot behind a %.0f ms round-trip proxy' % (
            args.accounts, args.messages, args.rtt_ms))
        odoo = bench_imap.configure_odoo()
        ids = {}
        for db in (DB_SEQ, DB_JOBS):
            ids[db] = set_up(odoo, db, proxy.port, sink, logins, warm)

        # sequential: the scheduled action fetches the warm-up accounts, then the 100, one after the other
        cron(odoo, DB_SEQ)
        switch(odoo, DB_SEQ, ids[DB_SEQ][1], ids[DB_SEQ][0])
        log('accounts: the sequential scheduled action...')
        started = time.perf_counter()
        cron(odoo, DB_SEQ)
        results['sequential'] = {'seconds': time.perf_counter() - started,
                                 'tickets': tickets(DB_SEQ, ids[DB_SEQ][0])}
        log('  %.1f s' % results['sequential']['seconds'])

        # jobs: one prefork server with the runner inside, as in production
        port = free_port()
        server = OdooServer(DB_JOBS, os.path.join(ARTIFACTS, 'accounts-odoo.log')).start(
            'http', port, '--workers', WORKERS, '--runner', channels)
        server.wait_ready()
        cron(odoo, DB_JOBS)
        wait_jobs(DB_JOBS, ids[DB_JOBS][1], 2 * WARM_ACCOUNTS)
        switch(odoo, DB_JOBS, ids[DB_JOBS][1], ids[DB_JOBS][0])
        log('accounts: queue_job, channel capacity %d...' % args.capacity)
        started = time.perf_counter()
        cron(odoo, DB_JOBS)
        enqueued = time.perf_counter() - started
        wait_jobs(DB_JOBS, ids[DB_JOBS][0], total)
        results['jobs'] = {'seconds': time.perf_counter() - started, 'tickets': tickets(DB_JOBS, ids[DB_JOBS][0]),
                           'enqueued_seconds': enqueued}
        log('  %.1f s' % results['jobs']['seconds'])
        same = signature(DB_SEQ, ids[DB_SEQ][0]) == signature(DB_JOBS, ids[DB_JOBS][0])
        odoo.sql_db.close_all()
    finally:
        if server:
            server.stop()
        proxy.stop()
        sink.stop()
        dovecot.destroy()
        if not args.keep:
            for db in (DB_SEQ, DB_JOBS, TEMPLATE):
                drop_database(db)

    seq, jobs = results['sequential'], results['jobs']
    ratio = seq['seconds'] / jobs['seconds'] if jobs['seconds'] else 0.0
    lines = ['Many accounts: %d IMAP accounts x %d new emails behind a %.0f ms round-trip proxy, time until all %d are '
             'tickets' % (args.accounts, args.messages, args.rtt_ms, total),
             '  sequential scheduled action   %7.1f s   tickets %d' % (seq['seconds'], seq['tickets']),
             '  queue_job, capacity %-2d        %7.1f s   tickets %d' % (args.capacity, jobs['seconds'],
                                                                         jobs['tickets']),
             '  ratio (sequential / queue_job): %.2fx (the scheduled action enqueued the %d jobs in %.1f s)' % (
                 ratio, args.accounts, jobs['enqueued_seconds']),
             '  same results: %s (tickets and chatter emails per account)' % ('yes' if same else 'NO'),
             '(whole run, databases and mailboxes included: %.0f s)' % (time.perf_counter() - whole)]
    report = {'date': datetime.datetime.now().isoformat(timespec='seconds'), 'cpus': os.cpu_count(),
              'accounts': args.accounts, 'messages_per_account': args.messages, 'rtt_ms': args.rtt_ms,
              'capacity': args.capacity, 'workers': WORKERS, 'results': results, 'ratio': ratio,
              'same_results': same, 'table': lines}
    with open(os.path.join(ARTIFACTS, 'accounts.json'), 'w') as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    print()
    print('\n'.join(lines))
    print('(figures in %s)' % os.path.relpath(os.path.join(ARTIFACTS, 'accounts.json'), ROOT))
    return 0 if same and seq['tickets'] == jobs['tickets'] == total else 1


if __name__ == '__main__':
    sys.exit(main())
