"""What an account sends: through its own SMTP server (an ir.mail_server of its own, Test SMTP), with its
signature and email chain, and the notices of new tickets."""
# The account model is spread over files named after their concern, on purpose.
# pylint: disable=consider-merging-classes-inherited


from odoo import _, api, models, tools
from odoo.exceptions import UserError, ValidationError

from ..services import providers, signature, smtp
from ..services.exceptions import MailServerError


class PostcenterEmailAccount(models.Model):
    """Sending from an email account."""

    _inherit = 'postcenter.email.account'

    # ------------------------------------------------------------------
    # The account's own SMTP server
    # ------------------------------------------------------------------

    @api.constrains('send_method', 'smtp_host', 'smtp_port')
    def _check_smtp_settings(self):
        for account in self.filtered(lambda a: a.send_method == 'smtp'):
            if not (account.smtp_host or '').strip():
                raise ValidationError(_('SMTP Server: enter the server address, e.g. smtp.gmail.com.'))
            if not 1 <= account.smtp_port <= 65535:
                raise ValidationError(_('SMTP Port: %s is not a port number (1 to 65535; usually 465 or 587).')
                                      % account.smtp_port)

    @api.onchange('smtp_preset')
    def _onchange_smtp_preset(self):
        preset = providers.smtp_preset(self.smtp_preset)
        if preset:
            self.smtp_host, self.smtp_port, self.smtp_encryption = preset.host, preset.port, preset.encryption
            self.smtp_user = self.smtp_user or self.email

    @api.multi
    def _sync_mail_server(self):
        """Keep one ``ir.mail_server`` per account that sends by SMTP. It is archived from the start, so that
        Odoo never picks it as the default server for other mail; replies name it explicitly."""
        for account in self.sudo():
            if account.send_method != 'smtp':
                if account.mail_server_id:
                    server = account.mail_server_id
                    account.mail_server_id = False
                    server.unlink()
                continue
            values = {'name': _('Email account: %s') % account.name, 'smtp_host': account.smtp_host,
                      'smtp_port': account.smtp_port, 'smtp_encryption': account.smtp_encryption,
                      'smtp_user': account.smtp_user or False, 'smtp_pass': account.smtp_password or False,
                      'active': False, 'sequence': 1000}
            if account.mail_server_id:
                account.mail_server_id.write(values)
            else:
                account.mail_server_id = self.env['ir.mail_server'].sudo().create(values)

    @api.model
    def _describe_smtp_error(self, error, host, port):
        """Plain, translated words for an SMTP ``MailServerError``."""
        messages = {
            'dns': _('The SMTP server name "%(host)s" could not be found. Check the SMTP server address.'),
            'refused': _('The SMTP server %(host)s refused the connection on port %(port)s. Check the port and the '
                         'encryption (465: SSL/TLS from the start; 587: STARTTLS).'),
            'timeout': _('The SMTP server %(host)s did not answer in time on port %(port)s. Check the port and the '
                         'encryption (465: SSL/TLS from the start; 587: STARTTLS).'),
            'tls': _('The secure connection (SSL/TLS) with %(host)s failed. Check the encryption for this port '
                     '(465: SSL/TLS from the start; 587: STARTTLS). Server said: %(detail)s'),
            'auth': _('The SMTP server %(host)s rejected the user name or password (%(detail)s). Gmail needs an app '
                      'password (with 2-Step Verification) or the sign-in with Google; Microsoft 365 switches sending '
                      'with a password off: sign in with Microsoft.'),
        }
        template = messages.get(error.kind, _('The SMTP server %(host)s could not be used: %(detail)s'))
        return template % {'host': host, 'port': port, 'detail': error.detail}

    @api.multi
    def action_test_smtp(self):
        """Connect to the account's SMTP server, log in and quit; record the outcome in plain words."""
        for account in self:
            if account.send_method != 'smtp':
                raise UserError(_('"%s" sends through the platform\'s server: there is no SMTP server to test.')
                                % account.name)
            try:
                smtp.check_login(account.smtp_host, account.smtp_port, account.smtp_encryption, account.smtp_user,
                                 account.sudo().smtp_password, timeout=self._imap_timeout())
            except MailServerError as error:
                account.write({'smtp_state': 'error',
                               'smtp_last_error': self._describe_smtp_error(error, account.smtp_host,
                                                                            account.smtp_port)})
            else:
                account.write({'smtp_state': 'ok', 'smtp_last_error': False})
        return True

    # ------------------------------------------------------------------
    # Signature and email chain
    # ------------------------------------------------------------------

    @api.multi
    def action_insert_placeholder(self):
        """Signature buttons: add ``{{placeholder}}`` (from the button's context) at the end of the signature."""
        name = self.env.context.get('placeholder')
        if name not in signature.PLACEHOLDERS:
            raise UserError(_('Unknown placeholder.'))
        for account in self:
            current = account.signature or ''
            token = '{{%s}}' % name
            if current.endswith('</p>'):
                account.signature = current[:-4] + ' ' + token + '</p>'
            else:
                account.signature = '%s<p>%s</p>' % (current, token)
        return True

    @api.multi
    def _signature_for(self, user):
        """The account's signature filled with ``user``'s data ('' when the account has none)."""
        self.ensure_one()
        if not self.signature:
            return ''
        partner = user.partner_id
        first, last = signature.split_name(user.name)
        region = partner.country_id.code or user.company_id.country_id.code
        return signature.render(self.signature, {
            'agent_first_name': first, 'agent_last_name': last, 'agent_email': user.email or '',
            'agent_phone': signature.international_phone(partner.phone or partner.mobile or '', region),
            'agent_job_title': partner.function or '',
        })

    @api.multi
    def _email_chain(self, message, limit=10):
        """The last ``limit`` emails of ``message``'s ticket before it, quoted newest first (HTML)."""
        self.ensure_one()
        earlier = self.env['mail.message'].sudo().search([
            ('model', '=', message.model), ('res_id', '=', message.res_id), ('id', '<', message.id),
            ('message_type', 'in', ('email', 'comment')), ('subtype_id', '=', self.env.ref('mail.mt_comment').id),
        ], order='id desc', limit=limit)
        quoted = []
        for previous in earlier:
            author = previous.author_id.name or previous.email_from or ''
            header = _('On %(date)s, %(author)s wrote:') % {'date': previous.date, 'author': author}
            quoted.append('<p class="o_postcenter_chain_header">%s</p><blockquote>%s</blockquote>'
                          % (tools.html_escape(header), previous.body or ''))
        return ''.join(quoted)

    # ------------------------------------------------------------------
    # Notices of new tickets
    # ------------------------------------------------------------------

    @api.multi
    def _notify_new_ticket(self, ticket):
        """Queue a notice of ``ticket`` to the account's notification addresses, if its settings ask for one."""
        self.ensure_one()
        settings = self._ingest_settings()
        recipients = settings.notify_recipients
        if not recipients or settings.notify_mode == 'none' or \
                (settings.notify_mode == 'important' and not ticket.is_important):
            return
        template = self.env.ref('postcenter_email.mail_template_ticket_notice')
        template.send_mail(ticket.id, email_values={
            'email_to': ','.join(recipients), 'recipient_ids': [],
            'headers': repr({'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All'}),
        })
