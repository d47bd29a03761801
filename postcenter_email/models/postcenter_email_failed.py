import base64
import logging

from odoo import _, api, fields, models

from ..services import rfc822

_logger = logging.getLogger(__name__)


class PostcenterEmailFailed(models.Model):
    """An email that could not be turned into a ticket, kept raw so an admin can retry or discard it."""

    _name = 'postcenter.email.failed'
    _description = 'Failed Email'
    _order = 'id desc'

    account_id = fields.Many2one('postcenter.email.account', required=True, ondelete='cascade',
                                 readonly=True, index=True)
    raw = fields.Binary(string='Original Email', attachment=True, readonly=True)
    raw_filename = fields.Char(default='email.eml', readonly=True)
    message_key = fields.Char(string='Message-ID', readonly=True)
    sender = fields.Char(string='From', readonly=True)
    subject = fields.Char(readonly=True)
    error = fields.Text(string='Why It Failed', readonly=True)
    attempts = fields.Integer(readonly=True, default=1)
    state = fields.Selection([('failed', 'Failed'), ('done', 'Retried'), ('discarded', 'Discarded')],
                             default='failed', required=True, readonly=True, index=True)
    ticket_id = fields.Many2one('helpdesk.ticket', readonly=True, ondelete='set null')

    @api.model
    def _describe(self, error):
        """The error in a sentence (the traceback goes to the log, not here)."""
        text = str(error).strip() or type(error).__name__
        return _('The email could not be turned into a ticket: %s') % text

    @api.model
    def _keep(self, account, raw, error):
        """Keep ``raw`` as a failed message of ``account``; never raises (a broken email must not stop a fetch)."""
        summary = {'message_key': False, 'sender': False, 'subject': False}
        try:
            message = rfc822.load(raw)
            summary = {'message_key': rfc822.message_key(message, raw),
                       'sender': rfc822.header_text(message, 'From')[:500],
                       'subject': rfc822.header_text(message, 'Subject')[:500]}
        except Exception:
            _logger.info('Failed email of account %s has unreadable headers', account.id)
        return self.create(dict(summary, account_id=account.id, raw=base64.b64encode(raw),
                                error=self._describe(error)))

    @api.multi
    def action_retry(self):
        """Run each kept email through the pipeline again."""
        self.check_access_rights('write')
        self.check_access_rule('write')
        Receipt = self.env['postcenter.email.receipt'].sudo()
        for failed in self.sudo().filtered(lambda record: record.state == 'failed'):
            raw = base64.b64decode(failed.raw)
            try:
                with self.env.cr.savepoint():
                    receipt = Receipt._ingest(failed.account_id, raw)
            except Exception as error:
                _logger.exception('Retrying failed email %s failed again', failed.id)
                self.env.clear()
                failed.write({'error': self._describe(error), 'attempts': failed.attempts + 1})
            else:
                failed.write({'state': 'done', 'ticket_id': receipt.ticket_id.id, 'error': False,
                              'attempts': failed.attempts + 1})
        return True

    @api.multi
    def action_discard(self):
        self.write({'state': 'discarded'})
        return True
