"""How long an account has been failing, in words a list column can hold ("3 h 20 min")."""

UNITS = (('d', 86400), ('h', 3600), ('min', 60))


def elapsed(since, now, parts=2):
    """The time from ``since`` to ``now`` as its ``parts`` largest units, largest first, each
    ``(number, unit)`` with unit ``'d'``, ``'h'`` or ``'min'``, zeros left out after the first:
    ``[(3, 'h'), (20, 'min')]``, ``[(2, 'd')]``. Under a minute (or a ``since`` in the future): ``[]``."""
    seconds = int((now - since).total_seconds())
    if seconds < 60:
        return []
    found = []
    for unit, size in UNITS:
        number, seconds = divmod(seconds, size)
        if number > 0 or found:
            found.append((number, unit))
        if len(found) == parts:
            break
    while found and found[-1][0] == 0:
        found.pop()
    return found
