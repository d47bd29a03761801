"""11.0.1.1.0: the service metrics of the Email-channel tickets that existed before them, from their chatter."""
import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    """Replay the chatter of every Email-channel ticket into its metrics, in batches."""
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    count = env['helpdesk.ticket']._postcenter_backfill_metrics()
    _logger.info('Service metrics computed from the chatter of %d Email-channel tickets', count)
