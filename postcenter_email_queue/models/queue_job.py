"""A failed job of the Email channel says in plain words what failed, on the job itself."""
from odoo import api, models
from odoo.tools import html_escape

from odoo.addons.queue_job.exception import FailedJobError

OURS = {('postcenter.email.account', '_job_fetch'), ('postcenter.email.account', '_job_send_notifications')}
MARK = FailedJobError.__name__ + ': '


class QueueJob(models.Model):
    """Plain words on the Email channel's failed jobs."""

    _inherit = 'queue.job'

    @api.multi
    def _message_failed_job(self):
        """queue_job posts this on a job that failed (and tells the queue managers); for the Email channel's jobs it
        is the plain words the job failed with (the last line of *Exception Information*) rather than queue_job's
        generic text."""
        self.ensure_one()
        if (self.model_name, self.method_name) in OURS and self.exc_info and MARK in self.exc_info:
            return html_escape(self.exc_info.rstrip().rsplit(MARK, 1)[1])
        return super()._message_failed_job()
