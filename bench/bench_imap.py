"""IMAP ingestion benchmark: postcenter_email against Odoo's stock fetchmail.

What is measured: the wall-clock time (``time.perf_counter``) that each path takes to turn
a mailbox of N unread emails into helpdesk tickets, from the call that starts the fetch
to its return, with every ticket, chatter message, partner and attachment committed.

- postcenter_email: ``postcenter.email.account._fetch_imap()`` on an account of database
  ``postcenter_bench_ours`` (batches of ``postcenter_email.fetch_batch_size`` messages,
  one transaction per batch).
- stock: ``fetchmail.server.fetch_mail()`` (IMAP, routed by ``mail.thread.message_process``
  to ``helpdesk.ticket.message_new`` of helpdesk_mgmt) on a server of database
  ``postcenter_bench_stock`` (one transaction per message, as the stock cron does).

Why the comparison is fair:
- both databases start from the same modules without demo data: helpdesk_mgmt and fetchmail,
  plus postcenter_email in ours only, so that nothing of postcenter_email (it also trims
  some of Odoo's own per-message work) touches the stock path;
- both mailboxes live on the same Dovecot (loopback, plain IMAP, no TLS) and hold the same
  bytes, appended in the same order without the \\Seen flag (``bench/mailgen.py``:
  deterministic, realistic mail with threads, HTML, attachments, accents);
- both paths run one after the other in this same Python process, with Odoo configured
  the same way and no cron or HTTP threads running; each is timed from a warm registry.
- both keep attachments and thread replies (In-Reply-To/References) into existing tickets;
  the ticket and chatter counts printed afterwards show they did the same job. One
  difference is by design and costs postcenter_email time: it links every email to a
  customer partner, creating one for each new address, where stock leaves unknown senders
  without a partner (the table prints both partner counts);
- each path first ingests a small warm-up mailbox of its own (untimed; other senders, so no customer of
  the timed run exists beforehand), so that neither pays the process's one-time warm-up.

A larger mailbox (``--large``, default 10000) is fetched by postcenter_email alone into a
third database to show how its rate holds as the tables grow (stock too with ``--stock-large``).

Run it with ``make bench`` (``scripts/bench.sh``); options: ``--messages N``, ``--large N``
(0 skips), ``--stock-large``, ``--batch-size N``, ``--keep`` (keep the databases).
Results: printed, and written as JSON to ``test-artifacts/bench/imap.json``.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ['ODOO_PRELOAD_ADDONS'] = 'no'

import imapclient  # noqa: E402
import mailgen  # noqa: E402

from tests.support.dovecot import Dovecot  # noqa: E402

DATA_DIR = os.path.join(ROOT, '.data')
ARTIFACTS = os.path.join(ROOT, 'test-artifacts', 'bench')
TEMPLATE = 'postcenter_bench_template'
STOCK_TEMPLATE = 'postcenter_bench_stock_template'
DB_OURS, DB_STOCK = 'postcenter_bench_ours', 'postcenter_bench_stock'
DB_LARGE, DB_STOCK_LARGE = 'postcenter_bench_large', 'postcenter_bench_stock_large'
PASSWORD = 'bench'
SEED = 20240304


def log(text):
    print('[bench] %s' % text, flush=True)


# ----------------------------------------------------------------------------
# Databases (command-line tools: the template is built by scripts/initdb.sh)
# ----------------------------------------------------------------------------

def filestore(db):
    return os.path.join(DATA_DIR, 'filestore', db)


def drop_database(db):
    subprocess.run(['psql', '-d', 'postgres', '-qtAc',
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'" % db],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(['dropdb', '--if-exists', db], check=True,
                   env=dict(os.environ, PGOPTIONS='-c client_min_messages=warning'))
    shutil.rmtree(filestore(db), ignore_errors=True)


def build_template():
    """helpdesk_mgmt + postcenter_email (scripts/initdb.sh), then fetchmail: the start of our databases;
    helpdesk_mgmt + fetchmail alone: the start of the stock ones."""
    started = time.perf_counter()
    drop_database(TEMPLATE)
    subprocess.run([os.path.join(ROOT, 'scripts', 'initdb.sh'), TEMPLATE, os.path.join(ARTIFACTS, 'initdb.log')],
                   check=True)
    subprocess.run([os.path.join(ROOT, 'scripts', 'odoo.sh'), '-d', TEMPLATE, '-i', 'fetchmail',
                    '--stop-after-init', '--log-level=warn'], check=True)
    drop_database(STOCK_TEMPLATE)
    subprocess.run([os.path.join(ROOT, 'scripts', 'odoo.sh'), '-d', STOCK_TEMPLATE, '-i', 'helpdesk_mgmt,fetchmail',
                    '--without-demo=all', '--load-language=en_US,es_ES', '--stop-after-init', '--log-level=warn'],
                   check=True)
    log('template databases ready in %.0f s' % (time.perf_counter() - started))


def clone_database(db, template=TEMPLATE):
    drop_database(db)
    subprocess.run(['createdb', '-T', template, db], check=True)
    if os.path.isdir(filestore(template)):
        shutil.copytree(filestore(template), filestore(db))


# ----------------------------------------------------------------------------
# Mailboxes
# ----------------------------------------------------------------------------

def fill_mailbox(dovecot, user, messages):
    """APPEND ``messages`` to the INBOX of ``user``, unread; returns the seconds it took."""
    started = time.perf_counter()
    client = imapclient.IMAPClient('127.0.0.1', port=dovecot.imap_port, ssl=False)
    try:
        client.login(user, PASSWORD)
        for raw in messages:
            client.append('INBOX', raw, flags=())
        status = client.folder_status('INBOX', [b'MESSAGES', b'UNSEEN'])
    finally:
        client.logout()
    assert status[b'MESSAGES'] == len(messages) == status[b'UNSEEN'], status
    return time.perf_counter() - started


def unseen_left(dovecot, user):
    client = imapclient.IMAPClient('127.0.0.1', port=dovecot.imap_port, ssl=False)
    try:
        client.login(user, PASSWORD)
        return client.folder_status('INBOX', [b'UNSEEN'])[b'UNSEEN']
    finally:
        client.logout()


# ----------------------------------------------------------------------------
# The two ingestion paths (in this process)
# ----------------------------------------------------------------------------

def configure_odoo():
    import odoo
    odoo.tools.config.parse_config(['--addons-path=%s' % ROOT, '--data-dir=%s' % DATA_DIR, '--db_host=',
                                    '--log-level=warn'])
    return odoo


def warmup_messages(count=30):
    """A few messages unlike the timed ones (other seed, other senders) to warm a path up."""
    import email
    import email.policy
    warm = []
    for index, raw in enumerate(mailgen.generate(count, SEED + 1)):
        message = email.message_from_bytes(raw, policy=email.policy.SMTP)
        del message['From']
        message['From'] = 'Warm Up %d <warm%d@warmup.example>' % (index, index)
        warm.append(message.as_bytes())
    return warm


def ours_account(env, dovecot, user, name):
    return env['postcenter.email.account'].create({
        'name': name, 'email': user, 'connection_type': 'imap', 'imap_host': '127.0.0.1',
        'imap_port': dovecot.imap_port, 'imap_ssl': False, 'imap_user': user, 'imap_password': PASSWORD,
    })


def run_ours(odoo, db, dovecot, user, batch_size, warm_user=None):
    """Fetch ``user``'s INBOX with postcenter_email; returns the timing and what it created."""
    registry = odoo.registry(db)
    with odoo.api.Environment.manage():
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if batch_size:
                env['ir.config_parameter'].set_param('postcenter_email.fetch_batch_size', str(batch_size))
            account_id = ours_account(env, dovecot, user, 'Bench').id
            warm_id = ours_account(env, dovecot, warm_user, 'Warm-up').id if warm_user else None
        if warm_id:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                env['postcenter.email.account'].browse(warm_id)._fetch_imap()
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            account = env['postcenter.email.account'].browse(account_id)
            started = time.perf_counter()
            outcome = account._fetch_imap()
            seconds = time.perf_counter() - started
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            account = env['postcenter.email.account'].browse(account_id)
            counts = count_tickets(cr, 'email_account_id = %d' % account_id)
            failed = env['postcenter.email.failed'].search_count([('account_id', '=', account_id)])
            cr.execute('SELECT status, count(*) FROM postcenter_email_receipt WHERE account_id = %s '
                       'GROUP BY status ORDER BY status', (account_id,))
            statuses = dict(cr.fetchall())
            error = account.last_error
    return dict(counts, seconds=seconds, outcome=outcome, failed=failed, receipts=statuses, error=error or None)


def stock_server(env, dovecot, user, name):
    server = env['fetchmail.server'].create({
        'name': name, 'type': 'imap', 'server': '127.0.0.1', 'port': dovecot.imap_port,
        'is_ssl': False, 'user': user, 'password': PASSWORD,
        'object_id': env['ir.model']._get('helpdesk.ticket').id,
    })
    server.button_confirm_login()
    assert server.state == 'done'
    return server


def run_stock(odoo, db, dovecot, user, warm_user=None):
    """Fetch ``user``'s INBOX with a stock fetchmail server routed to helpdesk.ticket."""
    registry = odoo.registry(db)
    with odoo.api.Environment.manage():
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            server_id = stock_server(env, dovecot, user, 'Bench').id
            warm_id = stock_server(env, dovecot, warm_user, 'Warm-up').id if warm_user else None
        if warm_id:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                env['fetchmail.server'].browse(warm_id).fetch_mail()
        with registry.cursor() as cr:
            cr.execute('SELECT coalesce(max(id), 0) FROM helpdesk_ticket')
            before = cr.fetchone()[0]
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            server = env['fetchmail.server'].browse(server_id)
            started = time.perf_counter()
            server.fetch_mail()
            seconds = time.perf_counter() - started
        with registry.cursor() as cr:
            counts = count_tickets(cr, 'id > %d' % before)
    return dict(counts, seconds=seconds)


def count_tickets(cr, where):
    """Tickets matching ``where`` and the 'email' chatter messages on them."""
    cr.execute('SELECT count(*) FROM helpdesk_ticket WHERE %s' % where)
    tickets = cr.fetchone()[0]
    on_t = where.replace('email_account_id', 't.email_account_id').replace('id >', 't.id >')
    cr.execute("""SELECT count(*), count(DISTINCT m.author_id), count(DISTINCT m.message_id)
                    FROM mail_message m JOIN helpdesk_ticket t ON t.id = m.res_id
                   WHERE m.model = 'helpdesk.ticket' AND m.message_type = 'email' AND %s""" % on_t)
    emails, authors, distinct_ids = cr.fetchone()
    cr.execute("""SELECT count(*) FROM ir_attachment a JOIN helpdesk_ticket t ON t.id = a.res_id
                   WHERE a.res_model = 'helpdesk.ticket' AND %s""" % on_t)
    attachments = cr.fetchone()[0]
    cr.execute('SELECT count(*) FROM mail_mail')
    outgoing = cr.fetchone()[0]
    return {'tickets': tickets, 'emails': emails, 'authors': authors, 'attachments': attachments,
            'distinct_message_ids': distinct_ids, 'outgoing_mail': outgoing}


# ----------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------

def line(label, result):
    return '  %-18s %6d msgs in %7.1f s %7.1f msg/s   tickets %5d  emails %5d' % (
        label, result['messages'], result['seconds'], result['rate'], result['tickets'], result['emails'])


def finish(result, messages):
    result['messages'] = messages
    result['rate'] = messages / result['seconds'] if result['seconds'] else 0.0
    result['missing_emails'] = messages - result['emails']
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--messages', type=int, default=2000, help='mailbox size for the comparison (2000)')
    parser.add_argument('--large', type=int, default=10000,
                        help='mailbox size for the postcenter_email scaling run (10000; 0 skips it)')
    parser.add_argument('--stock-large', action='store_true', help='also run stock fetchmail at the large size')
    parser.add_argument('--batch-size', type=int, default=0,
                        help='postcenter_email.fetch_batch_size (default: the addon\'s own, 50)')
    parser.add_argument('--keep', action='store_true', help='keep the bench databases afterwards')
    args = parser.parse_args()
    large = args.large if args.large > 0 else 0
    os.makedirs(ARTIFACTS, exist_ok=True)
    whole = time.perf_counter()

    log('generating %d messages (seed %d)' % (max(args.messages, large), SEED))
    corpus = mailgen.generate(max(args.messages, large), SEED)
    small = corpus[:args.messages]

    databases = [DB_OURS, DB_STOCK] + ([DB_LARGE] if large else []) + \
        ([DB_STOCK_LARGE] if large and args.stock_large else [])
    users = {'ours@bench.example': PASSWORD, 'stock@bench.example': PASSWORD,
             'warm-ours@bench.example': PASSWORD, 'warm-stock@bench.example': PASSWORD}
    if large:
        users['large@bench.example'] = PASSWORD
        if args.stock_large:
            users['stocklarge@bench.example'] = PASSWORD

    log('building the template databases (initdb + fetchmail; stock: helpdesk_mgmt + fetchmail); log in %s'
        % os.path.join(ARTIFACTS, 'initdb.log'))
    build_template()
    for db in databases:
        clone_database(db, STOCK_TEMPLATE if db in (DB_STOCK, DB_STOCK_LARGE) else TEMPLATE)
    log('databases: %s' % ', '.join(databases))

    dovecot = Dovecot(users=users).start()
    results = {}
    try:
        appended = {}
        warm = warmup_messages()
        for user, messages in [('ours@bench.example', small), ('stock@bench.example', small),
                               ('warm-ours@bench.example', warm), ('warm-stock@bench.example', warm)] + \
                ([('large@bench.example', corpus[:large])] if large else []) + \
                ([('stocklarge@bench.example', corpus[:large])] if large and args.stock_large else []):
            appended[user] = fill_mailbox(dovecot, user, messages)
            log('appended %d messages to %s in %.1f s' % (len(messages), user, appended[user]))

        odoo = configure_odoo()
        batch = args.batch_size or None
        log('postcenter_email: fetching %d messages...' % len(small))
        results['ours'] = finish(run_ours(odoo, DB_OURS, dovecot, 'ours@bench.example', batch,
                                          warm_user='warm-ours@bench.example'), len(small))
        log('  %.1f s' % results['ours']['seconds'])
        log('stock fetchmail: fetching %d messages...' % len(small))
        results['stock'] = finish(run_stock(odoo, DB_STOCK, dovecot, 'stock@bench.example',
                                            warm_user='warm-stock@bench.example'), len(small))
        results['stock']['unseen_left'] = unseen_left(dovecot, 'stock@bench.example')
        log('  %.1f s' % results['stock']['seconds'])
        if large:
            log('postcenter_email: fetching %d messages (scaling)...' % large)
            results['ours_large'] = finish(run_ours(odoo, DB_LARGE, dovecot, 'large@bench.example', batch), large)
            log('  %.1f s' % results['ours_large']['seconds'])
            if args.stock_large:
                log('stock fetchmail: fetching %d messages (scaling)...' % large)
                results['stock_large'] = finish(
                    run_stock(odoo, DB_STOCK_LARGE, dovecot, 'stocklarge@bench.example'), large)
                log('  %.1f s' % results['stock_large']['seconds'])
        odoo.sql_db.close_all()
    finally:
        dovecot.destroy()
        if not args.keep:
            for db in databases + [TEMPLATE, STOCK_TEMPLATE]:
                drop_database(db)

    n = len(small)
    ours, stock = results['ours'], results['stock']
    ratio = ours['rate'] / stock['rate'] if stock['rate'] else None
    lines = ['IMAP ingestion, %d messages (same mailbox content, same machine, one run)' % n,
             line('postcenter_email', ours), line('stock fetchmail', stock),
             '  ratio (postcenter_email / stock): %.2fx' % ratio]
    scaling = None
    if large:
        big = results['ours_large']
        scaling = big['rate'] / ours['rate']
        lines.append('Scaling, postcenter_email: %d msgs %.1f msg/s; %d msgs %.1f msg/s (%.2f of the %d rate)' % (
            n, ours['rate'], large, big['rate'], scaling, n))
        if 'stock_large' in results:
            sbig = results['stock_large']
            lines.append('Scaling, stock fetchmail:  %d msgs %.1f msg/s; %d msgs %.1f msg/s (%.2f of the %d rate)' % (
                n, stock['rate'], large, sbig['rate'], sbig['rate'] / stock['rate'], n))
    lines.append('  customers linked to the emails: postcenter_email %d partners (created when new), '
                 'stock %d (it links known senders only)' % (ours['authors'], stock['authors']))
    for key, label in [('ours', 'postcenter_email'), ('stock', 'stock fetchmail')]:
        result = results[key]
        if result['missing_emails'] or result.get('failed') or result.get('error'):
            lines.append('  WARNING %s: %d of %d emails not in the chatter, %s failed, error: %s' % (
                label, result['missing_emails'], n, result.get('failed', '?'), result.get('error')))
    total = time.perf_counter() - whole
    lines.append('(whole run, databases and mailboxes included: %.0f s)' % total)

    report = {
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(), 'platform': platform.platform()},
        'seed': SEED, 'messages': n, 'large': large,
        'batch_size': args.batch_size or 50,
        'mailbox_bytes': sum(len(raw) for raw in small),
        'append_seconds': appended,
        'results': results,
        'ratio_ours_over_stock': ratio,
        'scaling_ours_large_over_small': scaling,
        'whole_run_seconds': total,
        'table': lines,
    }
    with open(os.path.join(ARTIFACTS, 'imap.json'), 'w') as handle:
        json.dump(report, handle, indent=2, sort_keys=True, default=str)
    print()
    print('\n'.join(lines))
    print('(figures in %s)' % os.path.relpath(os.path.join(ARTIFACTS, 'imap.json'), ROOT))


if __name__ == '__main__':
    main()
