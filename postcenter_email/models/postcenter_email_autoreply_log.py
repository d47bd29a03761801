import datetime

from odoo import api, fields, models

from ..services import autoreply
from .postcenter_email_autoreply import KIND_LABELS


class PostcenterEmailAutoreplyLog(models.Model):
    """Every automatic reply sent: what makes them fire once per ticket, and the hourly limit per address."""

    _name = 'postcenter.email.autoreply.log'
    _description = 'Automatic Reply Sent'
    _order = 'id desc'

    account_id = fields.Many2one('postcenter.email.account', required=True, ondelete='cascade',
                                 readonly=True)
    ticket_id = fields.Many2one('helpdesk.ticket', required=True, ondelete='cascade',
                                readonly=True, index=True)
    kind = fields.Selection(KIND_LABELS, string='Automatic Reply', required=True, readonly=True)
    recipient = fields.Char(string='Sent To', required=True, readonly=True)
    date = fields.Datetime(string='Sent On', required=True, readonly=True)

    @api.model_cr
    def init(self):
        """Once per ticket for the replies to incoming mail, even when two emails arrive at once; and the
        look-up of the hourly limit."""
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS postcenter_email_autoreply_log_once_idx
                ON postcenter_email_autoreply_log (ticket_id, kind) WHERE kind IN %s""", (autoreply.ON_MESSAGE,))
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS postcenter_email_autoreply_log_rate_idx
                ON postcenter_email_autoreply_log (account_id, recipient, date)""")

    @api.model
    def _kinds_sent(self, ticket):
        self.env.cr.execute('SELECT DISTINCT kind FROM postcenter_email_autoreply_log WHERE ticket_id = %s',
                            (ticket.id,))
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _claim(self, ticket, kind, recipient, now):
        """Record that ``kind`` goes to ``ticket``'s customer; False when a reply to incoming mail of that kind
        was recorded for the ticket before (the unique index decides, whatever runs in parallel)."""
        self.env.cr.execute("""
            INSERT INTO postcenter_email_autoreply_log
                (account_id, ticket_id, kind, recipient, date, create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s, (now() at time zone 'UTC'), (now() at time zone 'UTC'))
            ON CONFLICT DO NOTHING
            RETURNING id""", (ticket.email_account_id.id, ticket.id, kind, recipient.lower(), now, self.env.uid,
                              self.env.uid))
        return bool(self.env.cr.fetchone())

    @api.model
    def _within_rate(self, account, recipient, now):
        """Whether ``recipient`` may get one more automatic reply from ``account`` in the hour before ``now``."""
        since = fields.Datetime.to_string(fields.Datetime.from_string(now) - datetime.timedelta(hours=1))
        self.env.cr.execute("""
            SELECT count(DISTINCT (ticket_id, date)) FROM postcenter_email_autoreply_log
             WHERE account_id = %s AND recipient = %s AND date > %s""", (account.id, recipient.lower(), since))
        return autoreply.within_rate(self.env.cr.fetchone()[0], account.autoreply_hourly_limit)
