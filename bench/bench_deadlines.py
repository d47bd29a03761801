"""Scheduled-action benchmark: the due-only SLA and auto-close crons against a naive full scan.

What is measured: the wall-clock time (``time.perf_counter``) of one run of each scheduled action of
postcenter_email over a helpdesk of N open Email-channel tickets (default 100000) of which D are due
(default 1000), from the call to its return with every change committed:

- SLA, due-only: ``helpdesk.ticket._cron_sla(now)``, which reads only the tickets whose stored
  ``sla_deadline`` has passed and that are not late yet (partial index), and marks them late in SQL;
- SLA, full scan: what one would write without the stored, indexed deadline: an ORM ``search`` of
  every open ticket of the Email channel, the deadline worked out in Python from each ticket's
  ``customer_waiting_since`` and its account's response time, one ``write({'is_late': True})`` on the
  due ones, then a commit;
- auto-close, due-only: ``helpdesk.ticket._cron_autoclose(now)``, which reads only the tickets whose
  stored ``autoclose_deadline`` has passed and closes each with an ORM write (tracking, helpdesk_mgmt's
  closing email, the account's "auto_close" reply when it is switched on: here it stays off, as
  accounts are created);
- auto-close, full scan: the same ORM search of every open ticket, the due time worked out in Python
  from ``agent_waiting_since`` and the account's settings, and the same closing write the addon uses
  (``with_context(postcenter_autoclose=True).write({'stage_id': closed_stage})``), one ticket at a
  time, each browsed on its own, committed at the end.

Closing a ticket is the same ORM write in both auto-close variants, on a record browsed on its own
as the cron does (records sharing a prefetch set would each re-read all the others after every
close: Odoo 11's mail clears the whole record cache each time it posts in a thread), so the
selection alone (finding the due ids: the cron's own indexed query, as one batch of D, against the
ORM search and Python filter of the full scan) is timed apart, on a fresh cursor each time;
"closing" is a run minus its selection.

Why the comparison is fair:
- one database (``postcenter_bench_deadlines``: helpdesk_mgmt + postcenter_email, no demo), one
  forwarding account (SLA 24 hours, auto-close after 72 hours), the same ``now`` for every run;
- the tickets are inserted by SQL with consistent clocks (``sla_deadline = customer_waiting_since +
  24 h``, ``autoclose_deadline = agent_waiting_since + 72 h``), so both variants find the same due
  tickets; every other ticket waits for an agent or for the customer with a deadline in the future;
  the due ones are spread over the whole table (every N/D-th ticket), not clustered;
- between two runs, the due tickets are put back by SQL (not late; or back in their open stage with
  their clocks, the messages and emails of the closing deleted), then ``VACUUM ANALYZE``;
- everything runs in this one Python process, with no cron or HTTP thread; each variant runs once
  (a full scan takes about 45 s, an auto-close run about a minute), the two of a pair one after
  the other, and which runs first alternates: SLA due-only first (just after the insert, on the
  coldest caches), selection full scan first, auto-close due-only first; the full scans of the SLA
  and of the selection run before the auto-close pair, so both of its runs start on warm caches;
- every run is checked to have found, marked or closed exactly the D due tickets (the same ids);
- no SMTP server is needed: with ``postcenter_autoclose`` in the context (both variants), helpdesk_mgmt's
  "ticket closed" email is queued for Odoo's mail queue, not sent during the run.

Run it with ``make bench`` (``scripts/bench.sh``, after the IMAP and SMTP benchmarks) or alone:
``.venv/bin/python bench/bench_deadlines.py [--tickets 100000] [--due 1000] [--keep] [--profile FILE]``.
Results: printed, and written as JSON to ``test-artifacts/bench/deadlines.json``.
"""
import argparse
import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))
os.environ['ODOO_PRELOAD_ADDONS'] = 'no'

import bench_imap  # noqa: E402

DB = bench_imap.PREFIX + '_deadlines'  # POSTCENTER_BENCH_PREFIX changes the prefix
SNAPSHOT = 'bench_deadlines_autoclose_due'  # the due tickets as inserted, to put them back after a close
SLA_HOURS, AUTOCLOSE_HOURS = 24, 72
PARTNERS = 200
# One run of each variant, the first run of each pair alternating between the two variants.
ORDER = {'sla': ('due_only', 'full_scan'), 'autoclose_selection': ('full_scan', 'due_only'),
         'autoclose': ('due_only', 'full_scan')}
LABELS = [('sla', 'SLA'), ('autoclose_selection', 'auto-close selection'), ('autoclose', 'auto-close')]
log = bench_imap.log


# ----------------------------------------------------------------------------
# Database
# ----------------------------------------------------------------------------

def create_database(db=DB, log_name='deadlines-initdb.log'):
    """A new database ``db`` with postcenter_email and no demo data (Odoo's log in ``log_name``)."""
    started = time.perf_counter()
    bench_imap.drop_database(db)
    with open(os.path.join(bench_imap.ARTIFACTS, log_name), 'w') as output:
        subprocess.run([os.path.join(ROOT, 'scripts', 'odoo.sh'), '-d', db, '-i', 'postcenter_email',
                        '--without-demo=all', '--stop-after-init', '--log-level=warn'],
                       check=True, stdout=output, stderr=subprocess.STDOUT)
    log('database %s ready in %.0f s' % (db, time.perf_counter() - started))


def vacuum():
    subprocess.run(['psql', '-d', DB, '-qc', 'VACUUM ANALYZE helpdesk_ticket'], check=True)


@contextmanager
def environment(odoo, registry):
    """A superuser environment on a new cursor, committed when the block ends without error."""
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        yield odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def create_account_and_partners(env):
    account = env['postcenter.email.account'].create({
        'name': 'Bench support', 'email': 'support@bench.example', 'connection_type': 'forward',
        'sla_time': SLA_HOURS, 'sla_unit': 'hours',
        'autoclose_enabled': True, 'autoclose_time': AUTOCLOSE_HOURS, 'autoclose_unit': 'hours'})
    Partner = env['res.partner'].with_context(tracking_disable=True)
    partners = [Partner.create({'name': 'Customer %03d' % index, 'email': 'customer%03d@example.com' % index}).id
                for index in range(PARTNERS)]
    return account.id, partners


INSERT_TICKETS = """
    WITH kinds AS (
        SELECT g, CASE WHEN g %% %(step)s = 1 AND g <= %(step)s * %(due)s THEN 'sla_due'
                       WHEN g %% %(step)s = 2 AND g <= %(step)s * %(due)s THEN 'close_due'
                       WHEN g %% 2 = 1 THEN 'for_agent'
                       ELSE 'for_customer' END AS kind
          FROM generate_series(1, %(count)s) AS g
    ), clocks AS (
        SELECT g, kind,
               CASE kind WHEN 'sla_due' THEN %(now)s - make_interval(secs => %(sla)s + 60 + g %% 86400)
                         WHEN 'for_agent' THEN %(now)s - make_interval(secs => g %% (%(sla)s - 60)) END
                   AS customer_since,
               CASE kind WHEN 'close_due' THEN %(now)s - make_interval(secs => %(close)s + 60 + g %% 86400)
                         WHEN 'for_customer' THEN %(now)s - make_interval(secs => g %% (%(close)s - 60)) END
                   AS agent_since
          FROM kinds
    )
    INSERT INTO helpdesk_ticket (
        number, name, description, stage_id, partner_id, partner_name, partner_email, company_id, channel_id,
        email_account_id, priority, kanban_state, color, is_important, is_ignored,
        customer_waiting_since, sla_deadline, is_late, agent_waiting_since, autoclose_deadline,
        last_stage_update, message_last_post, create_uid, create_date, write_uid, write_date)
    SELECT 'HT' || lpad(g::text, 6, '0'),
           'Order ' || (100000 + g) || ': question about my delivery',
           '<p>Hello,</p><p>' || repeat(md5(g::text) || ' ', 24) || '</p><p>Regards</p>',
           CASE WHEN agent_since IS NOT NULL THEN %(awaiting)s WHEN g %% 3 = 0 THEN %(in_progress)s
                ELSE %(new)s END,
           p.id, p.name, p.email, %(company)s, %(channel)s, %(account)s, (g %% 3)::text, 'normal', 0,
           g %% 17 = 0, false,
           customer_since, customer_since + make_interval(secs => %(sla)s), false,
           agent_since, agent_since + make_interval(secs => %(close)s),
           coalesce(customer_since, agent_since), coalesce(customer_since, agent_since),
           %(uid)s, coalesce(customer_since, agent_since) - interval '2 days',
           %(uid)s, coalesce(customer_since, agent_since)
      FROM clocks JOIN res_partner p ON p.id = (%(partners)s::int[])[1 + g %% %(npartners)s]
"""


def insert_tickets(env, account_id, partners, count, due, now):
    """``count`` open tickets of the account: ``due`` past their SLA, ``due`` past their auto-close, the rest
    waiting (half for an agent, half for the customer) with deadlines in the future."""
    step = count // due
    assert step >= 3, '--due must be at most a third of --tickets'
    ref = env.ref
    env.cr.execute(INSERT_TICKETS, {
        'count': count, 'due': due, 'step': step, 'now': now, 'uid': env.uid,
        'sla': SLA_HOURS * 3600, 'close': AUTOCLOSE_HOURS * 3600,
        'new': ref('helpdesk_mgmt.helpdesk_ticket_stage_new').id,
        'in_progress': ref('helpdesk_mgmt.helpdesk_ticket_stage_in_progress').id,
        'awaiting': ref('helpdesk_mgmt.helpdesk_ticket_stage_awaiting').id,
        'company': ref('base.main_company').id, 'channel': ref('helpdesk_mgmt.helpdesk_ticket_channel_email').id,
        'account': account_id, 'partners': partners, 'npartners': len(partners)})
    env.cr.execute('SELECT id FROM helpdesk_ticket WHERE sla_deadline <= %s AND is_late IS NOT TRUE ORDER BY id',
                   (now,))
    sla_due = [row[0] for row in env.cr.fetchall()]
    env.cr.execute('CREATE TABLE %s AS SELECT id, stage_id, agent_waiting_since, autoclose_deadline, '
                   'last_stage_update, write_date FROM helpdesk_ticket WHERE autoclose_deadline <= %%s' % SNAPSHOT,
                   (now,))
    env.cr.execute('SELECT id FROM %s ORDER BY id' % SNAPSHOT)
    close_due = [row[0] for row in env.cr.fetchall()]
    return sla_due, close_due


# ----------------------------------------------------------------------------
# SLA: the cron against a full scan
# ----------------------------------------------------------------------------

def sla_due_only(env, now):
    return env['helpdesk.ticket']._cron_sla(now)


def sla_full_scan(env, now):
    """Every open Email-channel ticket through the ORM; the deadline in Python; one write; commit."""
    from odoo import fields

    from odoo.addons.postcenter_email.services import sla
    moment = fields.Datetime.from_string(now)
    tickets = env['helpdesk.ticket'].search([('stage_id.closed', '=', False), ('email_account_id', '!=', False)])

    def late(ticket):
        account = ticket.email_account_id
        since = fields.Datetime.from_string(ticket.customer_waiting_since)
        return not ticket.is_late and sla.is_due(sla.deadline(since, account.sla_time, account.sla_unit), moment)
    due = tickets.filtered(late)
    due.write({'is_late': True})
    env.cr.commit()
    return len(due)


def late_ids(env):
    env.cr.execute('SELECT id FROM helpdesk_ticket WHERE is_late ORDER BY id')
    return [row[0] for row in env.cr.fetchall()]


def reset_sla(env, ids):
    env.cr.execute('UPDATE helpdesk_ticket SET is_late = false WHERE id = ANY(%s)', (ids,))


# ----------------------------------------------------------------------------
# Auto-close: the cron against a full scan
# ----------------------------------------------------------------------------

def autoclose_due_only(env, now, profile=None):
    if not profile:
        return env['helpdesk.ticket']._cron_autoclose(now)
    import cProfile
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(env['helpdesk.ticket']._cron_autoclose, now)
    finally:
        profiler.dump_stats(profile)


def autoclose_select_due_only(env, now, due):
    """The cron's own query (one batch as large as the due count): the due ids, by the index."""
    env.cr.execute("""
        SELECT id FROM helpdesk_ticket WHERE autoclose_deadline <= %s
         ORDER BY autoclose_deadline LIMIT %s FOR UPDATE SKIP LOCKED""", (now, due))
    return [row[0] for row in env.cr.fetchall()]


def autoclose_select_full_scan(env, now):
    """Every open Email-channel ticket through the ORM; the due time in Python."""
    from odoo import fields

    from odoo.addons.postcenter_email.services import sla
    moment = fields.Datetime.from_string(now)
    tickets = env['helpdesk.ticket'].search([('stage_id.closed', '=', False), ('email_account_id', '!=', False)])

    def due(ticket):
        account = ticket.email_account_id
        if not account.autoclose_enabled:
            return False
        since = fields.Datetime.from_string(ticket.agent_waiting_since)
        return sla.is_due(sla.deadline(since, account.autoclose_time, account.autoclose_unit), moment)
    return tickets.filtered(due)


def autoclose_full_scan(env, now):
    """The full-scan selection, then the addon's closing write, one ticket at a time; commit."""
    Ticket = env['helpdesk.ticket']
    stage = env['helpdesk.ticket.stage'].search([('closed', '=', True)], limit=1)
    due = autoclose_select_full_scan(env, now)
    for ticket_id in due.ids:  # each browsed on its own: closing one does not re-read the others
        Ticket.browse(ticket_id).with_context(postcenter_autoclose=True).write({'stage_id': stage.id})
    env.cr.commit()
    return len(due)


def closed_ids(env):
    env.cr.execute('SELECT t.id FROM helpdesk_ticket t JOIN helpdesk_ticket_stage s ON s.id = t.stage_id '
                   'WHERE s.closed ORDER BY t.id')
    return [row[0] for row in env.cr.fetchall()]


def last_ids(env):
    """Where the chatter, the outgoing mail and the automatic-reply log stood before a run."""
    env.cr.execute('SELECT (SELECT coalesce(max(id), 0) FROM mail_message), '
                   '(SELECT coalesce(max(id), 0) FROM mail_mail), '
                   '(SELECT coalesce(max(id), 0) FROM postcenter_email_autoreply_log)')
    return env.cr.fetchone()


def reset_autoclose(env, before):
    """The closed tickets back in their open stage with their clocks; the closing's messages and mail gone."""
    message, mail, reply = before
    env.cr.execute('DELETE FROM mail_mail WHERE id > %s', (mail,))
    env.cr.execute('DELETE FROM mail_message WHERE id > %s', (message,))
    env.cr.execute('DELETE FROM postcenter_email_autoreply_log WHERE id > %s', (reply,))
    env.cr.execute("""
        UPDATE helpdesk_ticket t
           SET stage_id = s.stage_id, agent_waiting_since = s.agent_waiting_since,
               autoclose_deadline = s.autoclose_deadline, last_stage_update = s.last_stage_update,
               write_date = s.write_date, closed_date = NULL, customer_waiting_since = NULL,
               sla_deadline = NULL, is_late = false
          FROM %s s WHERE t.id = s.id""" % SNAPSHOT)


# ----------------------------------------------------------------------------
# Runs
# ----------------------------------------------------------------------------

def timed(odoo, registry, function, *args):
    """Seconds of one run of ``function``. The garbage of the runs before it is collected first, so that no run
    pays for another's (a full scan leaves hundreds of thousands of objects to Python's collector)."""
    gc.collect()
    with environment(odoo, registry) as env:
        started = time.perf_counter()
        result = function(env, *args)
        seconds = time.perf_counter() - started
    return seconds, result


def compare(odoo, registry, variants, rounds, check=None, reset=None):
    """Run ``variants`` (name -> (function, args)) in the order ``rounds``. A variant returns a count, or the
    ids it found; after each run, ``check(env)`` (the ids it changed) is recorded and ``reset(env)`` puts the
    data back. Returns name -> [{seconds, count, ids}]."""
    runs = {name: [] for name in variants}
    for name in rounds:
        function, args = variants[name]
        seconds, result = timed(odoo, registry, function, *args)
        count, ids = (len(result), sorted(result)) if isinstance(result, list) else (result, None)
        if check:
            with environment(odoo, registry) as env:
                ids = check(env)
                reset(env)
            vacuum()
        runs[name].append({'seconds': seconds, 'count': count, 'ids': ids})
        log('  %-9s %7.2f s  (%d)' % (name, seconds, count))
    return runs


def summary(runs, expected):
    """Times (the best when a variant ran more than once), the ratio, and whether every run did exactly the
    expected job (the same ids when known)."""
    result = {name: {'seconds': min(run['seconds'] for run in items), 'runs': items}
              for name, items in runs.items()}
    due, full = result['due_only']['seconds'], result['full_scan']['seconds']
    result['ratio'] = full / due if due else None
    every = [run for items in runs.values() for run in items]
    if all(run['ids'] is not None for run in every):
        result['done'] = min(len(set(run['ids']) & set(expected)) for run in every)
        result['exact'] = all(run['ids'] == expected and run['count'] == len(expected) for run in every)
    else:
        result['done'] = min(run['count'] for run in every)
        result['exact'] = all(run['count'] == len(expected) for run in every)
    for run in every:  # the check is done: the JSON keeps the counts
        run['ids'] = len(run['ids']) if run['ids'] is not None else None
    return result


def line(label, result, verb, due):
    return '  %-22s due-only %8.3f s   full scan %8.3f s   ratio %8.1fx   %s %d / %d%s' % (
        label, result['due_only']['seconds'], result['full_scan']['seconds'], result['ratio'], verb,
        result['done'], due, ', same ids' if result['exact'] else '')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--tickets', type=int, default=100000, help='open tickets (100000)')
    parser.add_argument('--due', type=int, default=1000, help='tickets due for the SLA, and for the auto-close (1000)')
    parser.add_argument('--keep', action='store_true', help='keep the bench database afterwards')
    parser.add_argument('--profile', help='write a cProfile of the due-only auto-close run to this file')
    args = parser.parse_args()
    os.makedirs(bench_imap.ARTIFACTS, exist_ok=True)
    whole = time.perf_counter()

    create_database()
    odoo = bench_imap.configure_odoo()
    registry = odoo.registry(DB)
    now = datetime.datetime.utcnow().replace(microsecond=0)
    now_text = now.strftime('%Y-%m-%d %H:%M:%S')
    try:
        started = time.perf_counter()
        with environment(odoo, registry) as env:
            account_id, partners = create_account_and_partners(env)
            sla_due, close_due = insert_tickets(env, account_id, partners, args.tickets, args.due, now)
        vacuum()
        inserted = time.perf_counter() - started
        log('%d tickets inserted (%d due for the SLA, %d for the auto-close) in %.1f s' % (
            args.tickets, len(sla_due), len(close_due), inserted))

        log('SLA: _cron_sla against a full scan')
        sla_runs = compare(odoo, registry, {'due_only': (sla_due_only, (now_text,)),
                                            'full_scan': (sla_full_scan, (now_text,))},
                           ORDER['sla'], late_ids, lambda env: reset_sla(env, sla_due))
        log('auto-close selection: the indexed query against the full scan')
        select_runs = compare(odoo, registry, {
            'due_only': (autoclose_select_due_only, (now_text, args.due)),
            'full_scan': (lambda env, now: autoclose_select_full_scan(env, now).ids, (now_text,))},
            ORDER['autoclose_selection'])
        log('auto-close: _cron_autoclose against a full scan')
        with environment(odoo, registry) as env:
            before = last_ids(env)
        close_runs = compare(odoo, registry, {'due_only': (autoclose_due_only, (now_text, args.profile)),
                                              'full_scan': (autoclose_full_scan, (now_text,))},
                             ORDER['autoclose'], closed_ids, lambda env: reset_autoclose(env, before))
    finally:
        odoo.sql_db.close_all()
        if not args.keep:
            bench_imap.drop_database(DB)

    results = {'sla': summary(sla_runs, sla_due), 'autoclose': summary(close_runs, close_due),
               'autoclose_selection': summary(select_runs, close_due)}
    closing = {name: (results['autoclose'][name]['seconds'] - results['autoclose_selection'][name]['seconds']) /
               args.due
               for name in ('due_only', 'full_scan')}
    results['autoclose_closing_seconds_per_ticket'] = closing
    lines = ['Due-only scheduled actions, %d open tickets, %d due (same database, same process)'
             % (args.tickets, args.due),
             line('SLA', results['sla'], 'marked late', args.due),
             line('auto-close', results['autoclose'], 'closed', args.due),
             line('auto-close selection', results['autoclose_selection'], 'found', args.due),
             '  %-22s due-only %7.1f ms/ticket   full scan %7.1f ms/ticket   (a run minus its selection)' % (
                 'auto-close closing', 1000.0 * closing['due_only'], 1000.0 * closing['full_scan']),
             '  (one run of each; first: %s)' % ', '.join(
                 '%s %s' % (label, ORDER[key][0].replace('_', '-')) for key, label in LABELS)]
    for key, label in LABELS:
        if not results[key]['exact']:
            lines.append('  WARNING %s: a run did not find, mark or close exactly the %d due tickets (ids)' % (
                label, args.due))
    total = time.perf_counter() - whole
    lines.append('(whole run, database and tickets included: %.0f s)' % total)

    report = {
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(), 'platform': platform.platform()},
        'tickets': args.tickets, 'due': args.due, 'now': now_text,
        'account': {'sla_hours': SLA_HOURS, 'autoclose_hours': AUTOCLOSE_HOURS, 'autoclose_reply': False},
        'insert_seconds': inserted,
        'order': ORDER,
        'results': results,
        'whole_run_seconds': total,
        'table': lines,
    }
    with open(os.path.join(bench_imap.ARTIFACTS, 'deadlines.json'), 'w') as handle:
        json.dump(report, handle, indent=2, sort_keys=True, default=str)
    print()
    print('\n'.join(lines))
    print('(figures in %s)' % os.path.relpath(os.path.join(bench_imap.ARTIFACTS, 'deadlines.json'), ROOT))


if __name__ == '__main__':
    main()
