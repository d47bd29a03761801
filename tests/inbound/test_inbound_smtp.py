"""Forwarding accounts receive over real SMTP: the inbound server stores before it says 250."""
import smtplib
import ssl
import subprocess
import uuid
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.support.ports import free_port

from .conftest import DB, MAX_SIZE


def customer_email(subject='Consulta por reenvío', body='Hola, escribo a ventas.', sender='Ana <ana@cliente.example>',
                   to='ventas@acme.example'):
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = sender, to, subject
    message['Message-ID'] = '<%s@cliente.example>' % uuid.uuid4().hex
    message.set_content(body)
    return message


def tickets(odoo_env_factory, account_id, subject=None):
    with odoo_env_factory() as env:
        domain = [('email_account_id', '=', account_id)] + ([('name', '=', subject)] if subject else [])
        return env['helpdesk.ticket'].search(domain).mapped(lambda t: (t.name, t.partner_email))


def send(inbound, message, rcpt, starttls=None):
    with smtplib.SMTP(*inbound, timeout=30) as client:
        if starttls:
            client.starttls(context=starttls)
        return client.send_message(message, to_addrs=[rcpt])


def test_mail_to_the_forwarding_address_becomes_a_ticket(inbound, account, odoo_env_factory):
    message = customer_email(subject='Por SMTP plano')
    assert send(inbound, message, account['forward_address']) == {}
    assert tickets(odoo_env_factory, account['id'], 'Por SMTP plano') == [('Por SMTP plano', 'ana@cliente.example')]


def test_starttls(inbound, account, odoo_env_factory, certificate):
    context = ssl.create_default_context(cafile=certificate[0])
    context.check_hostname = False
    send(inbound, customer_email(subject='Con STARTTLS'), account['forward_address'], starttls=context)
    assert tickets(odoo_env_factory, account['id'], 'Con STARTTLS')


def test_long_lines_are_accepted(inbound, account, odoo_env_factory):
    message = customer_email(subject='Línea larga')
    message.set_content('<p>' + 'palabra ' * 1500 + '</p>', subtype='html', cte='8bit')
    assert send(inbound, message, account['forward_address']) == {}
    assert tickets(odoo_env_factory, account['id'], 'Línea larga')


def test_unknown_recipient_is_refused_at_rcpt(inbound, account):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send(inbound, customer_email(), 'nobody-%s@helpdesk.example.org' % uuid.uuid4().hex[:6])
    code, text = list(caught.value.recipients.values())[0]
    assert code == 550


def test_oversized_message_is_refused_with_552(inbound, account):
    message = customer_email(body='x' * (MAX_SIZE + 1000))
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as caught:
        send(inbound, message, account['forward_address'])
    assert caught.value.smtp_code == 552


def test_same_message_forwarded_twice_is_one_ticket(inbound, account, odoo_env_factory):
    message = customer_email(subject='Reenviado dos veces')
    send(inbound, message, account['forward_address'])
    send(inbound, message, account['forward_address'])
    assert len(tickets(odoo_env_factory, account['id'], 'Reenviado dos veces')) == 1


def test_forwarded_by_the_customers_provider(inbound, account, odoo_env_factory):
    """A provider relay (aiosmtpd) forwards what reaches ventas@acme.example, as Gmail does."""
    class Forwarder:
        async def handle_DATA(self, server, session, envelope):
            with smtplib.SMTP(*inbound, timeout=30) as client:
                client.sendmail('ventas@acme.example', [account['forward_address']], envelope.original_content)
            return '250 OK'
    relay = Controller(Forwarder(), hostname='127.0.0.1', port=free_port())
    relay.start()
    try:
        with smtplib.SMTP('127.0.0.1', relay.port, timeout=30) as client:
            client.send_message(customer_email(subject='Vía el proveedor', sender='Luis <luis@cliente.example>'))
    finally:
        relay.stop()
    assert tickets(odoo_env_factory, account['id'], 'Vía el proveedor') == [
        ('Vía el proveedor', 'luis@cliente.example')]


def test_database_down_gives_a_temporary_error_then_the_mail_is_accepted(inbound, account, odoo_env_factory):
    def psql(sql):
        subprocess.run(['psql', '-d', 'postgres', '-qtAc', sql], check=True, capture_output=True)
    message = customer_email(subject='Mientras Odoo no está')
    psql('ALTER DATABASE %s ALLOW_CONNECTIONS false' % DB)
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s'" % DB)
    try:
        with pytest.raises((smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)) as caught:
            send(inbound, message, account['forward_address'])
        codes = [code for code, _text in caught.value.recipients.values()] \
            if isinstance(caught.value, smtplib.SMTPRecipientsRefused) else [caught.value.smtp_code]
        assert all(400 <= code < 500 for code in codes), codes
    finally:
        psql('ALTER DATABASE %s ALLOW_CONNECTIONS true' % DB)
    assert send(inbound, message, account['forward_address']) == {}
    assert len(tickets(odoo_env_factory, account['id'], 'Mientras Odoo no está')) == 1


GMAIL_CONFIRMATION = """From: Gmail Team <forwarding-noreply@google.com>
To: {forward}
Subject: (#771204958) Confirmación de reenvío de Gmail - Recibir correo de ventas@acme.example
Message-ID: <gmail-confirm-771204958@google.com>
Content-Type: text/plain; charset="UTF-8"

ventas@acme.example ha solicitado reenviar automáticamente el correo a tu dirección {forward}.

Código de confirmación: 771204958

Para permitir que ventas@acme.example reenvíe automáticamente correo a tu dirección, haz clic en el
siguiente vínculo para confirmar la solicitud:

https://mail-settings.google.com/mail/vf-%5BANGjdJ8%5D-c2VjcmV0

"""


def test_gmail_confirmation_over_smtp(inbound, account, odoo_env_factory):
    raw = GMAIL_CONFIRMATION.format(forward=account['forward_address']).encode('utf-8')
    with smtplib.SMTP(*inbound, timeout=30) as client:
        client.sendmail('forwarding-noreply@google.com', [account['forward_address']], raw)
    with odoo_env_factory() as env:
        record = env['postcenter.email.account'].browse(account['id'])
        assert record.gmail_confirmation_code == '771204958'
        assert record.gmail_confirmation_url == 'https://mail-settings.google.com/mail/vf-%5BANGjdJ8%5D-c2VjcmV0'
    assert tickets(odoo_env_factory, account['id'], 'Confirmación de reenvío de Gmail') == [] and \
        any('Gmail' in name for name, _email in tickets(odoo_env_factory, account['id']))


def test_validation_over_smtp(inbound, odoo_env_factory):
    with odoo_env_factory() as env:
        account = env['postcenter.email.account'].create({
            'name': 'Validación', 'email': 'validar@acme.example', 'connection_type': 'forward'})
        account.action_validate()
        mail = env['mail.mail'].search([('email_to', '=', 'validar@acme.example')], limit=1)
        raw = env['ir.mail_server'].build_email(
            mail.email_from, [account.forward_address], mail.subject, mail.body_html, subtype='html',
            message_id=mail.message_id, headers=eval(mail.headers)).as_bytes()  # noqa: S307 (our own repr)
        account_id, forward = account.id, account.forward_address
        assert account.state == 'validating'
    with smtplib.SMTP(*inbound, timeout=30) as client:
        client.sendmail('validar@acme.example', [forward], raw)
    with odoo_env_factory() as env:
        assert env['postcenter.email.account'].browse(account_id).state == 'connected'
    assert tickets(odoo_env_factory, account_id) == []
