import logging

from werkzeug.utils import redirect

from odoo import _, http
from odoo.http import request
from odoo.tools import html_escape

from ..services.exceptions import MailServerError

_logger = logging.getLogger(__name__)


class PostcenterOAuthController(http.Controller):
    """Where Google and Microsoft send the administrator back after the sign-in of an email account."""

    @http.route('/postcenter_email/oauth/callback', type='http', auth='user', methods=['GET'], csrf=False)
    def oauth_callback(self, **params):
        """``code`` and ``state`` (or ``error``) from the provider: the account is connected, or the page of the
        account or wizard says why not; a sign-in link that is not ours gets a page in plain words."""
        accounts = request.env['postcenter.email.account']
        try:
            return redirect(accounts._oauth_callback(params))
        except MailServerError as error:
            _logger.info('OAuth sign-in refused: %s', error)
            message = accounts._oauth_describe(error)
        body = '<html><body style="font-family: sans-serif; margin: 3em"><h1>%s</h1><p id="o_postcenter_oauth_error">' \
               '%s</p><p><a href="/web">%s</a></p></body></html>' % (
                   html_escape(_('The sign-in did not finish')), html_escape(message), html_escape(_('Back to Odoo')))
        response = request.make_response(body, headers=[('Content-Type', 'text/html; charset=utf-8')])
        response.status_code = 400
        return response
