import logging

from odoo import SUPERUSER_ID, api, models

_logger = logging.getLogger(__name__)
ALERT_HEADERS = {'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All'}


class PostcenterEmailAlert(models.AbstractModel):
    """Telling the helpdesk managers that something needs a person: an email to each, in their language.

    An email reaches a manager who is not looking at Odoo, which is when failures go unnoticed for days.
    """

    _name = 'postcenter.email.alert'
    _description = 'Email Channel Alerts'

    @api.model
    def _managers(self):
        """Active internal users of the Helpdesk Manager group."""
        group = self.env.ref('helpdesk_mgmt.group_helpdesk_manager')
        return self.env['res.users'].sudo().search([('groups_id', 'in', group.id), ('share', '=', False)])

    @api.model
    def _tell_managers(self, template_xmlid, record, values=None):
        """Queue the template ``template_xmlid`` rendered on ``record`` for each manager, in their language and
        time zone, with ``values(record in that language)`` added to the template's ``ctx``; they leave as soon
        as the transaction commits (or with Odoo's mail queue). The emails belong to no document, so nothing
        takes them for a ticket's reply. Returns them."""
        template = self.env.ref(template_xmlid).sudo()
        sender = self.env['postcenter.email.account'].sudo()._validation_sender()
        mails = self.env['mail.mail'].sudo()
        for user in self._managers():
            if not user.email:
                _logger.info('Helpdesk manager %s has no email address: not told of %s', user.login, record)
                continue
            local = {'lang': user.lang, 'tz': user.tz or 'UTC'}
            extra = values(record.sudo().with_context(**local)) if values else {}
            mail_id = template.with_context(**local, **extra).send_mail(record.id, email_values={
                'email_from': sender, 'email_to': False, 'recipient_ids': [(4, user.partner_id.id)],
                'model': False, 'res_id': False, 'auto_delete': True, 'headers': repr(ALERT_HEADERS)})
            mails |= mails.browse(mail_id)
        if mails:
            self._send_after_commit(mails)
        return mails

    @api.model
    def _send_after_commit(self, mails):
        """Send ``mails`` on a cursor of their own once the current transaction is committed (never for a
        transaction that is rolled back); if that fails they stay in Odoo's mail queue."""
        registry, ids = self.pool, mails.ids

        def send():
            try:
                with api.Environment.manage(), registry.cursor() as cr:
                    queued = api.Environment(cr, SUPERUSER_ID, {})['mail.mail'].browse(ids).exists()
                    queued.filtered(lambda mail: mail.state == 'outgoing').send()
            except Exception:
                _logger.exception('Alerts %s could not be sent at once; they stay in the mail queue', ids)

        self.env.cr.after('commit', send)
