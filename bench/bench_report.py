"""Report benchmark: the Email Service report over stored, indexed metrics against the same figures computed from
the chatter.

What is measured: the wall-clock time (``time.perf_counter``) of producing what opening the report and the
dashboard shows, over N Email-channel tickets (default 100000) with their chatter, in one process:

- report: the ``read_group`` calls the web client makes on the report model (``postcenter.email.report``, a view
  over the tickets' stored metrics): the pivot's four (total; per account; per month; per account and month:
  tickets, median and average first response, % within SLA, late tickets), the graph's (median first response per
  week) and the dashboard's figures of every account (``_compute_dashboard``: eight grouped queries);
- chatter: the same figures without stored metrics: every Email-channel ticket read through the ORM, its chatter
  (``mail.message`` and the stage's ``mail.tracking.value``) read with ``search_read``, each conversation replayed
  into its metrics by the very rules the live events use (``services.metrics.replay``), then grouped and aggregated
  in Python (``statistics.median``).

Why the comparison is fair: one database (``postcenter_bench_report``: helpdesk_mgmt + postcenter_email), four
accounts (response time 24 hours), two teams, three agents; the tickets, their emails, answers and closes inserted by
SQL (as ``bench_deadlines.py`` does) over the 90 days before ``now``, then their metrics stored by the upgrade's own
backfill (timed too, printed apart); the same ``now`` for both; both produce the same figures, checked cell by cell
(the run prints whether they agree).

Run it with ``make bench`` (``scripts/bench.sh``, last) or alone:
``.venv/bin/python bench/bench_report.py [--tickets 100000] [--keep]``.
Results: printed, and written as JSON to ``test-artifacts/bench/report.json``.
"""
import argparse
import collections
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))
os.environ['ODOO_PRELOAD_ADDONS'] = 'no'

import bench_deadlines  # noqa: E402
import bench_imap  # noqa: E402

DB = 'postcenter_bench_report'
ACCOUNTS, AGENTS = 4, 3
SLA_HOURS = bench_deadlines.SLA_HOURS
MEASURES = ['ticket_count', 'first_response_median', 'first_response_hours', 'sla_within', 'late_ticket_count']
log = bench_imap.log
environment = bench_deadlines.environment


def create_database():
    bench_deadlines.create_database(DB, 'report-initdb.log')


def create_desk(env):
    """Four accounts (the first from bench_deadlines), two teams, three agents; the customers."""
    first, partners = bench_deadlines.create_account_and_partners(env)
    teams = [env['helpdesk.ticket.team'].create({'name': 'Team %d' % index}).id for index in range(2)]
    users = env['res.users'].with_context(no_reset_password=True, tracking_disable=True)
    agents = [users.create({'name': 'Agent %d' % index, 'login': 'agent%d@bench.example' % index,
                            'groups_id': [(6, 0, [env.ref('helpdesk_mgmt.group_helpdesk_user').id])]})
              for index in range(AGENTS)]
    Account = env['postcenter.email.account']
    accounts = Account.browse(first)
    for index in range(1, ACCOUNTS):
        accounts |= Account.create({'name': 'Bench support %d' % index, 'email': 'support%d@bench.example' % index,
                                    'connection_type': 'forward', 'sla_time': SLA_HOURS, 'sla_unit': 'hours'})
    for index, account in enumerate(accounts):
        account.team_id = teams[index % 2]
    return accounts.ids, teams, [(agent.id, agent.partner_id.id) for agent in agents], partners


PLAN = """
    CREATE TEMP TABLE bench_plan AS
    SELECT g, 'HT' || lpad(g::text, 7, '0') AS number,
           (%(accounts)s::int[])[1 + g %% %(naccounts)s] AS account_id,
           (%(teams)s::int[])[1 + (g %% %(naccounts)s) %% 2] AS team_id,
           (%(agents)s::int[])[1 + g %% %(nagents)s] AS user_id,
           (%(agent_partners)s::int[])[1 + g %% %(nagents)s] AS agent_partner_id,
           (%(partners)s::int[])[1 + g %% %(npartners)s] AS partner_id,
           %(now)s::timestamp - make_interval(secs => (g::bigint * 7919) %% (90 * 86400) + 3 * 86400) AS received,
           g %% 10 <> 0 AS answered, g %% 10 <> 0 AND g %% 2 = 0 AS closed,
           ((g::bigint * 104729) %% (48 * 3600) + 60)::int AS wait
      FROM generate_series(1, %(count)s) AS g
"""

TICKETS = """
    INSERT INTO helpdesk_ticket (
        number, name, description, stage_id, partner_id, partner_name, partner_email, company_id, channel_id,
        email_account_id, team_id, user_id, priority, kanban_state, color, is_important, is_ignored,
        customer_waiting_since, sla_deadline, is_late, agent_waiting_since, closed_date,
        last_stage_update, create_uid, create_date, write_uid, write_date)
    SELECT p.number, 'Order ' || p.g || ': a question', '<p>Hello</p>',
           CASE WHEN p.closed THEN %(done)s WHEN p.answered THEN %(awaiting)s ELSE %(new)s END,
           p.partner_id, r.name, r.email, %(company)s, %(channel)s, p.account_id, p.team_id, p.user_id,
           (p.g %% 3)::text, 'normal', 0, p.g %% 17 = 0, false,
           CASE WHEN NOT p.answered THEN p.received END,
           CASE WHEN NOT p.answered THEN p.received + interval '%(sla)s hours' END,
           NOT p.answered AND p.received + interval '%(sla)s hours' <= %(now)s,
           CASE WHEN p.answered AND NOT p.closed THEN p.received + make_interval(secs => p.wait) END,
           CASE WHEN p.closed THEN p.received + make_interval(secs => p.wait + 3600) END,
           p.received, %(uid)s, p.received, %(uid)s, p.received
      FROM bench_plan p JOIN res_partner r ON r.id = p.partner_id
"""

CHATTER = [
    # the customer's email, and its receipt in the account's ledger
    """INSERT INTO mail_message (model, res_id, message_type, subtype_id, author_id, date, body, message_id,
                                 create_uid, create_date, write_uid, write_date)
       SELECT 'helpdesk.ticket', p.ticket_id, 'email', %(comment)s, p.partner_id, p.received, '<p>Hello</p>',
              '<bench-report-' || p.g || '@customer.example>', %(uid)s, p.received, %(uid)s, p.received
         FROM bench_plan p""",
    """INSERT INTO postcenter_email_receipt (account_id, message_key, status, ticket_id, create_uid, create_date,
                                             write_uid, write_date)
       SELECT p.account_id, '<bench-report-' || p.g || '@customer.example>', 'ticket', p.ticket_id, %(uid)s,
              p.received, %(uid)s, p.received FROM bench_plan p""",
    # the agent's answer
    """INSERT INTO mail_message (model, res_id, message_type, subtype_id, author_id, date, body, create_uid,
                                 create_date, write_uid, write_date)
       SELECT 'helpdesk.ticket', p.ticket_id, 'comment', %(comment)s, p.agent_partner_id,
              p.received + make_interval(secs => p.wait), '<p>On it</p>', %(uid)s,
              p.received + make_interval(secs => p.wait), %(uid)s, p.received + make_interval(secs => p.wait)
         FROM bench_plan p WHERE p.answered""",
    # the close, as Odoo tracks a change of stage
    """INSERT INTO mail_message (model, res_id, message_type, subtype_id, author_id, date, create_uid, create_date,
                                 write_uid, write_date, message_id)
       SELECT 'helpdesk.ticket', p.ticket_id, 'notification', %(note)s, p.agent_partner_id,
              p.received + make_interval(secs => p.wait + 3600), %(uid)s,
              p.received + make_interval(secs => p.wait + 3600), %(uid)s,
              p.received + make_interval(secs => p.wait + 3600), '<bench-report-close-' || p.g || '@bench.example>'
         FROM bench_plan p WHERE p.closed""",
    """INSERT INTO mail_tracking_value (field, field_desc, field_type, old_value_integer, new_value_integer,
                                        mail_message_id, create_uid, create_date, write_uid, write_date)
       SELECT 'stage_id', 'Stage', 'many2one', %(awaiting)s, %(done)s, m.id, %(uid)s, m.date, %(uid)s, m.date
         FROM mail_message m WHERE m.message_id LIKE '<bench-report-close-%%'""",
]


def insert(env, count, now, accounts, teams, agents, partners):
    ref = env.ref
    params = {
        'count': count, 'now': now, 'uid': env.uid, 'sla': SLA_HOURS,
        'accounts': accounts, 'naccounts': len(accounts), 'teams': teams,
        'agents': [agent for agent, _partner in agents], 'agent_partners': [partner for _agent, partner in agents],
        'nagents': len(agents), 'partners': partners, 'npartners': len(partners),
        'new': ref('helpdesk_mgmt.helpdesk_ticket_stage_new').id,
        'awaiting': ref('helpdesk_mgmt.helpdesk_ticket_stage_awaiting').id,
        'done': ref('helpdesk_mgmt.helpdesk_ticket_stage_done').id,
        'company': ref('base.main_company').id, 'channel': ref('helpdesk_mgmt.helpdesk_ticket_channel_email').id,
        'comment': ref('mail.mt_comment').id, 'note': ref('mail.mt_note').id,
    }
    cr = env.cr
    cr.execute(PLAN, params)
    cr.execute(TICKETS, params)
    cr.execute('ALTER TABLE bench_plan ADD ticket_id integer')
    cr.execute('UPDATE bench_plan p SET ticket_id = t.id FROM helpdesk_ticket t WHERE t.number = p.number')
    for statement in CHATTER:
        cr.execute(statement, params)


def vacuum():
    subprocess.run(['psql', '-d', DB, '-qc', 'VACUUM ANALYZE'], check=True)


# ----------------------------------------------------------------------------
# The figures, two ways
# ----------------------------------------------------------------------------

def month_of(moment):
    return moment.strftime('%Y-%m')


def by_report(env):
    """What opening the report (pivot and graph) and the dashboard reads: the report's read_group calls."""
    Report = env['postcenter.email.report']
    cells = {}
    for groupby in ([], ['email_account_id'], ['first_customer_email_date:month'],
                    ['email_account_id', 'first_customer_email_date:month']):
        names = [name.split(':')[0] for name in groupby]
        for group in Report.read_group([], names + MEASURES, groupby, lazy=False):
            key = tuple(group['email_account_id'][0] if name == 'email_account_id'
                        else group['__domain'] and _month_key(group) for name in groupby)
            cells[key] = tuple(group[name] for name in MEASURES)
    weeks = Report.read_group([], ['first_customer_email_date', 'first_response_median'],
                              ['first_customer_email_date:week'])
    accounts = env['postcenter.email.account'].search([])
    dashboard = {account.id: (account.dashboard_open_count, account.dashboard_response_median)
                 for account in accounts}
    return cells, len(weeks), dashboard


def _month_key(group):
    """The month of a read_group group, from its domain's lower bound (a date string)."""
    for term in group['__domain']:
        if isinstance(term, (list, tuple)) and term[0] == 'first_customer_email_date' and term[1] == '>=':
            return term[2][:7]
    return None


def by_chatter(env, now):
    """The same cells from the chatter: tickets by the ORM, their messages and tracking by search_read, each one
    replayed (services.metrics.replay), then grouped and aggregated in Python."""
    from odoo import fields

    from odoo.addons.postcenter_email.services import metrics, sla
    tickets = env['helpdesk.ticket'].search_read([('email_account_id', '!=', False)],
                                                 ['email_account_id', 'stage_id', 'closed_date'])
    closed_stages = set(env['helpdesk.ticket.stage'].search([('closed', '=', True)]).ids)
    accounts = {account.id: sla.seconds(account.sla_time, account.sla_unit)
                for account in env['postcenter.email.account'].search([])}
    internal = set(env['res.users'].search([('share', '=', False)]).mapped('partner_id').ids)
    comment = env.ref('mail.mt_comment').id
    ids = [ticket['id'] for ticket in tickets]
    events = collections.defaultdict(list)
    messages = env['mail.message'].search_read(
        [('model', '=', 'helpdesk.ticket'), ('res_id', 'in', ids), ('message_type', 'in', ('email', 'comment'))],
        ['res_id', 'date', 'message_type', 'subtype_id', 'author_id'], order='date, id')
    for message in messages:
        author = message['author_id'] and message['author_id'][0]
        if message['message_type'] == 'email':
            kind = metrics.AGENT if author in internal else metrics.CUSTOMER
        elif message['subtype_id'] and message['subtype_id'][0] == comment and author in internal:
            kind = metrics.AGENT
        else:
            continue
        events[message['res_id']].append((message['date'], message['id'], metrics.Event(
            fields.Datetime.from_string(message['date']), kind)))
    trackings = env['mail.tracking.value'].search_read([('field', '=', 'stage_id')], [
        'mail_message_id', 'old_value_integer', 'new_value_integer'])
    tracked = env['mail.message'].browse([t['mail_message_id'][0] for t in trackings]).read(['res_id', 'date',
                                                                                             'model'])
    where = {message['id']: message for message in tracked}
    for tracking in trackings:
        message = where[tracking['mail_message_id'][0]]
        was, now_closed = tracking['old_value_integer'] in closed_stages, tracking['new_value_integer'] in closed_stages
        if message['model'] == 'helpdesk.ticket' and was != now_closed:
            events[message['res_id']].append((message['date'], message['id'], metrics.Event(
                fields.Datetime.from_string(message['date']), metrics.CLOSE if now_closed else metrics.REOPEN)))
    groups = collections.defaultdict(list)
    for ticket in tickets:
        account = ticket['email_account_id'][0]
        closed = ticket['stage_id'] and ticket['stage_id'][0] in closed_stages
        result = metrics.replay([event for _date, _id, event in sorted(events[ticket['id']])], accounts[account],
                                now, None, fields.Datetime.from_string(ticket['closed_date']) if closed else None)
        month = month_of(result['first_customer_email_date'])
        for key in ((), (account,), (month,), (account, month)):
            groups[key].append(result)
    return {key: aggregate(results) for key, results in groups.items()}


def aggregate(results):
    responses = [r['first_response_time'] / 3600.0 for r in results if r['first_response_time'] is not None]
    decided = [100.0 if r['first_answer_sla'] == 'met' else 0.0 for r in results if r['first_answer_sla']]
    return (len(results), statistics.median(responses) if responses else None,
            sum(responses) / len(responses) if responses else None,
            sum(decided) / len(decided) if decided else None, sum(1 for r in results if r['late_count'] > 0))


def same(report_cells, chatter_cells):
    if set(report_cells) != set(chatter_cells):
        return False
    for key, values in report_cells.items():
        for ours, theirs in zip(values, chatter_cells[key]):
            if (ours is None) != (theirs is None) or (ours is not None and abs(ours - theirs) > 1e-6):
                return False
    return True


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--tickets', type=int, default=100000, help='Email-channel tickets (100000)')
    parser.add_argument('--keep', action='store_true', help='keep the bench database afterwards')
    args = parser.parse_args()
    os.makedirs(bench_imap.ARTIFACTS, exist_ok=True)
    whole = time.perf_counter()
    create_database()
    odoo = bench_imap.configure_odoo()
    registry = odoo.registry(DB)
    now = datetime.datetime.utcnow().replace(microsecond=0)
    try:
        started = time.perf_counter()
        with environment(odoo, registry) as env:
            desk = create_desk(env)
            insert(env, args.tickets, now, *desk)
        vacuum()
        inserted = time.perf_counter() - started
        log('%d tickets and their chatter inserted in %.1f s' % (args.tickets, inserted))
        with environment(odoo, registry) as env:
            backfill, _count = timed(env['helpdesk.ticket']._postcenter_backfill_metrics, 500, now)
        vacuum()
        log('metrics stored by the backfill in %.1f s' % backfill)
        with environment(odoo, registry) as env:  # one untimed call warms the registry and caches of both
            by_report(env)
        with environment(odoo, registry) as env:
            report_seconds, (report_cells, weeks, dashboard) = timed(by_report, env)
        log('report: %.3f s' % report_seconds)
        with environment(odoo, registry) as env:
            chatter_seconds, chatter_cells = timed(by_chatter, env, now)
        log('chatter: %.1f s' % chatter_seconds)
    finally:
        odoo.sql_db.close_all()
        if not args.keep:
            bench_imap.drop_database(DB)
    agree = same(report_cells, chatter_cells)
    lines = ['Email Service report, %d Email-channel tickets (same database, same process)' % args.tickets,
             '  report (pivot 4 read_group, graph 1, dashboard of %d accounts) %8.3f s' % (
                 len(dashboard), report_seconds),
             '  from the chatter (ORM, replayed in Python)                %8.3f s   ratio %7.1fx' % (
                 chatter_seconds, chatter_seconds / report_seconds),
             '  same figures: %s (%d pivot cells: tickets, median and average first response, %% within SLA, late '
             'tickets; %d weeks in the graph)' % ('yes' if agree else 'NO', len(report_cells), weeks),
             '  metrics stored from the chatter by the upgrade step (backfill, batches of 500): %.1f s' % backfill,
             '(whole run, database and tickets included: %.0f s)' % (time.perf_counter() - whole)]
    report = {'date': datetime.datetime.now().isoformat(timespec='seconds'), 'tickets': args.tickets,
              'insert_seconds': inserted, 'backfill_seconds': backfill, 'report_seconds': report_seconds,
              'chatter_seconds': chatter_seconds, 'same_figures': agree, 'cells': len(report_cells), 'table': lines}
    with open(os.path.join(bench_imap.ARTIFACTS, 'report.json'), 'w') as handle:
        json.dump(report, handle, indent=2, sort_keys=True, default=str)
    print()
    print('\n'.join(lines))
    print('(figures in %s)' % os.path.relpath(os.path.join(bench_imap.ARTIFACTS, 'report.json'), ROOT))


if __name__ == '__main__':
    main()
