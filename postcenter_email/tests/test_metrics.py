"""Service metrics and the Email Service report: exact figures on hand-built conversations with the clock frozen,
the backfill from the chatter against the live metrics, who sees the report, the account dashboard and the
pivot's export."""
# The export test commits Odoo's test cursor (a savepoint in test mode), so that the HTTP request sees its data.
# pylint: disable=invalid-commit
import datetime
import email.utils
import importlib.util
import json
import os
import re
import statistics
from unittest import mock

import pytz
import xlrd
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree
from werkzeug.test import Client
from werkzeug.wrappers import BaseResponse

import odoo.http
from odoo import fields
from odoo.exceptions import AccessError
from odoo.tools.safe_eval import safe_eval

from ..services import metrics
from .common import ChannelCase, make_email, reply_to

SANTIAGO = pytz.timezone('America/Santiago')
MIGRATION = os.path.join(os.path.dirname(__file__), '..', 'migrations', '11.0.1.1.0', 'post-migrate.py')
HOUR = 3600


def santiago(year, month, day, hour, minute=0):
    """A local time in Santiago, as the naive UTC string Odoo stores."""
    local = SANTIAGO.localize(datetime.datetime(year, month, day, hour, minute))
    return fields.Datetime.to_string(local.astimezone(pytz.utc).replace(tzinfo=None))


def dated(message, at):
    """``message`` sent at ``at`` (UTC string): its Date header, as a customer's mail client writes it."""
    moment = pytz.utc.localize(fields.Datetime.from_string(at))
    message.replace_header('Date', email.utils.format_datetime(moment))
    return message


class MetricsCase(ChannelCase):
    """An account with a response time of 24 hours and office hours in Santiago (Monday to Friday, 9 to 18)."""

    def setUp(self):
        super().setUp()
        calendar = self.env['resource.calendar'].create({
            'name': 'Santiago 9-18', 'tz': 'America/Santiago',
            'attendance_ids': [(0, 0, {'name': str(day), 'dayofweek': str(day), 'hour_from': 9, 'hour_to': 18})
                               for day in range(5)]})
        self.account.write({'sla_time': 24, 'sla_unit': 'hours', 'resource_calendar_id': calendar.id})

    def write_in(self, at, message=None, **values):
        message = dated(message or make_email(**values), at)
        return self.receive(message, at), message

    def reply(self, original, at, **values):
        return self.receive(dated(reply_to(original, **values), at), at)

    def cron(self, at):
        with self.moment(at):
            self.env['helpdesk.ticket']._cron_sla(now=at)

    def values(self, ticket):
        ticket.invalidate_cache()
        return {name: ticket[name] for name in metrics.FIELDS}

    # three conversations, each with its exact figures ---------------------------------------------------

    def weekend(self):
        """Friday 16:00 in Santiago; late on Saturday at 16:00 (the scheduled action runs at 17:00); answered
        on Monday at 10:30."""
        ticket, _first = self.write_in(santiago(2026, 3, 6, 16), subject='Pedido 100: llegó roto')
        self.cron(santiago(2026, 3, 7, 17))
        self.answer(ticket, santiago(2026, 3, 9, 10, 30))
        return ticket

    def reopened(self):
        """Monday 9:00, answered at 10:00 and closed at 10:30; the customer writes again on Tuesday at 12:00
        (the ticket reopens), answered at 13:00, closed at 14:00."""
        ticket, first = self.write_in(santiago(2026, 3, 9, 9), subject='Cambio de dirección')
        self.answer(ticket, santiago(2026, 3, 9, 10))
        self.close(ticket, santiago(2026, 3, 9, 10, 30))
        self.reply(first, santiago(2026, 3, 10, 12), body='Me falta el número de departamento.')
        self.assertFalse(ticket.stage_id.closed)
        self.answer(ticket, santiago(2026, 3, 10, 13))
        self.close(ticket, santiago(2026, 3, 10, 14))
        return ticket

    def answered_late(self):
        """Tuesday 9:00 and 10:00, two emails; answered on Wednesday at 11:00, 26 hours later, before the
        scheduled action marked it late."""
        ticket, first = self.write_in(santiago(2026, 3, 10, 9), subject='Factura duplicada')
        self.reply(first, santiago(2026, 3, 10, 10), body='¿Alguien me puede ayudar?')
        self.answer(ticket, santiago(2026, 3, 11, 11))
        return ticket

    def still_late(self):
        """Wednesday 15:00, never answered; late since Thursday 15:00 (marked at 15:05)."""
        ticket, _first = self.write_in(santiago(2026, 3, 11, 15), subject='Sin respuesta')
        self.cron(santiago(2026, 3, 12, 15, 5))
        return ticket


class TestMetrics(MetricsCase):

    def test_first_response_across_a_weekend_in_working_hours_late_on_saturday(self):
        ticket = self.weekend()
        self.assertEqual(self.values(ticket), {
            'first_customer_email_date': santiago(2026, 3, 6, 16), 'first_answer_date': santiago(2026, 3, 9, 10, 30),
            'first_response_time': 66 * HOUR + 1800,  # Friday 16:00 to Monday 10:30
            'first_response_work_time': 3 * HOUR + 1800,  # Friday 16:00-18:00 and Monday 9:00-10:30
            'first_answer_sla': 'missed', 'customer_email_count': 1, 'agent_answer_count': 1, 'time_to_close': 0,
            'reopen_count': 0, 'late_count': 1,
            'late_time': 42 * HOUR + 1800,  # from Saturday 16:00 (not when the scheduled action noticed)
        })

    def test_the_tickets_form_shows_the_durations_in_hours(self):
        ticket = self.weekend()
        self.assertEqual((ticket.first_response_hours, ticket.first_response_work_hours, ticket.late_hours,
                          ticket.time_to_close_hours), (66.5, 3.5, 42.5, 0.0))
        form = self.env['helpdesk.ticket'].fields_view_get(view_type='form')
        page = etree.fromstring(form['arch']).xpath("//page[@name='postcenter_service']")
        self.assertEqual(len(page), 1)
        self.assertEqual(page[0].xpath(".//field[@name='first_response_hours']/@widget"), ['float_time'])
        self.assertIn("email_account_id", page[0].get('modifiers'))  # hidden on tickets of other channels

    def test_a_reopened_ticket(self):
        ticket = self.reopened()
        self.assertEqual(self.values(ticket), {
            'first_customer_email_date': santiago(2026, 3, 9, 9), 'first_answer_date': santiago(2026, 3, 9, 10),
            'first_response_time': HOUR, 'first_response_work_time': HOUR, 'first_answer_sla': 'met',
            'customer_email_count': 2, 'agent_answer_count': 2,
            'time_to_close': 29 * HOUR,  # to the last close
            'reopen_count': 1, 'late_count': 0, 'late_time': 0,
        })

    def test_answered_late_before_the_scheduled_action_noticed(self):
        ticket = self.answered_late()
        self.assertEqual(self.values(ticket), {
            'first_customer_email_date': santiago(2026, 3, 10, 9), 'first_answer_date': santiago(2026, 3, 11, 11),
            'first_response_time': 26 * HOUR, 'first_response_work_time': 11 * HOUR,  # 9 h Tuesday, 2 h Wednesday
            'first_answer_sla': 'missed', 'customer_email_count': 2, 'agent_answer_count': 1, 'time_to_close': 0,
            'reopen_count': 0, 'late_count': 1, 'late_time': 2 * HOUR,
        })

    def test_notes_and_automatic_replies_are_not_answers(self):
        ticket, _first = self.write_in(santiago(2026, 3, 9, 9))
        self.answer(ticket, santiago(2026, 3, 9, 9, 30), text='Revisar con bodega', subtype='mail.mt_note')
        self.assertEqual((ticket.agent_answer_count, ticket.first_answer_date), (0, False))

    def test_no_schedule_counts_every_hour_and_no_response_time_decides_nothing(self):
        self.account.write({'resource_calendar_id': False, 'sla_time': 0})
        ticket, _first = self.write_in(santiago(2026, 3, 6, 16))
        self.answer(ticket, santiago(2026, 3, 9, 10, 30))
        self.assertEqual((ticket.first_response_time, ticket.first_response_work_time, ticket.first_answer_sla),
                         (66 * HOUR + 1800, 66 * HOUR + 1800, False))

    def test_a_new_response_time_that_makes_a_waiting_ticket_late_counts_it_late(self):
        ticket, _first = self.write_in(santiago(2026, 3, 9, 9))
        with self.moment(santiago(2026, 3, 9, 12)):
            self.account.write({'sla_time': 2})
        self.assertTrue(ticket.is_late)
        self.assertEqual((ticket.late_count, ticket.first_answer_sla), (1, 'missed'))

    def test_the_backfill_from_the_chatter_equals_the_live_metrics(self):
        tickets = [self.weekend(), self.reopened(), self.answered_late(), self.still_late()]
        # closed by the auto-close past another module's check (by SQL, no tracking in the chatter)
        forced, _first = self.write_in(santiago(2026, 3, 11, 16))
        with self.moment(santiago(2026, 3, 11, 17)):
            done = self.env.ref('helpdesk_mgmt.helpdesk_ticket_stage_done')
            forced._postcenter_force_close(done, santiago(2026, 3, 11, 17), 'prueba')
        tickets.append(forced)
        live = [self.values(ticket) for ticket in tickets]
        self.assertEqual(live[4]['time_to_close'], HOUR)

        self.env.cr.execute('UPDATE helpdesk_ticket SET %s WHERE id IN %%s' % ', '.join(
            '%s = %s' % (name, '0' if name in metrics.COUNTERS else 'NULL') for name in metrics.FIELDS),
            (tuple(ticket.id for ticket in tickets),))
        spec = importlib.util.spec_from_file_location('postcenter_email_post_migrate_11_0_1_1_0', MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        with freeze_time(santiago(2026, 3, 12, 16)):
            migration.migrate(self.env.cr, '11.0.1.0.0')
        self.assertEqual([self.values(ticket) for ticket in tickets], live)

    def test_the_backfill_goes_in_batches(self):
        tickets = [self.write_in(santiago(2026, 3, 9, 9, minute))[0] for minute in range(5)]
        self.env.cr.execute('UPDATE helpdesk_ticket SET customer_email_count = 0 WHERE id IN %s',
                            (tuple(t.id for t in tickets),))
        statements = []
        execute = type(self.env.cr).execute

        def counting(cr, query, params=None, log_exceptions=None):
            statements.append(query)
            return execute(cr, query, params)
        with mock.patch.object(type(self.env.cr), 'execute', counting):
            count = self.env['helpdesk.ticket']._postcenter_backfill_metrics(batch_size=2)
        self.assertGreaterEqual(count, 5)
        self.assertEqual(sum(1 for query in statements if query.startswith('UPDATE helpdesk_ticket t SET')),
                         (count + 1) // 2)
        self.assertEqual([t.customer_email_count for t in tickets], [1] * 5)


class TestReport(MetricsCase):

    def setUp(self):
        super().setUp()
        self.tickets = [self.weekend(), self.reopened(), self.answered_late(), self.still_late()]
        self.Report = self.env['postcenter.email.report']

    def test_the_report_measures(self):
        measures = ['first_response_median', 'first_response_hours', 'first_response_work_median', 'sla_within',
                    'late_ticket_count', 'ticket_count', 'reopen_count', 'customer_email_count', 'late_hours']
        [total] = self.Report.read_group([('email_account_id', '=', self.account.id)], measures, [])
        self.assertEqual(total['ticket_count'], 4)
        self.assertAlmostEqual(total['first_response_median'], 26.0)  # of 66.5, 1 and 26 hours
        self.assertAlmostEqual(total['first_response_hours'], (66.5 + 1 + 26) / 3)
        self.assertAlmostEqual(total['first_response_work_median'], 3.5)  # of 3.5, 1 and 11 working hours
        self.assertAlmostEqual(total['sla_within'], 25.0)  # one met of four decided (one still late)
        self.assertEqual(total['late_ticket_count'], 3)
        self.assertEqual((total['reopen_count'], total['customer_email_count']), (1, 6))
        self.assertAlmostEqual(total['late_hours'], 42.5 + 2)  # the open wait counts when it ends

    def test_by_week_the_median_of_each_week(self):
        groups = self.Report.read_group([('email_account_id', '=', self.account.id)],
                                        ['first_customer_email_date', 'first_response_median', 'sla_within'],
                                        ['first_customer_email_date:week'])
        self.assertEqual([(g['first_customer_email_date_count'], g['first_response_median'], g['sla_within'])
                          for g in groups], [(1, 66.5, 0.0), (3, 13.5, 100.0 / 3)])

    def test_by_account_team_agent_and_channel(self):
        for groupby in ('email_account_id', 'team_id', 'user_id', 'channel_id'):
            groups = self.Report.read_group([], [groupby, 'ticket_count', 'first_response_median'], [groupby])
            self.assertEqual(sum(group['ticket_count'] for group in groups), 4, groupby)

    def test_filters_of_the_search_view(self):
        """The domains the search view's filters give, evaluated as the web client does, on a day just after."""
        view = self.env.ref('postcenter_email.view_postcenter_email_report_search')
        filters = {node.get('name'): node.get('domain') for node in etree.fromstring(view.arch).iter('filter')}
        today = datetime.date(2026, 3, 12)  # a Thursday
        context = {'context_today': lambda: today, 'relativedelta': relativedelta, 'datetime': datetime}

        def names(name):
            found = self.Report.search(safe_eval(filters[name], context))
            return sorted(found.mapped('ticket_id.name'))
        self.assertEqual(names('this_week'), ['Cambio de dirección', 'Factura duplicada', 'Sin respuesta'])
        self.assertEqual(len(names('last_30_days')), 4)
        self.assertEqual(names('late'), ['Factura duplicada', 'Pedido 100: llegó roto', 'Sin respuesta'])
        self.tickets[3].is_important = True
        self.assertEqual(names('important'), ['Sin respuesta'])

    def test_access_team_leaders_see_their_teams_agents_see_nothing(self):
        other_team = self.env['helpdesk.ticket.team'].create({'name': 'Ventas'})
        self.tickets[0].team_id = other_team
        users = self.env['res.users'].with_context(no_reset_password=True)
        leader = users.create({'name': 'Lucía Líder', 'login': 'pc_leader', 'groups_id': [
            (6, 0, [self.env.ref('postcenter_email.group_postcenter_email_team_leader').id])]})
        manager = users.create({'name': 'Mario Manager', 'login': 'pc_report_manager', 'groups_id': [
            (6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        self.team.user_ids |= leader
        self.assertTrue(manager.has_group('postcenter_email.group_postcenter_email_team_leader'))

        def seen(user):
            return self.Report.sudo(user).search_count([])
        self.assertEqual(seen(leader), 3)
        self.assertEqual(seen(manager), 4)
        with self.assertRaises(AccessError):
            seen(self.agent)  # a helpdesk user without reports
        menu = self.env.ref('postcenter_email.menu_postcenter_email_report')
        Menu = self.env['ir.ui.menu']
        self.assertIn(menu.id, Menu.sudo(leader)._visible_menu_ids())
        self.assertNotIn(menu.id, Menu.sudo(self.agent)._visible_menu_ids())
        stock = self.env.ref('helpdesk_mgmt.helpdesk_ticket_reporting_analysis')
        self.assertNotIn(stock.id, Menu.sudo(leader)._visible_menu_ids(), "helpdesk_mgmt's report stays managers'")

    def test_the_median_is_one_aggregate_in_the_grouped_query(self):
        queries = []
        execute = type(self.env.cr).execute

        def recording(cr, query, params=None, log_exceptions=None):
            queries.append(query)
            return execute(cr, query, params)
        with mock.patch.object(type(self.env.cr), 'execute', recording):
            self.Report.read_group([], ['email_account_id', 'first_response_median', 'sla_within'],
                                   ['email_account_id'])
        grouped = [query for query in queries if 'postcenter_median(' in query]
        self.assertEqual(len(grouped), 1)
        self.assertIn('GROUP BY', grouped[0])


class TestDashboard(MetricsCase):

    def test_every_figure_and_the_tickets_it_opens(self):
        weekend, reopened, late_answer, still_late = (self.weekend(), self.reopened(), self.answered_late(),
                                                      self.still_late())
        waiting, _first = self.write_in(santiago(2026, 3, 12, 9), subject='Ya respondido')
        self.answer(waiting, santiago(2026, 3, 12, 9, 20))
        closed_now, _first = self.write_in(santiago(2026, 3, 12, 10), subject='Cerrado hoy')
        self.close(closed_now, santiago(2026, 3, 12, 11))
        expected = {
            'open': {weekend, late_answer, still_late, waiting},
            'late': {still_late},
            'waiting': {weekend, late_answer, waiting},  # answered, open: waiting for the customer
            'closed_today': {closed_now},
            'answered_7d': {weekend, reopened, late_answer, waiting},  # received since Thursday the 5th, 17:00
            'sla_7d': {weekend, reopened, late_answer, still_late, waiting},
        }
        fields_of = {'open': 'dashboard_open_count', 'late': 'dashboard_late_count',
                     'waiting': 'dashboard_waiting_count', 'closed_today': 'dashboard_closed_today_count',
                     'answered_7d': 'dashboard_answered_count', 'sla_7d': 'dashboard_sla_count'}
        users = self.env['res.users'].with_context(no_reset_password=True)
        manager = users.create({'name': 'Mario Manager', 'login': 'pc_dash_manager', 'tz': 'America/Santiago',
                                'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        with freeze_time(santiago(2026, 3, 12, 17)):
            account = self.account.sudo(manager)
            account.invalidate_cache()
            for figure, tickets in expected.items():
                self.assertEqual(account[fields_of[figure]], len(tickets), figure)
                action = account.with_context(postcenter_figure=figure).action_dashboard_tickets()
                self.assertEqual(action['res_model'], 'helpdesk.ticket')
                opened = self.env['helpdesk.ticket'].sudo(manager).search(action['domain'])
                self.assertEqual(set(opened), {t.sudo(manager) for t in tickets}, figure)
            self.assertAlmostEqual(account.dashboard_response_median, statistics.median([66.5, 1, 26, 20 / 60.0]))
            self.assertAlmostEqual(account.dashboard_sla_within, 100.0 * 2 / 5)  # reopened and waiting met
            self.assertEqual(account.state, self.account.state)

    def test_a_team_leader_counts_and_opens_their_teams_tickets_only(self):
        weekend, reopened = self.weekend(), self.reopened()
        weekend.team_id = self.env['helpdesk.ticket.team'].create({'name': 'Ventas'})
        leader = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Lucía Líder', 'login': 'pc_dash_leader',
            'groups_id': [(6, 0, [self.env.ref('postcenter_email.group_postcenter_email_team_leader').id])]})
        self.team.user_ids |= leader
        with freeze_time(santiago(2026, 3, 12, 17)):
            account = self.account.sudo(leader)
            self.assertEqual(account.dashboard_answered_count, 1)
            action = account.with_context(postcenter_figure='answered_7d').action_dashboard_tickets()
            self.assertEqual(self.env['helpdesk.ticket'].sudo(leader).search(action['domain']).ids, reopened.ids)
        with self.assertRaises(AccessError):
            self.account.sudo(self.agent).read(['dashboard_open_count'])


class TestPivotExport(MetricsCase):
    """The pivot's figures go to a spreadsheet through Odoo's own export (``/web/pivot/export_xls``)."""

    def test_the_median_and_the_share_within_the_sla_reach_the_spreadsheet(self):
        self.weekend(), self.reopened(), self.answered_late()
        other = self.env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@example.com', 'connection_type': 'forward', 'sla_time': 1,
            'sla_unit': 'hours'})
        self.account = other
        self.write_in(santiago(2026, 3, 9, 9), subject='Otra cuenta')
        self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Marta Exporta', 'login': 'pc_export', 'password': 'exporta-1234',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        self.cr.commit()
        measures = ['ticket_count', 'first_response_median', 'sla_within']
        # what the pivot asks for: the rows' groups and the total, with its measures
        groups = self.env['postcenter.email.report'].read_group(
            [], ['email_account_id'] + measures, ['email_account_id'], lazy=False)
        [total] = self.env['postcenter.email.report'].read_group([], measures, [], lazy=False)
        labels = self.env['postcenter.email.report'].fields_get(measures)
        table = {
            'title': 'Email Service', 'nbr_measures': len(measures),
            'headers': [[{'title': 'Total', 'width': len(measures), 'height': 1, 'expanded': True}]],
            'measure_row': [{'measure': labels[name]['string'], 'is_bold': False} for name in measures],
            'rows': [{'title': 'Total', 'indent': 0, 'values': [{'value': total[name] or 0} for name in measures]}] + [
                {'title': group['email_account_id'][1], 'indent': 1,
                 'values': [{'value': group[name] or 0} for name in measures]} for group in groups],
        }
        client = Client(odoo.http.root, BaseResponse)
        remote = {'REMOTE_ADDR': '127.0.0.1'}
        credentials = {'db': self.cr.dbname, 'login': 'pc_export', 'password': 'exporta-1234'}
        login = client.post('/web/session/authenticate', content_type='application/json', environ_base=remote,
                            data=json.dumps({'jsonrpc': '2.0', 'params': credentials}))
        self.assertEqual(json.loads(login.data.decode()).get('result', {}).get('username'), 'pc_export', login.data)
        page = client.get('/web', environ_base=remote).data.decode()
        csrf = re.search(r'csrf_token: "([0-9a-f]+o[0-9]*)"', page).group(1)  # as the web client sends it
        response = client.post('/web/pivot/export_xls', environ_base=remote,
                               data={'data': json.dumps(table), 'token': 'x', 'csrf_token': csrf})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers['Content-Type'], 'application/vnd.ms-excel')
        sheet = xlrd.open_workbook(file_contents=response.data).sheet_by_index(0)
        cells = {sheet.cell_value(row, 0).strip(): sheet.row_values(row)[1:] for row in range(2, sheet.nrows)}
        self.assertEqual([sheet.cell_value(1, column) for column in (1, 2, 3)],
                         ['Tickets', 'First Response, Median (h)', '% Within SLA'])
        self.assertEqual(cells['Soporte'][0], 3)
        self.assertAlmostEqual(cells['Soporte'][1], 26.0)  # the median of 66.5, 1 and 26 hours
        self.assertAlmostEqual(cells['Soporte'][2], 100.0 / 3)
        self.assertEqual(cells['Ventas'], [1, 0, 0])  # not answered yet, not late yet (its moment is frozen)
        self.assertEqual(cells['Total'][0], 4)
