import smtplib

from odoo import api, fields, models

from ..services import smtp


class IrMailServer(models.Model):
    """The outgoing server of an email account that signs in with Google or Microsoft logs in with AUTH XOAUTH2."""

    _inherit = 'ir.mail_server'

    postcenter_oauth_account_id = fields.Many2one(
        'postcenter.email.account', string='OAuth Email Account', readonly=True, ondelete='set null',
        help='This server logs in with the access token of this email account (XOAUTH2), not a password.')

    @api.model
    def connect(self, host=None, port=None, user=None, password=None, encryption=None, smtp_debug=False,
                mail_server_id=None):
        """Odoo's ``connect``; for the server of an OAuth account (it keeps no user, so Odoo does not log in), then
        ``AUTH XOAUTH2`` with the account's access token, refreshed first if it is about to expire. A refusal
        raises ``smtplib.SMTPAuthenticationError``, as a refused password does."""
        connection = super().connect(host=host, port=port, user=user, password=password, encryption=encryption,
                                     smtp_debug=smtp_debug, mail_server_id=mail_server_id)
        server = self.sudo().browse(mail_server_id) if mail_server_id else self.browse()
        account = server.postcenter_oauth_account_id if server else False
        if connection is None or not account:
            return connection
        try:
            token = account._oauth_access_token()
            smtp.authenticate_xoauth2(connection, account._smtp_login_user(), token)
        except Exception as error:
            try:
                connection.close()
            except Exception:  # pylint: disable=except-pass
                # The error being raised is the one that counts.
                pass
            if isinstance(error, smtplib.SMTPException):
                raise
            raise smtplib.SMTPAuthenticationError(535, str(error).encode())
        return connection
