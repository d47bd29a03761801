#!/usr/bin/env python3
"""Hand one email from an MTA to Odoo's mail gateway: the addon's ``mailgate`` module, run from this repository.

    postcenter_mailgate.py --url http://localhost:8069 --database DB --user admin --password PASSWORD < message.eml

It needs only the Python standard library, so an MTA can run it with any Python 3.
"""
import os
import runpy

if __name__ == '__main__':
    runpy.run_path(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'postcenter_email',
                                'mailgate.py'), run_name='__main__')
