"""Plain-Python core of postcenter_email: no ``odoo`` import here.

Models gather records, call these functions and write the results; the
decisions themselves are tested without a database.
"""
