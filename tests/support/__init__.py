"""Real servers for the tests (Dovecot, a private PostgreSQL cluster) and Odoo code in child processes
(odoo_process.py). Standard library only, so both venvs can use it."""
