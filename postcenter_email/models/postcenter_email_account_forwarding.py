"""Forwarding accounts: their forwarding address, the mail that reaches it (inbound SMTP server, Odoo's mail
gateway), Gmail's confirmation and the validation round trip."""
# The account model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited

import datetime
from urllib.parse import urlparse

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..services import forwarding


class PostcenterEmailAccount(models.Model):
    """Forwarding address, forwarded mail and validation of an email account."""

    _inherit = 'postcenter.email.account'

    # ------------------------------------------------------------------
    # Forwarding address
    # ------------------------------------------------------------------

    @api.model
    def _forwarding_domain(self):
        """The alias (catchall) domain of this Odoo, else the host of its web address."""
        params = self.env['ir.config_parameter'].sudo()
        domain = params.get_param('mail.catchall.domain')
        if not domain:
            domain = urlparse(params.get_param('web.base.url') or '').hostname
        return (domain or 'localhost').lower()

    @api.model
    def _new_forward_address(self, email, token=None):
        """A forwarding address for ``email`` that no account uses yet."""
        domain = self._forwarding_domain()
        candidate = forwarding.forward_address(email, token or forwarding.new_token(), domain)
        while self.with_context(active_test=False).search_count([('forward_address', '=', candidate)]):
            candidate = forwarding.forward_address(email, forwarding.new_token(), domain)
        return candidate

    # ------------------------------------------------------------------
    # Receiving by forwarding (inbound SMTP server, Odoo's mail gateway)
    # ------------------------------------------------------------------

    @api.model
    def _forwarding_accounts(self, addresses):
        """Active forwarding accounts whose forwarding address is one of ``addresses``."""
        wanted = [address.strip().lower() for address in addresses if address]
        if not wanted:
            return self.browse()
        return self.search([('connection_type', '=', 'forward'), ('forward_address', 'in', wanted)])

    @api.model
    def _store_forwarded(self, addresses, raw):
        """The way in of the inbound SMTP server and of Odoo's mail gateway: the email is stored for the
        forwarding ``addresses`` in a transaction of its own, committed on return, while this cursor holds the
        locks of its conversation and customer (taken before that transaction starts, so that two emails of one
        conversation or one new customer, arriving at the same moment, make one ticket and one customer).
        Returns the ids of the tickets it went to. Its notification emails (agents' copies, automatic replies)
        leave once it is committed, as an IMAP batch's do (``_send_notifications``)."""
        accounts = self._forwarding_accounts(addresses)
        if not accounts:
            return []
        self.env['postcenter.email.receipt']._lock_conversations(accounts, [raw])
        notified = []
        with self._own_env() as env:
            tickets = self.with_env(env).with_context(postcenter_notify_later=notified)._receive_forwarded(
                addresses, raw).mapped('ticket_id').ids
        self._send_notifications(notified)
        return tickets

    @api.model
    def _receive_forwarded(self, addresses, raw):
        """Store one email sent to forwarding ``addresses``: the same pipeline as IMAP mail, once per account."""
        receipts = self.env['postcenter.email.receipt']
        for account in self._forwarding_accounts(addresses):
            receipts |= account._receive(raw)
        return receipts

    @api.multi
    def _note_gmail_confirmation(self, code, link):
        """Show Gmail's forwarding confirmation on the account, so the admin need not look for it."""
        self.write({'gmail_confirmation_code': code or False, 'gmail_confirmation_url': link or False,
                    'gmail_confirmation_date': fields.Datetime.now()})

    # ------------------------------------------------------------------
    # Validation of forwarding accounts
    # ------------------------------------------------------------------

    @api.multi
    def action_validate(self):
        """Send a validation email with a one-time token to the account's own address; when it comes back
        through the forwarding address, the account is connected."""
        minutes = self._param('validation_timeout_minutes', 10)
        now = fields.Datetime.from_string(fields.Datetime.now())
        for account in self:
            if account.connection_type != 'forward':
                raise UserError(_('"%s" is connected by IMAP: use Test Connection.') % account.name)
            token = forwarding.new_token(24)
            account.sudo().write({
                'validation_token': token, 'state': 'validating', 'last_error': False,
                'validation_deadline': fields.Datetime.to_string(now + datetime.timedelta(minutes=minutes)),
            })
            self.env['mail.mail'].sudo().create({
                'email_from': account._validation_sender(), 'email_to': account.email,
                'subject': _('Helpdesk forwarding validation %s') % token,
                'body_html': '<p>%s</p><p>%s</p>' % (
                    _('This message checks that mail sent to %s reaches the helpdesk through its forwarding '
                      'address. It needs no answer.') % account.email, token),
                'headers': repr({'X-Postcenter-Validation': token, 'Auto-Submitted': 'auto-generated'}),
                'auto_delete': False,
            }).send()
        return True

    @api.multi
    def _validation_sender(self):
        """The platform's no-reply address (system parameter ``postcenter_email.noreply_address``)."""
        address = self.env['ir.config_parameter'].sudo().get_param('postcenter_email.noreply_address')
        return address or 'noreply@%s' % self._forwarding_domain()

    @api.multi
    def _validation_received(self, token):
        """A validation email came back through the forwarding address: connected if it carries the token."""
        self.ensure_one()
        if self.state == 'validating' and token and token == self.sudo().validation_token:
            self.sudo().write({'state': 'connected', 'validation_token': False, 'validation_deadline': False,
                               'last_error': False, 'last_check_date': fields.Datetime.now()})
            return True
        return False

    @api.model
    def _cron_validation_timeout(self, now=None):
        """Scheduled action: validations that did not come back in time go back to "not validated", with why."""
        now = now or fields.Datetime.now()
        late = self.sudo().search([('state', '=', 'validating'), ('validation_deadline', '<', now)])
        late.write({
            'state': 'not_validated', 'validation_token': False, 'last_error_date': now,
            'last_error': _('The validation email did not come back through the forwarding address in time. '
                            'Check that your mail provider forwards incoming mail to the forwarding address '
                            '(for Gmail, that the forwarding was confirmed with its code and is switched on), '
                            'and that the message is not filtered as spam; then validate again.'),
        })
        return late
