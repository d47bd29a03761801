"""The inbound SMTP server of forwarding accounts, for one database.

    .venv/bin/python scripts/inbound_smtp.py --database DB [--host 127.0.0.1] [--port 2525]
        [--max-size BYTES] [--tls-cert CERT.pem --tls-key KEY.pem]

It accepts mail only for the forwarding addresses of active forwarding accounts (others: 550 at
RCPT time), stores each message in Odoo through the same pipeline as IMAP mail and answers 250
only once it is committed; if the database cannot be reached, the sender gets 451 and retries.
Messages above --max-size (default 26214400, 25 MiB) get 552. With --tls-cert/--tls-key it offers
STARTTLS. `make run` starts it on 127.0.0.1:2525 (POSTCENTER_SMTP_PORT).
"""
import argparse
import logging
import os
import signal
import ssl
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ.setdefault('ODOO_PRELOAD_ADDONS', 'no')


_logger = logging.getLogger('postcenter_email.inbound_smtp')


def odoo_backend(database):
    """The two callables of ``InboundHandler``, on Odoo's registry of ``database``."""
    import odoo
    odoo.tools.config.parse_config(['--addons-path=%s' % ROOT, '--data-dir=%s' % os.path.join(ROOT, '.data'),
                                    '--db_host=', '--log-level=warn'])
    odoo.modules.module.initialize_sys_path()

    def environment(cr):
        return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})

    def knows(address):
        with odoo.api.Environment.manage(), odoo.registry(database).cursor() as cr:
            return bool(environment(cr)['postcenter.email.account']._forwarding_accounts([address]))

    def store(addresses, raw):
        with odoo.api.Environment.manage(), odoo.registry(database).cursor() as cr:
            # stored and committed in a transaction of its own, while this cursor holds its conversation's locks
            environment(cr)['postcenter.email.account']._store_forwarded(addresses, raw)
        # only now may the sender hear 250

    return knows, store


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--database', required=True)
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=2525)
    parser.add_argument('--max-size', type=int, default=25 * 1024 * 1024)
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    args = parser.parse_args()
    knows, store = odoo_backend(args.database)  # also sets up Odoo's logging
    logging.getLogger('mail.log').setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    _logger.setLevel(logging.INFO)
    from odoo.addons.postcenter_email.services.inbound_smtp import InboundController, InboundHandler
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    controller = InboundController(InboundHandler(knows, store), hostname=args.host, port=args.port,
                            data_size_limit=args.max_size, tls_context=tls, require_starttls=False,
                            ident='postcenter_email inbound')
    controller.start()
    _logger.info('listening on %s:%d for database %s', args.host, args.port, args.database)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == '__main__':
    main()
