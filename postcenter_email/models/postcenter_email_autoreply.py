import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..services import autoreply

_logger = logging.getLogger(__name__)

KIND_LABELS = [
    ('new_customer', 'To new customers'),
    ('no_agent', 'When no agent is available'),
    ('out_of_hours', 'Out of working hours'),
    ('ticket_created', 'On ticket creation'),
    ('manual_close', 'On manual close'),
    ('auto_close', 'On automatic close'),
]


class PostcenterEmailAutoreply(models.Model):
    """One of the six automatic replies of an account: switched on or off, with up to three texts.

    Every account has all six (created with it); ``active`` is the switch, so only the
    switched-on replies are found by a plain search.
    """

    _name = 'postcenter.email.autoreply'
    _description = 'Automatic Reply'
    _order = 'account_id, sequence, id'

    account_id = fields.Many2one('postcenter.email.account', required=True, ondelete='cascade',
                                 index=True)
    kind = fields.Selection(KIND_LABELS, string='Automatic Reply', required=True, readonly=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(string='On', default=False,
                            help='Switch this automatic reply on or off.')
    description = fields.Char(compute='_compute_description', string='When')
    text_1 = fields.Text()
    text_2 = fields.Text()
    text_3 = fields.Text()

    _sql_constraints = [
        ('kind_unique', 'unique(account_id, kind)', 'An account has one automatic reply of each kind.'),
    ]

    @api.depends('kind')
    def _compute_description(self):
        explained = {
            'new_customer': _('Sent to customers who write to this account for the first time.'),
            'no_agent': _("Sent when no agent of the account's team is available to take the ticket."),
            'out_of_hours': _("Sent when the email arrives outside the account's working hours."),
            'ticket_created': _('Sent as the first answer when a ticket is created.'),
            'manual_close': _('Sent as the last message of the ticket when an agent closes it.'),
            'auto_close': _('Sent as the last message of the ticket when it is closed for lack of an answer from '
                            'the customer.'),
        }
        for reply in self:
            reply.description = explained.get(reply.kind, '')

    @api.constrains('text_1', 'text_2', 'text_3', 'active')
    def _check_texts(self):
        for reply in self:
            for name in ('text_1', 'text_2', 'text_3'):
                unknown = autoreply.unknown_placeholders(reply[name])
                if unknown:
                    raise ValidationError(_(
                        '%(field)s of "%(reply)s": {{%(name)s}} is not a placeholder. Use {{customer_name}}, '
                        '{{ticket_number}} or {{account_name}}.') % {
                            'field': reply._fields[name].get_description(self.env)['string'],
                            'reply': reply._kind_label(), 'name': unknown[0]})
            if reply.active and not autoreply.filled(reply._texts()):
                raise ValidationError(_('"%s" is switched on but has no text: write at least one text, or switch it '
                                        'off.') % reply._kind_label())
            if reply.active and reply.kind == 'out_of_hours' and not reply.account_id.resource_calendar_id:
                raise ValidationError(_('"%(reply)s" needs working hours: choose the Working Hours of the account '
                                        '"%(account)s" first.') % {'reply': reply._kind_label(),
                                                                   'account': reply.account_id.name})

    @api.multi
    def _kind_label(self):
        return dict(self._fields['kind']._description_selection(self.env))[self.kind]

    @api.multi
    def _texts(self):
        return [self.text_1, self.text_2, self.text_3]

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    @api.model
    def _on_received(self, account, ticket, message, opened, now, reason):
        """Answer an incoming email of ``ticket`` with the replies that apply (one email at most); ``reason``
        says why the email looks machine-written (``automatic.automatic_reason``), if it does."""
        replies = {kind: self.browse(reply_id) for kind, reply_id in self._postcenter_switched_on(account).items()}
        if not replies:
            return []
        recipient = ticket.partner_id.email
        if reason or not autoreply.is_private(message, [account.email, account.forward_address]) or \
                not autoreply.is_replyable_address(recipient):
            _logger.debug('Ticket %s: no automatic reply (%s)', ticket.id, reason or 'not private or no address')
            return []
        Log = self.env['postcenter.email.autoreply.log']
        kinds = autoreply.applicable(
            set(replies), Log._kinds_sent(ticket), opened,
            new_customer=lambda: not ticket._postcenter_customer_known(),
            out_of_hours=lambda: account._is_out_of_hours(now),
            no_agent=lambda: not account._agent_available(now))
        if not kinds or not Log._within_rate(account, recipient, now):
            return []
        kinds = [kind for kind in kinds if Log._claim(ticket, kind, recipient, now)]
        if kinds:
            ticket._postcenter_send_automatic([replies[kind]._text_for(ticket) for kind in kinds])
        return kinds

    @api.model
    def _postcenter_switched_on(self, account):
        """``{kind: reply id}`` of the account's replies to an incoming email that are switched on. Plain SQL: this
        runs for every email received, and usually finds nothing switched on. Looked up once per fetched batch
        (``postcenter_settings``): a batch is one transaction, which sees the same rows all along, and storing
        emails never changes these replies."""
        def read_switched_on():
            self.env.cr.execute("""
                SELECT id, kind FROM postcenter_email_autoreply WHERE account_id = %s AND active AND kind IN %s""",
                                (account.id, autoreply.ON_MESSAGE))
            return {kind: reply_id for reply_id, kind in self.env.cr.fetchall()}
        return account._once_per_batch(('postcenter.email.autoreply', account.id), read_switched_on)

    @api.model
    def _on_closed(self, ticket, kind, now):
        """The closing reply ``kind`` (manual or automatic), sent just before ``ticket`` closes; True if sent."""
        account = ticket.email_account_id
        reply = self.search([('account_id', '=', account.id), ('kind', '=', kind)], limit=1)
        recipient = ticket.partner_id.email
        if not reply or not autoreply.is_replyable_address(recipient) or ticket._postcenter_opened_by_machine():
            return False
        Log = self.env['postcenter.email.autoreply.log']
        if not Log._within_rate(account, recipient, now):
            return False
        Log._claim(ticket, kind, recipient, now)
        ticket._postcenter_send_automatic([reply._text_for(ticket)])
        return True

    @api.multi
    def _text_for(self, ticket):
        """One of the reply's texts (at random among those written), as HTML with its placeholders filled."""
        self.ensure_one()
        text = autoreply.choose(self._texts())
        return autoreply.render(text or '', {
            'customer_name': ticket._postcenter_customer_name(),
            'ticket_number': ticket.number or '',
            'account_name': self.account_id.name or '',
        })
