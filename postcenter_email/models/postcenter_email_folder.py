from odoo import fields, models


class PostcenterEmailFolder(models.Model):
    """How far an IMAP folder has been read: its UIDVALIDITY and the last UID done.

    While a first read (or a re-read after a UIDVALIDITY change) runs, the ``resume_*`` fields keep
    what it chose to read and how far it got, so that a crash resumes it (``services.progress``).
    UIDs and UIDVALIDITY are IMAP's unsigned 32-bit numbers, kept as text.
    """

    _name = 'postcenter.email.folder'
    _description = 'IMAP Folder Progress'

    account_id = fields.Many2one('postcenter.email.account', required=True, ondelete='cascade', index=True)
    name = fields.Char(string='Folder', required=True, default='INBOX')
    uidvalidity = fields.Char(string='UIDVALIDITY', readonly=True)
    last_uid = fields.Char(string='Last UID Done', readonly=True, default='0')
    last_fetch_date = fields.Datetime(string='Last Fetch', readonly=True)
    resume_uidvalidity = fields.Char(string='UIDVALIDITY of the Unfinished Read', readonly=True)
    resume_uids = fields.Text(string='UIDs of the Unfinished Read', readonly=True)
    resume_end_uid = fields.Char(string='Last UID When the Unfinished Read Ends', readonly=True)
    resume_done_uid = fields.Char(string='Last UID Done in the Unfinished Read', readonly=True)

    _sql_constraints = [('folder_unique', 'unique(account_id, name)', 'Each folder is tracked once per account.')]
