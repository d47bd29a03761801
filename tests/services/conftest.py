"""The services are plain Python: import them as the package ``services``, without Odoo."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'postcenter_email'))
