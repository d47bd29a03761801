"""The demo mailbox of `make run`: a local Dovecot with sample customer mail, connected as an IMAP account.

    .venv/bin/python scripts/demo.py start DBNAME   start the mailbox, connect the demo account, fetch once
    .venv/bin/python scripts/demo.py stop           stop the mailbox
    .venv/bin/python scripts/demo.py send [--from ADDRESS] [--subject TEXT] [--body TEXT] [FILE.eml]
                                                    deliver one more email to the demo mailbox

The mailbox lives in .data/demo-mailbox (kept between runs) and listens on 127.0.0.1, plain IMAP on
port 10143 (POSTCENTER_DEMO_IMAP_PORT). Login demo@postcenter.example, password "demo": any IMAP
client can read or write it too. The sample mail is delivered once, the first time.
"""
import argparse
import email.utils
import os
import sys
from email.message import EmailMessage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('ODOO_PRELOAD_ADDONS', 'no')

import imapclient  # noqa: E402

from tests.support.dovecot import Dovecot  # noqa: E402

FOLDER = os.environ.get('POSTCENTER_DEMO_FOLDER') or os.path.join(ROOT, '.data', 'demo-mailbox')
USER, PASSWORD = 'demo@postcenter.example', 'demo'
PORT = int(os.environ.get('POSTCENTER_DEMO_IMAP_PORT', '10143'))
ACCOUNT_NAME = 'Demo Soporte'

SAMPLES = [
    ('Ana Pérez <ana.perez@cliente.example>', 'Mi pedido 10452 no ha llegado',
     'Hola,\n\nCompré el lunes y el seguimiento no se mueve desde hace tres días.\n¿Me pueden ayudar?\n\nAna'),
    ('Jorge Muñoz <jorge@empresa.example>', 'Reclamación: cobro duplicado',
     'Buenas tardes,\n\nEn mi tarjeta aparecen dos cargos por la misma compra. Es urgente.\n\nJorge Muñoz'),
    ('Formulario web <formularios@tienda.example>', 'Nuevo mensaje desde el sitio web',
     'Nombre: Carla Díaz\nEmail: carla.diaz@correo.example\nMensaje: ¿Tienen despacho a regiones?'),
    ('Luis Rojas <lrojas@correo.example>', 'Cambio de talla',
     'Hola, la polera me quedó chica. ¿Cómo hago el cambio por una talla M?\n\nGracias'),
    ('Marta Silva <marta@pyme.example>', 'Factura con RUT equivocado',
     'Estimados,\n\nLa factura 3321 salió con el RUT de otra empresa. ¿Pueden emitirla de nuevo?\n\nMarta'),
]


def mailbox():
    return Dovecot(users={USER: PASSWORD}, root=FOLDER)


def make_email(sender, subject, body):
    message = EmailMessage()
    message['From'] = sender
    message['To'] = 'Demo Soporte <%s>' % USER
    message['Subject'] = subject
    message['Date'] = email.utils.formatdate(localtime=True)
    message['Message-ID'] = email.utils.make_msgid(domain='demo.postcenter.example')
    message.set_content(body)
    return message.as_bytes()


def deliver(raw_messages):
    client = imapclient.IMAPClient('127.0.0.1', port=PORT, ssl=False, timeout=30)
    try:
        client.login(USER, PASSWORD)
        for raw in raw_messages:
            client.append('INBOX', raw)
    finally:
        client.logout()


def start(database):
    first_time = not os.path.isdir(os.path.join(FOLDER, 'mail'))
    os.makedirs(FOLDER, exist_ok=True)
    server = mailbox()
    server.imap_port, server.imaps_port = PORT, PORT + 1
    server.stop()
    server.start()
    if first_time:
        deliver([make_email(*sample) for sample in SAMPLES])
    connect_account(database)
    print('[demo] mailbox %s on 127.0.0.1:%d (password "%s"), account "%s" connected'
          % (USER, PORT, PASSWORD, ACCOUNT_NAME))


def connect_account(database):
    """Create or update the demo account, then fetch once so the board has tickets right away."""
    import odoo
    odoo.tools.config.parse_config(['--addons-path=%s' % ROOT, '--data-dir=%s' % os.path.join(ROOT, '.data'),
                                    '--db_host=', '--log-level=warn'])
    registry = odoo.registry(database)
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Account = env['postcenter.email.account'].with_context(active_test=False)
        values = {'name': ACCOUNT_NAME, 'email': USER, 'connection_type': 'imap', 'imap_host': '127.0.0.1',
                  'imap_port': PORT, 'imap_ssl': False, 'imap_user': USER, 'imap_password': PASSWORD,
                  'active': True}
        account = Account.search([('email', '=', USER)], limit=1)
        if account:
            account.write(values)
        else:
            Keyword = env['postcenter.email.keyword']
            Recipient = env['postcenter.email.recipient']
            values.update(
                important_keyword_ids=[(6, 0, [(Keyword.search([('name', '=', word)]) or Keyword.create(
                    {'name': word})).id for word in ('urgente', 'reclamación')])],
                contact_form_ids=[(6, 0, [(Recipient.search([('name', '=', 'formularios@tienda.example')]) or
                                           Recipient.create({'name': 'formularios@tienda.example'})).id])])
            account = Account.create(values)
        cr.commit()
        account._fetch_imap()


def stop():
    mailbox().stop()


def send(args):
    if args.file:
        with open(args.file, 'rb') as handle:
            raw = handle.read()
    else:
        raw = make_email(args.sender, args.subject, args.body)
    deliver([raw])
    print('[demo] delivered; it becomes a ticket at the next fetch (every minute, or "Fetch Now").')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    commands = parser.add_subparsers(dest='command')
    starting = commands.add_parser('start')
    starting.add_argument('database')
    commands.add_parser('stop')
    sending = commands.add_parser('send')
    sending.add_argument('--from', dest='sender', default='Cliente de Prueba <prueba@cliente.example>')
    sending.add_argument('--subject', default='Consulta de prueba')
    sending.add_argument('--body', default='Hola, esta es una consulta de prueba.')
    sending.add_argument('file', nargs='?')
    args = parser.parse_args()
    if args.command == 'start':
        start(args.database)
    elif args.command == 'stop':
        stop()
    elif args.command == 'send':
        send(args)
    else:
        parser.print_help()


if __name__ == '__main__':
    main()
