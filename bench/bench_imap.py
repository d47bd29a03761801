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

The helpdesk mix (``--desk-messages``, default 2000; ``bench/mailgen.py`` ``helpdesk``) is what a real helpdesk
receives: about 70 % of its tickets from an address never seen before, replies from the customer's colleagues with
and without the customer in Cc, known customers writing to either of two accounts. Both databases have the same
outgoing SMTP server (a real aiosmtpd sink, ``tests/support/smtp.py``) and three agents (internal users notified by
email). Its first half is fetched, then each ticket so far is taken by an agent, who follows it (the same agent in
both databases), then the second half is fetched: so replies of the second half notify an agent by email. Each of
the two fetches is timed with Odoo's mail queue processed inside it (``mail.mail.process_email_queue()`` after the
fetch returns), so every email Odoo decided to send is really sent within the timed run, for both paths (stock sends
its notifications after each message's commit; postcenter_email after each batch's commit). Both databases must end
with the same tickets, each holding the same chatter emails (Message-IDs): the bench prints whether they agree.
For postcenter_email it prints where each message's time went (``services/timing.py``: parse, customer, ticket,
chatter, notifications, and the rest: IMAP, locks, commits). The same mix (``--slow-messages``, default 500) is
then fetched by both paths through a TCP proxy on loopback that delays each direction by 15 ms (``--rtt-ms``, 30 ms
round trip) between Odoo and Dovecot (``bench/latency_proxy.py``).

A larger mailbox (``--large``, default 10000) is fetched by postcenter_email alone into a
third database to show how its rate holds as the tables grow (stock too with ``--stock-large``).

Run it with ``make bench`` (``scripts/bench.sh``); options: ``--messages N``, ``--large N``
(0 skips), ``--stock-large``, ``--batch-size N``, ``--keep`` (keep the databases), ``--desk-messages N``,
``--slow-messages N``, ``--rtt-ms MS``, and while iterating ``--skip-plain``, ``--reuse-templates``,
``--profile FILE`` (a cProfile of postcenter_email on the helpdesk mix). Database names start with
``$POSTCENTER_BENCH_PREFIX`` (``postcenter_bench``).
Results: printed, and written as JSON to ``test-artifacts/bench/imap.json``.
"""
import argparse
import cProfile
import datetime
import json
import logging
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
from latency_proxy import LatencyProxy  # noqa: E402

from tests.support.dovecot import Dovecot  # noqa: E402
from tests.support.smtp import SmtpSink  # noqa: E402

DATA_DIR = os.path.join(ROOT, '.data')
ARTIFACTS = os.path.join(ROOT, 'test-artifacts', 'bench')
PREFIX = os.environ.get('POSTCENTER_BENCH_PREFIX', 'postcenter_bench')  # database names: PREFIX_...
TEMPLATE = PREFIX + '_template'
STOCK_TEMPLATE = PREFIX + '_stock_template'
DB_OURS, DB_STOCK = PREFIX + '_ours', PREFIX + '_stock'
DB_LARGE, DB_STOCK_LARGE = PREFIX + '_large', PREFIX + '_stock_large'
DB_DESK_OURS, DB_DESK_STOCK = PREFIX + '_desk_ours', PREFIX + '_desk_stock'
DB_SLOW_OURS, DB_SLOW_STOCK = PREFIX + '_slow_ours', PREFIX + '_slow_stock'
AGENTS = 3
PHASES = ('parse', 'customer', 'ticket', 'chatter', 'notifications')
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


def database_exists(db):
    found = subprocess.run(['psql', '-d', 'postgres', '-qtAc', "SELECT 1 FROM pg_database WHERE datname = '%s'" % db],
                           check=True, stdout=subprocess.PIPE).stdout
    return found.strip() == b'1'


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

def fill_mailbox(dovecot, user, messages, check=True):
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
    assert not check or status[b'MESSAGES'] == len(messages) == status[b'UNSEEN'], status
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
    logging.getLogger('mail.log').setLevel(logging.WARNING)  # the SMTP sink's own log (aiosmtpd)
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
# The helpdesk mix: two accounts, agents following tickets, a real outgoing SMTP server
# ----------------------------------------------------------------------------

def desk_setup(env, sink):
    """What both databases of the helpdesk mix share: the outgoing server (the SMTP sink) and the agents."""
    env['ir.mail_server'].search([]).write({'active': False})
    env['ir.mail_server'].create({'name': 'Bench sink', 'smtp_host': '127.0.0.1', 'smtp_port': sink.port,
                                  'smtp_encryption': 'none', 'sequence': 1})
    env['ir.config_parameter'].set_param('mail.catchall.domain', 'bench.example')
    agents = env['res.users']
    for number in range(AGENTS):
        agents |= env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Agente %d' % number, 'login': 'agent%d@helpdesk.example' % number,
            'email': 'agent%d@helpdesk.example' % number, 'notification_type': 'email',
            'groups_id': [(6, 0, [env.ref('base.group_user').id, env.ref('helpdesk_mgmt.group_helpdesk_user').id])],
        })
    return agents.ids


def agents_follow(env, agent_ids, where):
    """Agents take the tickets so far (each ticket one agent, chosen by its first email's Message-ID, so that
    both databases give each ticket the same agent) and follow them."""
    env.cr.execute("""SELECT t.id, min(m.message_id) FROM helpdesk_ticket t
                        JOIN mail_message m ON m.res_id = t.id AND m.model = 'helpdesk.ticket'
                                           AND m.message_type = 'email'
                       WHERE %s GROUP BY t.id"""
                   % where.replace('email_account_id', 't.email_account_id').replace('id >', 't.id >'))
    agents = env['res.users'].browse(agent_ids)
    for ticket_id, first in env.cr.fetchall():
        agent = agents[sum(first.encode()) % len(agents)]
        env['helpdesk.ticket'].browse(ticket_id).message_subscribe(partner_ids=agent.partner_id.ids)


def desk_signature(cr, where):
    """Tickets as the sets of Message-IDs of their chatter emails, with their subjects: the same value for two
    databases means the same tickets, the same chatter emails and the same threading."""
    on_t = where.replace('email_account_id', 't.email_account_id').replace('id >', 't.id >')
    cr.execute("""SELECT t.name, array_agg(m.message_id ORDER BY m.message_id) FROM helpdesk_ticket t
                    JOIN mail_message m ON m.res_id = t.id AND m.model = 'helpdesk.ticket' AND m.message_type = 'email'
                   WHERE %s GROUP BY t.id, t.name""" % on_t)
    return sorted((name, tuple(ids)) for name, ids in cr.fetchall())


def queue_left(cr):
    cr.execute("SELECT state, count(*) FROM mail_mail GROUP BY state")
    return dict(cr.fetchall())


def run_desk(odoo, db, path, port, halves, dovecot, sink, users, warm_user, profile=None):
    """The helpdesk mix for ``path`` ('ours' or 'stock'): the first half of the mail fetched, the agents take the
    tickets so far, the second half fetched; both fetches timed, each with the mail queue processed (every email
    Odoo decided to send is sent to the SMTP sink inside the timed run). ``port``: Dovecot's, or a proxy's."""
    from odoo.addons.postcenter_email.services import timing as ours_timing
    registry = odoo.registry(db)
    model = 'postcenter.email.account' if path == 'ours' else 'fetchmail.server'
    with odoo.api.Environment.manage():
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            agent_ids = desk_setup(env, sink)
            make = ours_account if path == 'ours' else stock_server
            ids = [make(env, ProxyPort(dovecot, port), user, 'Bench %d' % index).id for index, user in enumerate(users)]
            warm_id = make(env, dovecot, warm_user, 'Warm-up').id
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            env[model].browse(warm_id)._fetch_imap() if path == 'ours' else env[model].browse(warm_id).fetch_mail()
            env['mail.mail'].process_email_queue()
        with registry.cursor() as cr:
            cr.execute('SELECT coalesce(max(id), 0) FROM helpdesk_ticket')
            before = cr.fetchone()[0]
        where = 'id > %d' % before
        seconds, sent_before = [], sink_count(sink)
        if path == 'ours':
            ours_timing.start()
        profiler = cProfile.Profile() if profile and path == 'ours' else None
        for number, half in enumerate(halves):
            for index, user in enumerate(users):
                fill_mailbox(dovecot, user, [raw for account, raw in half if account == index], check=False)
            if number:
                with registry.cursor() as cr:
                    agents_follow(odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}), agent_ids, where)
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                for record in env[model].browse(ids):
                    record._fetch_imap() if path == 'ours' else record.fetch_mail()
                env['mail.mail'].process_email_queue()
                if profiler:
                    profiler.disable()
                seconds.append(time.perf_counter() - started)
        if profiler:
            profiler.dump_stats(profile)
        phases = ours_timing.stop() if path == 'ours' else {}
        with registry.cursor() as cr:
            counts = count_tickets(cr, where)
            signature = desk_signature(cr, where)
            left = queue_left(cr)
            failed = 0
            if path == 'ours':
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                failed = env['postcenter.email.failed'].search_count([('account_id', 'in', ids)])
    return dict(counts, seconds=sum(seconds), halves_seconds=seconds, phases=phases, signature=signature,
                sent=sink_count(sink) - sent_before, queue=left, failed=failed)


class ProxyPort:
    """Dovecot as seen through a port of our choice (the latency proxy's, or its own)."""

    def __init__(self, dovecot, port):
        self.imap_port = port or dovecot.imap_port


def sink_count(sink):
    return len([name for name in os.listdir(sink.folder) if name.endswith('.eml')])


def desk_lines(title, ours, stock):
    ratio = ours['rate'] / stock['rate'] if stock['rate'] else 0.0
    same = ours['signature'] == stock['signature']
    lines = [title, line('postcenter_email', ours), line('stock fetchmail', stock),
             '  ratio (postcenter_email / stock): %.2fx' % ratio,
             '  same results: %s (tickets %d / %d, chatter emails %d / %d, threading %s)' % (
                 'yes' if same else 'NO', ours['tickets'], stock['tickets'], ours['emails'], stock['emails'],
                 'identical' if same else 'different'),
             '  emails sent to the SMTP server in the timed runs: postcenter_email %d, stock %d; left in the mail '
             'queue: %s / %s' % (ours['sent'], stock['sent'], ours['queue'] or 'none', stock['queue'] or 'none')]
    return lines, ratio, same


def breakdown_lines(result):
    phases = dict(result['phases'])
    count = result['messages']
    other = result['seconds'] - sum(phases.values())
    parts = ['%s %.1f' % (name, 1000.0 * phases.get(name, 0.0) / count) for name in PHASES]
    parts.append('other (IMAP, locks, commits) %.1f' % (1000.0 * other / count))
    return ['  postcenter_email per message, ms: ' + ', '.join(parts) + ' (total %.1f)' % (
        1000.0 * result['seconds'] / count)]


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
    parser.add_argument('--desk-messages', type=int, default=2000,
                        help='size of the helpdesk mix (2000; 0 skips it and its run behind the proxy)')
    parser.add_argument('--slow-messages', type=int, default=500,
                        help='size of the helpdesk mix behind the latency proxy (500; 0 skips it)')
    parser.add_argument('--rtt-ms', type=float, default=30.0, help='round trip the latency proxy adds (30 ms)')
    parser.add_argument('--reuse-templates', action='store_true',
                        help='keep the template databases, and use them if they exist (while iterating)')
    parser.add_argument('--profile', help='write a cProfile of postcenter_email on the helpdesk mix to this file')
    parser.add_argument('--skip-plain', action='store_true', help='skip the first mix (while iterating)')
    args = parser.parse_args()
    large = args.large if args.large > 0 else 0
    os.makedirs(ARTIFACTS, exist_ok=True)
    whole = time.perf_counter()

    log('generating %d messages (seed %d)' % (max(args.messages, large), SEED))
    corpus = mailgen.generate(max(args.messages, large), SEED)
    small = corpus[:args.messages]
    desk_stats = {}
    desk = mailgen.helpdesk(max(args.desk_messages, args.slow_messages), SEED, stats=desk_stats) \
        if args.desk_messages else []
    slow = desk[:args.slow_messages] if args.slow_messages else []
    desk = desk[:args.desk_messages]
    plain = not args.skip_plain

    databases = ([DB_OURS, DB_STOCK] if plain else []) + ([DB_LARGE] if large else []) + \
        ([DB_STOCK_LARGE] if large and args.stock_large else []) + \
        ([DB_DESK_OURS, DB_DESK_STOCK] if desk else []) + ([DB_SLOW_OURS, DB_SLOW_STOCK] if slow else [])
    stock_dbs = (DB_STOCK, DB_STOCK_LARGE, DB_DESK_STOCK, DB_SLOW_STOCK)
    users = {'ours@bench.example': PASSWORD, 'stock@bench.example': PASSWORD,
             'warm-ours@bench.example': PASSWORD, 'warm-stock@bench.example': PASSWORD}
    if large:
        users['large@bench.example'] = PASSWORD
        if args.stock_large:
            users['stocklarge@bench.example'] = PASSWORD
    for run in ('desk-ours', 'desk-stock', 'slow-ours', 'slow-stock'):
        for index in range(len(mailgen.ACCOUNTS)):
            users['%s-%d@bench.example' % (run, index)] = PASSWORD
        users['warm-%s@bench.example' % run] = PASSWORD

    if args.reuse_templates and database_exists(TEMPLATE) and database_exists(STOCK_TEMPLATE):
        log('reusing the template databases %s and %s' % (TEMPLATE, STOCK_TEMPLATE))
    else:
        log('building the template databases (initdb + fetchmail; stock: helpdesk_mgmt + fetchmail); log in %s'
            % os.path.join(ARTIFACTS, 'initdb.log'))
        build_template()
    for db in databases:
        clone_database(db, STOCK_TEMPLATE if db in stock_dbs else TEMPLATE)
    log('databases: %s' % ', '.join(databases))

    dovecot = Dovecot(users=users).start()
    sink = SmtpSink(os.path.join(ARTIFACTS, 'smtp-sink')) if desk else None
    if sink:
        shutil.rmtree(sink.folder, ignore_errors=True)
        os.makedirs(sink.folder)
        sink.start()
    proxy = LatencyProxy('127.0.0.1', dovecot.imap_port, args.rtt_ms / 2000.0).start() if slow else None
    results = {}
    try:
        appended = {}
        warm = warmup_messages()
        plain_boxes = [('ours@bench.example', small), ('stock@bench.example', small),
                       ('warm-ours@bench.example', warm), ('warm-stock@bench.example', warm)]
        for user, messages in (plain_boxes if plain else []) + \
                [('warm-%s@bench.example' % run, warm) for run in ('desk-ours', 'desk-stock', 'slow-ours',
                                                                   'slow-stock')] + \
                ([('large@bench.example', corpus[:large])] if large else []) + \
                ([('stocklarge@bench.example', corpus[:large])] if large and args.stock_large else []):
            appended[user] = fill_mailbox(dovecot, user, messages)
            log('appended %d messages to %s in %.1f s' % (len(messages), user, appended[user]))

        odoo = configure_odoo()
        batch = args.batch_size or None
        if plain:
            log('postcenter_email: fetching %d messages...' % len(small))
            results['ours'] = finish(run_ours(odoo, DB_OURS, dovecot, 'ours@bench.example', batch,
                                              warm_user='warm-ours@bench.example'), len(small))
            log('  %.1f s' % results['ours']['seconds'])
            log('stock fetchmail: fetching %d messages...' % len(small))
            results['stock'] = finish(run_stock(odoo, DB_STOCK, dovecot, 'stock@bench.example',
                                                warm_user='warm-stock@bench.example'), len(small))
            results['stock']['unseen_left'] = unseen_left(dovecot, 'stock@bench.example')
            log('  %.1f s' % results['stock']['seconds'])
        for run, messages, port in [('desk', desk, None), ('slow', slow, proxy.port if proxy else None)]:
            if not messages:
                continue
            halves = [messages[:len(messages) // 2], messages[len(messages) // 2:]]
            for path in ('ours', 'stock'):
                db = PREFIX + '_%s_%s' % (run, path)
                log('helpdesk mix%s, %s: fetching %d messages...' % (
                    ' behind the %.0f ms proxy' % args.rtt_ms if port else '', path, len(messages)))
                mailboxes = ['%s-%s-%d@bench.example' % (run, path, index) for index in range(len(mailgen.ACCOUNTS))]
                if path == 'ours' and batch:
                    with odoo.registry(db).cursor() as cr:
                        odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})['ir.config_parameter'].set_param(
                            'postcenter_email.fetch_batch_size', str(batch))
                key = '%s_%s' % (run, path)
                results[key] = finish(run_desk(odoo, db, path, port, halves, dovecot, sink, mailboxes,
                                               'warm-%s-%s@bench.example' % (run, path),
                                               profile=args.profile if run == 'desk' else None), len(messages))
                log('  %.1f s' % results[key]['seconds'])
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
        if proxy:
            proxy.stop()
        if sink:
            sink.stop()
        dovecot.destroy()
        if not args.keep:
            for db in databases + ([] if args.reuse_templates else [TEMPLATE, STOCK_TEMPLATE]):
                drop_database(db)

    n = len(small)
    lines, ratio, scaling, ratios = [], None, None, {}
    if plain:
        ours, stock = results['ours'], results['stock']
        ratio = ours['rate'] / stock['rate'] if stock['rate'] else None
        lines += ['IMAP ingestion, %d messages (same mailbox content, same machine, one run)' % n,
                  line('postcenter_email', ours), line('stock fetchmail', stock),
                  '  ratio (postcenter_email / stock): %.2fx' % ratio]
        lines.append('  customers linked to the emails: postcenter_email %d partners (created when new), '
                     'stock %d (it links known senders only)' % (ours['authors'], stock['authors']))
        for key, label in [('ours', 'postcenter_email'), ('stock', 'stock fetchmail')]:
            result = results[key]
            if result['missing_emails'] or result.get('failed') or result.get('error'):
                lines.append('  WARNING %s: %d of %d emails not in the chatter, %s failed, error: %s' % (
                    label, result['missing_emails'], n, result.get('failed', '?'), result.get('error')))
    if desk:
        lines.append('Helpdesk mix: %d tickets, %.0f %% of them from a new address; %d replies (%d from a colleague, '
                     '%d from a colleague with the customer in Cc); %d new tickets of known customers, to either of '
                     '2 accounts; %d agents following the tickets (emailed); outgoing SMTP server: aiosmtpd sink' % (
                         desk_stats['tickets'], 100.0 * desk_stats['new_address'] / desk_stats['tickets'],
                         desk_stats['replies'], desk_stats['colleague'], desk_stats['colleague_cc'],
                         desk_stats['second_account'], AGENTS))
    for run, title in [('desk', 'Helpdesk mix on loopback, %d messages' % len(desk)),
                       ('slow', 'Helpdesk mix behind a %.0f ms round-trip proxy to Dovecot, %d messages' % (
                           args.rtt_ms, len(slow)))]:
        if run + '_ours' not in results:
            continue
        more, ratios[run], same = desk_lines(title, results[run + '_ours'], results[run + '_stock'])
        results[run + '_ours']['same_results_as_stock'] = same
        lines += more + breakdown_lines(results[run + '_ours'])
        if results[run + '_ours']['failed']:
            lines.append('  WARNING postcenter_email: %d failed emails' % results[run + '_ours']['failed'])
    if large:
        big = results['ours_large']
        base = results.get('ours') or results.get('desk_ours')
        scaling = big['rate'] / base['rate']
        lines.append('Scaling, postcenter_email: %d msgs %.1f msg/s; %d msgs %.1f msg/s (%.2f of the %d rate)' % (
            n, base['rate'], large, big['rate'], scaling, n))
        if 'stock_large' in results:
            sbig = results['stock_large']
            lines.append('Scaling, stock fetchmail:  %d msgs %.1f msg/s; %d msgs %.1f msg/s (%.2f of the %d rate)' % (
                n, results['stock']['rate'], large, sbig['rate'], sbig['rate'] / results['stock']['rate'], n))
    total = time.perf_counter() - whole
    lines.append('(whole run, databases and mailboxes included: %.0f s)' % total)
    for result in results.values():
        if result:
            result.pop('signature', None)

    report = {
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(), 'platform': platform.platform()},
        'seed': SEED, 'messages': n, 'large': large,
        'batch_size': args.batch_size or 50,
        'mailbox_bytes': sum(len(raw) for raw in small),
        'append_seconds': appended,
        'results': results,
        'ratio_ours_over_stock': ratio,
        'ratios_helpdesk_mix': ratios,
        'helpdesk_mix': desk_stats,
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
