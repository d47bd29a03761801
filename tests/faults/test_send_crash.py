"""An Odoo process killed while the mail server accepts a reply: the customer gets it once, never twice, and the
email is kept for a person to check."""
import datetime
import os
import signal
import threading

import pytest
from aiosmtpd.controller import Controller

from tests.support.ports import free_port


class KillingSink:
    """An SMTP server that keeps each message and, while accepting it, kills the process that is sending it."""

    def __init__(self):
        self.messages, self.victim, self.lock = [], None, threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.rcpt_tos, envelope.original_content or envelope.content))
            if self.victim:
                os.kill(self.victim, signal.SIGKILL)  # the server has the message; the sender never commits
                self.victim = None
        return '250 OK'


@pytest.fixture
def sink(odoo_env):
    handler = KillingSink()
    controller = Controller(handler, hostname='127.0.0.1', port=free_port())
    controller.start()
    with odoo_env() as env:
        server = env['ir.mail_server'].create({'name': 'killing sink', 'smtp_host': '127.0.0.1',
                                               'smtp_port': controller.port, 'sequence': 0})
        server_id = server.id
    yield handler
    controller.stop()
    with odoo_env() as env:
        env['ir.mail_server'].browse(server_id).unlink()


def queued_reply(env):
    """An Email-channel ticket and an agent's reply to its customer, waiting in Odoo's mail queue."""
    account = env['postcenter.email.account'].create({
        'name': 'Soporte', 'email': 'soporte-envio@tienda.example', 'connection_type': 'forward'})
    customer = env['res.partner'].create({'name': 'Carla Cliente', 'email': 'carla@cliente.example'})
    ticket = env['helpdesk.ticket'].create({'name': 'Pedido', 'description': 'x', 'email_account_id': account.id,
                                            'partner_id': customer.id})
    ticket.message_subscribe(partner_ids=customer.ids)
    ticket.with_context(mail_notify_force_send=False).message_post(
        body='Su pedido sale hoy.', message_type='comment', subtype='mail.mt_comment',
        author_id=env.ref('base.user_root').partner_id.id)
    return ticket.id


def test_a_process_killed_while_the_server_accepts_never_sends_twice(odoo_env, sink, child):
    with odoo_env() as env:
        ticket_id = queued_reply(env)
    sender = child().start('process_email_queue')
    sink.victim = sender.pid
    assert sender.wait()['returncode'] == -signal.SIGKILL
    assert child().run('process_email_queue')['ok'], 'the next run of the mail queue'
    assert child().run('process_email_queue')['ok']
    to_customer = [raw for rcpt, raw in sink.messages if rcpt == ['carla@cliente.example']]
    assert len(to_customer) == 1, 'the customer got the reply once'
    with odoo_env() as env:
        mail = env['mail.mail'].search([('model', '=', 'helpdesk.ticket'), ('res_id', '=', ticket_id)])
        assert (mail.state, bool(mail.postcenter_sending_since)) == ('exception', True)
        assert 'interrupted' in mail.failure_reason
        later = datetime.datetime.utcnow() + datetime.timedelta(minutes=11)
        assert env['mail.mail']._cron_interrupted(now=later.strftime('%Y-%m-%d %H:%M:%S')) == mail
        ticket = env['helpdesk.ticket'].browse(ticket_id)
        notes = ticket.message_ids.filtered(lambda message: 'was interrupted' in (message.body or ''))
        assert len(notes) == 1 and ticket.failed_mail_count == 1
