"""The inbound SMTP server of forwarding accounts, run from this repository (`make run`, the tests, the bench).

    .venv/bin/python scripts/inbound_smtp.py --database DB [--host 127.0.0.1] [--port 2525]
        [--max-size BYTES] [--tls-cert CERT.pem --tls-key KEY.pem]

The server itself is the addon's ``inbound_server`` module (installed with the addon:
``python -m odoo.addons.postcenter_email.inbound_server``); this runs it with the repository's addons
path and data folder.
"""
import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if __name__ == '__main__':
    sys.argv[1:1] = ['--addons-path=%s' % ROOT, '--data-dir=%s' % os.path.join(ROOT, '.data')]
    runpy.run_path(os.path.join(ROOT, 'postcenter_email', 'inbound_server.py'), run_name='__main__')
