"""The inbound SMTP server of forwarding accounts, for one database.

    python -m odoo.addons.postcenter_email.inbound_server --database DB [--config /etc/odoo/odoo.conf]
        [--host 127.0.0.1] [--port 2525] [--max-size BYTES] [--tls-cert CERT.pem --tls-key KEY.pem]
        [--addons-path PATHS] [--data-dir DIR]

It accepts mail only for the forwarding addresses of active forwarding accounts (others: 550 at RCPT time),
stores each message in Odoo through the same pipeline as IMAP mail and answers 250 only once it is committed;
if the database cannot be reached, the sender gets 451 and retries. Messages above --max-size (default
26214400, 25 MiB) get 552. With --tls-cert/--tls-key it offers STARTTLS. The database connection and the
addons path come from the Odoo configuration file (--config), as for the Odoo server itself.
"""
import argparse
import logging
import os
import signal
import ssl
import threading

_logger = logging.getLogger('postcenter_email.inbound_smtp')


def odoo_backend(database, config=None, addons_path=None, data_dir=None):
    """The two callables of ``InboundHandler``, on Odoo's registry of ``database``."""
    os.environ.setdefault('ODOO_PRELOAD_ADDONS', 'no')
    import odoo
    options = ['--log-level=warn']
    if config:
        options.append('--config=%s' % config)
    if addons_path:
        options.append('--addons-path=%s' % addons_path)
    if data_dir:
        options.append('--data-dir=%s' % data_dir)
    if not config:
        options.append('--db_host=')
    odoo.tools.config.parse_config(options)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--database', required=True)
    parser.add_argument('--config', help="Odoo's configuration file (database connection, addons path)")
    parser.add_argument('--addons-path')
    parser.add_argument('--data-dir')
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=2525)
    parser.add_argument('--max-size', type=int, default=25 * 1024 * 1024)
    parser.add_argument('--tls-cert')
    parser.add_argument('--tls-key')
    args = parser.parse_args(argv)
    knows, store = odoo_backend(args.database, args.config, args.addons_path, args.data_dir)  # sets up logging too
    logging.getLogger('mail.log').setLevel(logging.WARNING)  # aiosmtpd's per-command chatter
    _logger.setLevel(logging.INFO)
    # Also run as a script, where there is no package to be relative to.
    # pylint: disable-next=odoo-addons-relative-import
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
