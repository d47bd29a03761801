"""The six automatic replies, end to end: received mail, the clock frozen, what really leaves by SMTP."""
import datetime

import pytz

from odoo import fields
from odoo.exceptions import ValidationError

from odoo.addons.postcenter_email.services import autoreply as autoreply_service

from .common import ChannelCase, make_email, reply_to

MONDAY = '2026-03-02 15:00:00'  # 12:00 in Santiago (UTC-3 in March)
SANTIAGO = pytz.timezone('America/Santiago')


def at(base, **delta):
    return fields.Datetime.to_string(fields.Datetime.from_string(base) + datetime.timedelta(**delta))


def santiago(year, month, day, hour, minute=0):
    """A local time in Santiago, as the naive UTC string Odoo stores."""
    local = SANTIAGO.localize(datetime.datetime(year, month, day, hour, minute))
    return fields.Datetime.to_string(local.astimezone(pytz.utc).replace(tzinfo=None))


class AutoreplyCase(ChannelCase):

    def switch_on(self, kind, *texts):
        reply = self.account.autoreply_ids.filtered(lambda r: r.kind == kind)
        values = dict(zip(('text_1', 'text_2', 'text_3'), texts), active=True)
        reply.write(values)
        return reply

    def to_customer(self, sent, address='ana@cliente.cl'):
        """What went to ``address`` alone (Odoo repeats an address in RCPT TO when the name is the address)."""
        return [message for _from, rcpt, message in sent if set(rcpt) == {address}]


class TestTicketCreated(AutoreplyCase):

    def test_sent_to_the_customer_alone_with_every_placeholder_and_auto_submitted(self):
        self.switch_on('ticket_created', 'Hola {{customer_name}}: tu solicitud {{ticket_number}} llegó a '
                                         '{{account_name}}.')
        ticket = self.receive(make_email(subject='Mi pedido'), MONDAY)
        sent = self.sent()
        replies = self.to_customer(sent)
        self.assertEqual(len(replies), 1)
        self.assertEqual(len(sent), 1, 'nobody but the customer gets it')
        message = replies[0]
        body = message.get_body(('html',)).get_content()
        self.assertIn('Hola Ana Pérez: tu solicitud %s llegó a Soporte.' % ticket.number, body)
        self.assertEqual(message['Auto-Submitted'], 'auto-replied')
        self.assertEqual(message['Subject'], 'Re: Mi pedido')
        self.assertEqual(message['Reply-To'].addresses[0].addr_spec, self.account.email)
        self.assertTrue(message['In-Reply-To'])
        logged = ticket.message_ids.filtered(lambda m: m.subtype_id == self.env.ref('postcenter_email.mt_autoreply'))
        self.assertEqual(len(logged), 1, 'the reply is in the chatter')

    def test_once_per_ticket(self):
        self.switch_on('ticket_created', 'Recibido.')
        first = make_email()
        ticket = self.receive(first, MONDAY)
        self.receive(reply_to(first), at(MONDAY, minutes=5))
        self.assertEqual(len(self.to_customer(self.sent())), 1)
        # the admin sees it on the account
        self.assertEqual(self.account.autoreply_sent_count, 1)
        action = self.account.action_view_autoreplies_sent()
        sent = self.env[action['res_model']].search(action['domain'])
        self.assertEqual((sent.ticket_id, sent.kind, sent.recipient, sent.date),
                         (ticket, 'ticket_created', 'ana@cliente.cl', MONDAY))

    def test_switched_off_sends_nothing(self):
        self.receive(make_email(), MONDAY)
        self.assertEqual(self.to_customer(self.sent()), [])

    def test_not_an_agent_answer(self):
        self.switch_on('ticket_created', 'Recibido.')
        self.account.write({'sla_time': 1, 'sla_unit': 'hours', 'autoclose_enabled': True, 'autoclose_time': 1})
        ticket = self.receive(make_email(), MONDAY)
        self.assertEqual(ticket.sla_deadline, at(MONDAY, hours=1))
        self.assertFalse(ticket.autoclose_deadline)


class TestPrivateOnly(AutoreplyCase):

    def test_account_only_in_cc_or_a_mailing_list_gets_no_reply(self):
        self.switch_on('ticket_created', 'Recibido.')
        self.receive(make_email(to='ventas@otra.example', headers={'Cc': self.account.email}), MONDAY)
        self.receive(make_email(to=self.account.email, headers={'List-Id': '<clientes.lists.example>'}), MONDAY)
        self.assertEqual(len(self.tickets()), 2)
        self.assertEqual(self.to_customer(self.sent()), [])

    def test_every_machine_mail_header_stops_it(self):
        self.switch_on('ticket_created', 'Recibido.')
        cases = [{'Auto-Submitted': 'auto-replied'}, {'Auto-Submitted': 'auto-generated'},
                 {'Precedence': 'bulk'}, {'Precedence': 'list'}, {'Precedence': 'junk'},
                 {'List-Id': '<x.lists.example>'}]
        for headers in cases:
            self.receive(make_email(subject=str(headers), headers=headers), MONDAY)
        self.receive(make_email(sender='Tienda <no-reply@tienda.example>'), MONDAY)
        self.assertEqual(len(self.tickets()), len(cases) + 1, 'machine mail still opens tickets')
        self.assertEqual(self.sent(), [])

    def test_auto_submitted_no_is_a_person(self):
        self.switch_on('ticket_created', 'Recibido.')
        self.receive(make_email(headers={'Auto-Submitted': 'no'}), MONDAY)
        self.assertEqual(len(self.to_customer(self.sent())), 1)


class TestNewCustomer(AutoreplyCase):

    def test_first_contact_only_and_one_email_with_both_texts(self):
        self.switch_on('new_customer', 'Bienvenida, {{customer_name}}.')
        self.switch_on('ticket_created', 'Abrimos {{ticket_number}}.')
        first = self.receive(make_email(subject='Primera vez'), MONDAY)
        replies = self.to_customer(self.sent())
        self.assertEqual(len(replies), 1, 'one email carries every reply that applies')
        body = replies[0].get_body(('html',)).get_content()
        self.assertLess(body.index('Bienvenida, Ana Pérez.'), body.index('Abrimos %s.' % first.number))

        second = self.receive(make_email(subject='Otra consulta'), at(MONDAY, hours=2))
        body = self.to_customer(self.sent())[0].get_body(('html',)).get_content()
        self.assertIn('Abrimos %s.' % second.number, body)
        self.assertNotIn('Bienvenida', body)

        self.receive(make_email(sender='Luis <luis@otro.cl>'), at(MONDAY, hours=3))
        self.assertEqual(len(self.to_customer(self.sent(), 'luis@otro.cl')), 1)


class TestOutOfHours(AutoreplyCase):

    def setUp(self):
        super().setUp()
        self.calendar = self.env['resource.calendar'].create({
            'name': 'Santiago 9-18', 'tz': 'America/Santiago',
            'attendance_ids': [(0, 0, {'name': str(day), 'dayofweek': str(day), 'hour_from': 9, 'hour_to': 18})
                               for day in range(5)],
        })
        self.account.resource_calendar_id = self.calendar

    def test_working_hours_in_the_schedule_time_zone(self):
        out = self.account._is_out_of_hours
        self.assertFalse(out(santiago(2026, 3, 2, 9, 0)), 'Monday 09:00 in Santiago')
        self.assertFalse(out(santiago(2026, 3, 4, 17, 59)), 'Wednesday 17:59')
        self.assertTrue(out(santiago(2026, 3, 2, 8, 59)), 'Monday 08:59')
        self.assertTrue(out(santiago(2026, 3, 4, 18, 0)), 'Wednesday 18:00')
        # Friday 23:30 in Santiago is already Saturday in UTC; Saturday and Sunday noon are out too
        self.assertEqual(santiago(2026, 3, 6, 23, 30), '2026-03-07 02:30:00')
        self.assertTrue(out(santiago(2026, 3, 6, 23, 30)))
        self.assertTrue(out(santiago(2026, 3, 7, 12, 0)))
        self.assertTrue(out(santiago(2026, 3, 8, 12, 0)))
        # 15:00 UTC on Friday is noon in Santiago but 15:00 would be working time in UTC as well; 21:30 UTC on a
        # Wednesday is 18:30 in Santiago (out) although it is inside 9-18 nowhere in UTC terms: the zone decides
        self.assertTrue(out('2026-03-04 21:30:00'))
        self.assertFalse(out('2026-03-04 20:30:00'))

    def test_a_schedule_across_midnight(self):
        self.calendar.attendance_ids.unlink()
        self.calendar.write({'attendance_ids': [
            (0, 0, {'name': 'noche', 'dayofweek': '0', 'hour_from': 22, 'hour_to': 24}),
            (0, 0, {'name': 'madrugada', 'dayofweek': '1', 'hour_from': 0, 'hour_to': 6}),
        ]})
        out = self.account._is_out_of_hours
        self.assertFalse(out(santiago(2026, 3, 2, 23, 30)), 'Monday 23:30')
        self.assertFalse(out(santiago(2026, 3, 3, 1, 0)), 'Tuesday 01:00, after midnight')
        self.assertTrue(out(santiago(2026, 3, 3, 6, 30)), 'Tuesday 06:30')
        self.assertTrue(out(santiago(2026, 3, 2, 21, 59)), 'Monday 21:59')

    def test_public_holidays_are_out_of_hours(self):
        self.env['resource.calendar.leaves'].create({
            'name': 'Feriado', 'calendar_id': self.calendar.id, 'tz': 'America/Santiago',
            'date_from': santiago(2026, 3, 3, 0, 0), 'date_to': santiago(2026, 3, 3, 23, 59)})
        self.assertTrue(self.account._is_out_of_hours(santiago(2026, 3, 3, 11, 0)))
        self.assertFalse(self.account._is_out_of_hours(santiago(2026, 3, 4, 11, 0)))

    def test_reply_once_per_ticket_only_out_of_hours(self):
        self.switch_on('out_of_hours', 'Estamos fuera de horario; respondemos a partir de las 9:00.')
        first = make_email()
        ticket = self.receive(first, santiago(2026, 3, 2, 11, 0))
        self.assertEqual(self.to_customer(self.sent()), [])
        self.receive(reply_to(first), santiago(2026, 3, 6, 23, 30))
        self.assertEqual(len(self.to_customer(self.sent())), 1)
        self.receive(reply_to(first, body='otra vez'), santiago(2026, 3, 7, 10, 0))
        self.assertEqual(self.to_customer(self.sent()), [], 'once per ticket')
        self.assertEqual(len(self.emails(ticket)), 3)

    def test_needs_a_schedule(self):
        self.switch_on('out_of_hours', 'Fuera de horario')
        with self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
            self.account.resource_calendar_id = False
        self.assertIn('Working Hours', caught.exception.name)
        self.account.autoreply_ids.filtered(lambda r: r.kind == 'out_of_hours').active = False
        self.account.resource_calendar_id = False
        with self.assertRaises(ValidationError) as caught:
            self.switch_on('out_of_hours', 'Fuera de horario')
        self.assertIn('Working Hours', caught.exception.name)


class TestNoAgent(AutoreplyCase):

    def online(self, user, now, idle_seconds=10):
        self.env['bus.presence'].search([('user_id', '=', user.id)]).unlink()
        moment = fields.Datetime.from_string(now)
        self.env['bus.presence'].create({
            'user_id': user.id, 'last_poll': at(now, seconds=-10),
            'last_presence': fields.Datetime.to_string(moment - datetime.timedelta(seconds=idle_seconds))})

    def test_who_is_available(self):
        available = self.account._agent_available
        self.assertFalse(available(MONDAY), 'the only agent is not connected')
        self.online(self.agent, MONDAY)
        self.assertTrue(available(MONDAY))
        self.assertFalse(available(at(MONDAY, minutes=5)), 'no poll for five minutes: disconnected')
        self.online(self.agent, MONDAY, idle_seconds=3600)
        self.assertFalse(available(MONDAY), 'idle for an hour: away')
        self.online(self.agent, MONDAY)
        self.agent.sudo(self.agent).write({'helpdesk_available': False})  # from their own preferences
        self.assertFalse(available(MONDAY), 'switched themselves off')
        self.agent.helpdesk_available = True
        self.agent.active = False
        self.assertFalse(available(MONDAY), 'archived')
        self.agent.active = True
        self.team.user_ids = False
        self.assertFalse(available(MONDAY), 'a team with nobody')

    def test_reply_when_nobody_can_take_it(self):
        self.switch_on('no_agent', 'Ahora no hay ejecutivos disponibles; te responderemos pronto.')
        self.online(self.agent, MONDAY)
        first = make_email()
        self.receive(first, MONDAY)
        self.assertEqual(self.to_customer(self.sent()), [])
        self.receive(reply_to(first), at(MONDAY, hours=2))
        replies = self.to_customer(self.sent())
        self.assertEqual(len(replies), 1)
        self.assertIn('no hay ejecutivos', replies[0].get_body(('html',)).get_content())


class TestAgentByEmail(AutoreplyCase):

    def test_an_agent_writing_by_email_is_an_answer_not_a_customer(self):
        self.switch_on('no_agent', 'No hay ejecutivos disponibles.')
        self.account.write({'sla_time': 1, 'sla_unit': 'hours'})
        first = make_email(subject='Consulta')
        ticket = self.receive(first, MONDAY)
        self.sent()
        answer = reply_to(first, body='Hola Ana, ya está resuelto.', sender='Andrea <andrea@empresa.example>')
        self.receive(answer, at(MONDAY, minutes=30))
        self.assertFalse(ticket.sla_deadline)
        self.assertEqual(ticket.agent_waiting_since, at(MONDAY, minutes=30))
        self.assertEqual(self.to_customer(self.sent()), [], 'no automatic reply because an agent wrote')


class TestClosingReplies(AutoreplyCase):

    def setUp(self):
        super().setUp()
        self.manager = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Marta Jefa', 'login': 'pc_close_manager', 'email': 'marta@empresa.example',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_manager').id])]})
        self.first = make_email(subject='Cambio de dirección')
        self.ticket = self.receive(self.first, MONDAY)

    def test_manual_close_once_per_closing_before_the_close(self):
        self.switch_on('manual_close', 'Cerramos {{ticket_number}}. ¡Gracias!')
        self.switch_on('auto_close', 'Cerrado por falta de respuesta.')
        self.ticket.message_subscribe(partner_ids=self.agent.partner_id.ids)
        self.close(self.ticket, at(MONDAY, hours=1), user=self.manager)
        sent = self.sent()
        replies = self.to_customer(sent)
        self.assertEqual(len(replies), 1)
        self.assertNotIn(['andrea@empresa.example'], [rcpt for _f, rcpt, message in sent
                                                      if 'Cerramos' in message.get_body(('html',)).get_content()],
                         'the agent following the ticket is not sent the reply')
        self.assertIn('Cerramos %s.' % self.ticket.number, replies[0].get_body(('html',)).get_content())
        self.assertEqual(replies[0]['Auto-Submitted'], 'auto-replied')
        subtype = self.env.ref('postcenter_email.mt_autoreply')
        reply = self.ticket.message_ids.filtered(lambda m: m.subtype_id == subtype)
        stage_change = self.ticket.message_ids.filtered(lambda m: m.tracking_value_ids)
        self.assertLess(reply.id, stage_change[0].id, 'the reply is the last message before the close')
        # moving between closed stages is not another closing
        self.close(self.ticket, at(MONDAY, hours=2))
        self.ticket.write({'stage_id': self.env.ref('helpdesk_mgmt.helpdesk_ticket_stage_cancelled').id})
        self.assertEqual(self.to_customer(self.sent()), [])
        # reopened by the customer and closed again: a second closing, a second reply
        self.receive(reply_to(self.first), at(MONDAY, hours=3))
        self.close(self.ticket, at(MONDAY, hours=4))
        self.assertEqual(len(self.to_customer(self.sent())), 1)

    def test_auto_close_sends_its_own_reply(self):
        self.switch_on('manual_close', 'Cierre manual.')
        self.switch_on('auto_close', 'Cerramos {{ticket_number}} porque no tuvimos respuesta.')
        self.account.write({'autoclose_enabled': True, 'autoclose_time': 1, 'autoclose_unit': 'hours'})
        self.answer(self.ticket, at(MONDAY, minutes=5))
        self.sent()
        with self.moment(at(MONDAY, hours=2)):
            self.env['helpdesk.ticket']._cron_autoclose(now=at(MONDAY, hours=2))
        replies = self.to_customer(self.sent())
        self.assertEqual(len(replies), 1)
        body = replies[0].get_body(('html',)).get_content()
        self.assertIn('Cerramos %s porque no tuvimos respuesta.' % self.ticket.number, body)

    def test_no_closing_reply_to_a_machine(self):
        self.switch_on('manual_close', 'Cierre.')
        ticket = self.receive(make_email(sender='Alertas <alertas@monitor.example>',
                                         headers={'Auto-Submitted': 'auto-generated'}), MONDAY)
        self.close(ticket, at(MONDAY, hours=1))
        bodies = [message.get_body(('html',)).get_content()
                  for message in self.to_customer(self.sent(), 'alertas@monitor.example')]
        self.assertFalse([body for body in bodies if 'Cierre.' in body])


class TestRandomTextsAndLimits(AutoreplyCase):

    def test_one_of_the_texts_at_random(self):
        self.switch_on('ticket_created', 'Texto uno.', 'Texto dos.', 'Texto tres.')
        autoreply_service._random.seed(20261130)
        for n in range(12):
            self.receive(make_email(sender='c%d@cliente.cl' % n), at(MONDAY, minutes=n))
        bodies = [message.get_body(('html',)).get_content() for _f, _r, message in self.sent()]
        chosen = {text for text in ('Texto uno.', 'Texto dos.', 'Texto tres.') for body in bodies if text in body}
        self.assertEqual(len(bodies), 12)
        self.assertEqual(chosen, {'Texto uno.', 'Texto dos.', 'Texto tres.'})
        self.assertTrue(all(sum(text in body for text in chosen) == 1 for body in bodies))

    def test_hourly_limit_per_address(self):
        self.switch_on('ticket_created', 'Recibido {{ticket_number}}.')
        self.account.autoreply_hourly_limit = 2
        for minute in (0, 10, 20):
            self.receive(make_email(subject='n %d' % minute), at(MONDAY, minutes=minute))
        self.assertEqual(len(self.to_customer(self.sent())), 2)
        self.receive(make_email(sender='luis@otro.cl'), at(MONDAY, minutes=30))
        self.assertEqual(len(self.to_customer(self.sent(), 'luis@otro.cl')), 1, 'other addresses are not limited')
        self.receive(make_email(subject='una hora después'), at(MONDAY, hours=1, minutes=1))
        self.assertEqual(len(self.to_customer(self.sent())), 1)


class TestSettings(AutoreplyCase):

    def test_every_account_has_the_six_switched_off(self):
        replies = self.account.autoreply_ids
        self.assertEqual(sorted(replies.mapped('kind')), sorted(autoreply_service.KINDS))
        self.assertFalse(any(replies.mapped('active')))

    def test_texts_are_validated_with_the_field_named(self):
        reply = self.account.autoreply_ids.filtered(lambda r: r.kind == 'ticket_created')
        with self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
            reply.write({'text_2': 'Hola {{nombre}}'})
        self.assertIn('Text 2', caught.exception.name)
        self.assertIn('{{nombre}}', caught.exception.name)
        with self.assertRaises(ValidationError) as caught, self.env.cr.savepoint():
            reply.write({'active': True})
        self.assertIn('no text', caught.exception.name)
