"""Records created together: the rows of several ``create`` calls of one model written in one INSERT.

Odoo 11 creates one record at a time: each ``create`` works out the defaults, inserts its row, links its many2many
values, then reads and recomputes what depends on it. For the records this addon writes by the hundred (a fetched
batch's new customers, the auto-close's tracking notes and stage emails), ``insert`` does that same work once for
all of them, and ``recompute`` writes each computed field of them all in one statement (a new ticket's first
email, alone, is written the same way: without the ORM's read-back of the new row).

It is only used where the model's ``create`` is known: ``plain_create`` tells whether every override of ``create``
of the model comes from modules whose work the callers repeat (``base`` and ``mail`` for partners, ``mail`` for
messages, ``fetchmail`` for emails, ``base`` for attachments);
with any other module's override installed, or with a value this module does not write, the callers create the
records through the ORM, one by one, as Odoo does.
"""
from collections import defaultdict

from odoo import SUPERUSER_ID, _, models
from odoo.exceptions import MissingError
from odoo.tools import frozendict


class NotPlain(Exception):
    """The values need more than rows and links (an inverse, a translated column, ...): use the ORM."""


def plain_create(model, known_modules):
    """Whether every ``create`` of ``model``'s class comes from ``known_modules`` or from the ORM itself."""
    return plain_method(model, 'create', known_modules)


def plain_method(model, name, known_modules):
    """Whether every definition of the method ``name`` in ``model``'s class comes from ``known_modules`` or from the
    ORM itself."""
    for cls in type(model).__mro__:
        if name in cls.__dict__ and cls is not models.BaseModel and \
                getattr(cls, '_module', None) not in known_modules:
            return False
    return True


def insert(model, values_list, in_cache=False):
    """Create a record of ``model`` for each dict of ``values_list``, as ``model.create`` would (its defaults, the
    booleans left out written false, column conversion with the HTML sanitiser, selection checks, the log columns,
    many2many links, one2many lines, Python constraints, stored computed fields, the access checks), with one
    INSERT for the rows of all of them; returns the records, in the order of ``values_list``. ``in_cache``: the
    new rows are also put in the cache as reading them back would (``_put_in_cache``), for a caller that reads
    them next (their computed fields are then worked out without reading the rows back). Raises ``NotPlain``
    for what it does not write (the caller's savepoint undoes a part written): a parent store, inverses, translated
    columns in another language, commands that change other records (many2many 0, 1, 2; one2many other than 0).
    A model with parents (``_inherits``) is written when each record's parent is given: its values of the parents'
    fields are left out."""
    if not values_list:
        return model.browse()
    if model._parent_store or any(parent_field not in values for values in values_list
                                  for parent_field in model._inherits.values()):
        raise NotPlain(model._name)
    model.check_access_rights('create')
    rows, links, lines = [], [], []
    names = None
    for values in values_list:
        values = model._add_missing_default_values(dict(values))
        for name in models.MAGIC_COLUMNS + ['parent_left', 'parent_right']:
            values.pop(name, None)
        columns, row_links, row_lines = _split(model, values)
        if names is None:
            names = sorted(columns)
        elif sorted(columns) != names:
            raise NotPlain('%s: rows with different columns' % model._name)
        rows.append([columns[name] for name in names])
        links.append(row_links)
        lines.append(row_lines)
    cr = model.env.cr
    log = ['create_uid', 'write_uid', 'create_date', 'write_date'] if model._log_access else []
    # the ids drawn from the table's sequence row by row, in the order of the rows, returned in that order
    placeholders = '(%s)' % ', '.join(["nextval('%s')" % model._sequence] + ['%s'] * len(names) + (
        ['%s', '%s', "(now() at time zone 'UTC')", "(now() at time zone 'UTC')"] if log else []))
    params = []
    for row in rows:
        params.extend(row + ([model.env.uid, model.env.uid] if log else []))
    cr.execute('INSERT INTO "%s" (%s) VALUES %s RETURNING id' % (
        model._table, ', '.join('"%s"' % name for name in ['id'] + names + log),
        ', '.join([placeholders] * len(rows))), params)
    ids = [row[0] for row in cr.fetchall()]
    records = model.browse(ids)
    _write_links(model, ids, links)
    _write_lines(model, ids, lines)
    records.modified(model._fields)
    if in_cache:
        _put_in_cache(records, names, rows, links, lines)
    records._validate_fields(set(names) | {field.name for row_links in links for field, _ids in row_links}
                             | {field.name for row_lines in lines for field, _values in row_lines})
    if model.env.recompute and model.env.context.get('recompute', True):
        recompute(model, inserted={record_id: dict(zip(names, row)) for record_id, row in zip(ids, rows)})
    records.check_access_rule('create')
    return records


def read_rows(records):
    """Read the rows of ``records`` into the cache at once, as Odoo's prefetch reads them when one of their fields
    is first read (the same columns: those it prefetches, less those of groups the user is not in and those to be
    recomputed), without the dictionary of every value of every record that ``read`` builds for the prefetch,
    which drops it. The access checks of ``read`` are made. When a module overrides ``read`` or
    ``_read_from_database`` of the model, the rows are read through ``read``, as the prefetch reads them."""
    names = [name for name, field in records._fields.items() if field.prefetch and field.store
             if not (field.groups and not records.user_has_groups(field.groups))
             if not (field.compute and records.env.field_todo(field))]
    if not (plain_method(records, 'read', ()) and plain_method(records, '_read_from_database', ())):
        records.read(names, load='_classic_write')
        return records
    records.check_access_rights('read')
    records._read_from_database(names)
    return records


def _put_in_cache(records, names, rows, links, lines):
    """Put in the cache what reading the new ``records`` back would (``rows``: their values of the columns
    ``names``, as written): every plain column (those left out are NULL) and, empty, each many2many and one2many
    field that was not given (a record just inserted has no lines or links but its own). Left to be read: computed,
    translated, binary, inherited and log fields, and the x2many fields given. Only for the superuser, whom no
    record rule hides a row from: reading them is then all it would do."""
    model = records.browse()
    if model.env.uid != SUPERUSER_ID:
        return
    given = {field for row_links in links for field, _ids in row_links} | \
        {field for row_lines in lines for field, _values in row_lines}
    columns, empty = [], []
    for name, field in model._fields.items():
        if not field.store or field.compute or field.inherited or field.translate or \
                name in models.MAGIC_COLUMNS or field.type == 'binary' or field in given:
            continue
        if field.column_type:
            columns.append((field, names.index(name) if name in names else None))
        elif field.type in ('one2many', 'many2many'):
            empty.append(field)
    cache = model.env.cache
    for record, row in zip(records, rows):
        for field, index in columns:
            cache.set(record, field, field.convert_to_cache(None if index is None else row[index], record,
                                                            validate=False))
        for field in empty:
            cache.set(record, field, ())  # the cache's form of no records


def recompute(model, inserted=None):
    """``model.recompute()``, each computed field's values written for all its records by one UPDATE: Odoo's
    writes each record whose values differ from the others' apart (one UPDATE and one look-up of what depends on
    them per record: for new customers, each one's display name and commercial partner). The same values, the same
    write date and author, the same fields marked for recomputation after them, the same checks. Fields it cannot
    write by rows (translated, inherited, of a parent store) are written as Odoo writes them. ``inserted``: the
    column values ``{id: {column: value}}`` of ``model``'s rows just inserted (a column left out is NULL); a new
    row's computed values that are what it was inserted with (a new ticket's deadline of no activity) are not
    written again: the update would set the same values and the same write date (``now()`` is the time the
    transaction started)."""
    env = model.env
    while env.has_todo():
        field, records = env.get_todo()
        computed = env[field.model_name]._field_computed[field]
        names = [other.name for other in computed if other.store]
        values = {}
        for record in records:
            try:
                values[record.id] = record._convert_to_write({name: record[name] for name in names})
            except MissingError:
                continue
        if inserted and field.model_name == model._name:
            unchanged = {record_id for record_id, record_values in values.items()
                         if _as_inserted(records, record_values, inserted.get(record_id))}
            records.browse(sorted(unchanged))._validate_fields(names)  # the checks the update would have run
            values = {record_id: record_values for record_id, record_values in values.items()
                      if record_id not in unchanged}
        with records.env.norecompute():
            if _by_rows(records, names):
                _update_rows(records.browse(list(values)), names, values)
            else:
                _update_as_odoo(records, values)
        for other in computed:
            records._recompute_done(other)


def _as_inserted(records, record_values, row):
    """Whether ``record_values`` (computed, as written) are what the row was just inserted with (``row``: its
    column values; None when it was not inserted here)."""
    if row is None:
        return False
    for name, value in record_values.items():
        field = records._fields[name]
        if not field.column_type or field.translate or field.convert_to_column(value, records) != row.get(name):
            return False
    return True


def _by_rows(records, names):
    if records._parent_store or records._inherits or len(records) < 2:
        return False
    translating = records.env.lang and records.env.lang != 'en_US'
    fields = [records._fields[name] for name in names]
    return all(field.store and field.column_type and not field.inherited and not callable(field.translate) and
               not (field.translate and translating) for field in fields)


def _update_as_odoo(records, values):
    """What ``BaseModel.recompute`` does: the records with the same values written together."""
    groups = defaultdict(set)
    for record_id, record_values in values.items():
        groups[frozendict(record_values)].add(record_id)
    for record_values, ids in groups.items():
        target = records.browse(ids)
        try:
            target._write(dict(record_values))
        except MissingError:
            target.exists()._write(dict(record_values))


def _update_rows(records, names, values):
    """``_write`` of each record's ``values`` (plain columns), in one statement."""
    if not records:
        return
    records.check_field_access_rights('write', names)
    log = ['write_date', 'write_uid'] if records._log_access else []
    records.modified(names + log)
    fields = [records._fields[name] for name in names]
    params = []
    for record_id, record_values in values.items():
        params.append(record_id)
        for field in fields:
            value = record_values[field.name]
            if hasattr(field, 'selection') and value:
                records._check_selection_field_value(field.name, value)
            params.append(field.convert_to_column(value, records, record_values))
    assignments = ['"%s" = v."%s"::%s' % (field.name, field.name, field.column_type[1]) for field in fields]
    if log:
        assignments += ['write_uid = %s' % int(records.env.uid), "write_date = (now() at time zone 'UTC')"]
    records.check_access_rule('write')
    row = '(%s)' % ', '.join(['%s'] * (1 + len(fields)))
    records.env.cr.execute('UPDATE "%s" AS t SET %s FROM (VALUES %s) AS v (id, %s) WHERE t.id = v.id' % (
        records._table, ', '.join(assignments), ', '.join([row] * len(values)),
        ', '.join('"%s"' % name for name in names)), params)
    if records.env.cr.rowcount != len(values):
        raise MissingError(_('One of the records you are trying to modify has already been deleted '
                             '(Document type: %s).') % records._description)
    records.modified(names + log)
    _cache_written(records, fields, params)
    records._validate_fields(names)


def _cache_written(records, fields, params):
    """Put back in the cache the values ``_update_rows`` just wrote (``params``: each record's id, then its column
    values of ``fields``), which ``modified`` has just emptied, as reading them back would give them: what depends on
    them (a new customer's commercial partner's country) is then computed without reading the records' rows again.
    Only for the superuser, whom no record rule hides a row from."""
    if records.env.uid != SUPERUSER_ID:
        return
    cache, width = records.env.cache, 1 + len(fields)
    for start in range(0, len(params), width):
        record = records.browse(params[start])
        for field, value in zip(fields, params[start + 1:start + width]):
            cache.set(record, field, field.convert_to_cache(value, record, validate=False))


def _split(model, values):
    """``({column: SQL value}, [(field, ids to link)], [(field, [line values])])`` of one record's ``values``."""
    columns, links, lines = {}, [], []
    translating = model.env.lang and model.env.lang != 'en_US'
    for name, field in model._fields.items():
        if field.type == 'boolean' and field.store and field.column_type and name not in values and \
                name not in models.MAGIC_COLUMNS:
            values[name] = False
    for name, value in values.items():
        field = model._fields.get(name)
        if field is None or field.inherited or not field.store:
            if field is not None and field.inverse:
                raise NotPlain('%s.%s has an inverse' % (model._name, name))
            continue  # as create: unknown and non-stored values are left out
        if field.inverse or (field.translate is True and translating):
            raise NotPlain('%s.%s' % (model._name, name))
        if field.column_type:
            if hasattr(field, 'selection') and value:
                model._check_selection_field_value(name, value)
            columns[name] = field.convert_to_column(value, model, values)
        elif field.type == 'many2many':
            links.append((field, _linked_ids(model, field, value)))
        elif field.type == 'one2many':
            lines.append((field, _line_values(model, field, value)))
        else:
            raise NotPlain('%s.%s' % (model._name, name))
    return columns, links, lines


def _linked_ids(model, field, commands):
    """The ids that ``Many2many.write`` links a new record to for ``commands`` (what is not a command is ignored,
    as there)."""
    links = {}
    for command in commands or ():
        if not isinstance(command, (list, tuple)) or not command:
            continue
        if command[0] == 3:
            links[command[1]] = False
        elif command[0] == 4:
            links[command[1]] = True
        elif command[0] == 5:
            links.clear()
        elif command[0] == 6:
            links = dict.fromkeys(command[2], True)
        else:
            raise NotPlain('%s.%s: command %s' % (model._name, field.name, command[0]))
    return [other for other, linked in links.items() if linked]


def _line_values(model, field, commands):
    """The values of the lines that ``commands`` create for a new record (only creations are written here)."""
    values = []
    for command in commands or ():
        if not isinstance(command, (list, tuple)) or not command:
            continue
        if command[0] != 0:
            raise NotPlain('%s.%s: command %s' % (model._name, field.name, command[0]))
        values.append(command[2])
    return values


def _write_links(model, ids, links):
    """The many2many rows of the new records, one INSERT per field (duplicates left out, as Odoo does)."""
    by_field = {}
    for record_id, row_links in zip(ids, links):
        for field, linked in row_links:
            by_field.setdefault(field, set()).update((record_id, other) for other in linked)
    for field, pairs in by_field.items():
        if pairs:
            model.env.cr.execute('INSERT INTO "%s" ("%s", "%s") VALUES %s ON CONFLICT DO NOTHING' % (
                field.relation, field.column1, field.column2, ', '.join(['(%s, %s)'] * len(pairs))),
                [value for pair in sorted(pairs) for value in pair])


def _write_lines(model, ids, lines):
    """The one2many lines of the new records, created together on their model (sudo, as ``mail.message`` writes
    its tracking values)."""
    by_field = {}
    for record_id, row_lines in zip(ids, lines):
        for field, values in row_lines:
            by_field.setdefault(field, []).extend(dict(line, **{field.inverse_name: record_id}) for line in values)
    for field, values in by_field.items():
        insert(model.env[field.comodel_name].sudo(SUPERUSER_ID), values)
