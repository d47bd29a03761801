from odoo import fields, models


class PostcenterEmailFolder(models.Model):
    """How far an IMAP folder has been read: its UIDVALIDITY and the last UID done.

    Both are IMAP's unsigned 32-bit numbers, kept as text.
    """

    _name = 'postcenter.email.folder'
    _description = 'IMAP Folder Progress'

    account_id = fields.Many2one('postcenter.email.account', required=True, ondelete='cascade', index=True)
    name = fields.Char(string='Folder', required=True, default='INBOX')
    uidvalidity = fields.Char(string='UIDVALIDITY', readonly=True)
    last_uid = fields.Char(string='Last UID Done', readonly=True, default='0')
    last_fetch_date = fields.Datetime(string='Last Fetch', readonly=True)

    _sql_constraints = [('folder_unique', 'unique(account_id, name)', 'Each folder is tracked once per account.')]
