import base64

from odoo import SUPERUSER_ID, api, models

from . import rows


class IrAttachment(models.Model):
    """The attachments of the emails a fetched batch brings are written as rows (``models/rows.py``)."""

    _inherit = 'ir.attachment'

    @api.model
    def _postcenter_create_rows(self, values_list):
        """``create(values)`` for each of ``values_list``, the files stored and the rows written together: what
        base's ``create`` and its ``datas`` inverse write (the type of content, its size, checksum, words to search
        by, the file in the filestore or the content in the row), and the record's name, computed from the rows in
        the cache. Returns the attachments, in order; None, with nothing written, when the ORM must create them:
        another user than the superuser, another module's ``create`` or ``datas`` inverse, or empty content."""
        if self.env.uid != SUPERUSER_ID or not values_list or not rows.plain_create(self, {'base'}) or \
                not rows.plain_method(self, '_inverse_datas', {'base'}) or \
                not all(values.get('datas') for values in values_list):
            return None
        completed = [self._postcenter_stored(values) for values in values_list]
        for res_model, res_id in sorted({(values.get('res_model'), values.get('res_id')) for values in completed},
                                        key=str):
            self.browse().check('write', values={'res_model': res_model, 'res_id': res_id})
        try:
            with self.env.cr.savepoint():
                return rows.insert(self, completed, in_cache=True)
        except rows.NotPlain:
            return None

    @api.model
    def _postcenter_stored(self, values):
        """``values`` as the row ``create`` and ``_inverse_datas`` leave: the content's type, and instead of the
        content, its size, checksum, index and where it is (its file, written here as the inverse writes it)."""
        values = dict(values)
        for name in ('file_size', 'checksum'):
            values.pop(name, None)
        values = self._check_contents(values)
        content = values.pop('datas')
        data = base64.b64decode(content)
        values.update(file_size=len(data), checksum=self._compute_checksum(data),
                      index_content=self._index(data, values.get('datas_fname'), values.get('mimetype')),
                      store_fname=False, db_datas=content)
        if self._storage() != 'db':
            values.update(store_fname=self._file_write(content, values['checksum']), db_datas=False)
        return values
