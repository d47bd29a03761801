"""Email signatures with the sending agent's data: ``{{agent_first_name}}`` and friends.

A line (between line breaks or block ends) whose placeholders are all empty disappears with its
label ("Phone: {{agent_phone}}" for an agent without phone), so no stray placeholder or empty
label is ever sent. Values are HTML-escaped; the phone is written in international format.
"""
import html
import re

import phonenumbers

PLACEHOLDERS = ('agent_first_name', 'agent_last_name', 'agent_email', 'agent_phone', 'agent_job_title')
_TOKEN = re.compile(r'\{\{\s*(\w+)\s*\}\}')
_BREAKS = re.compile(r'(<br\s*/?>|</p>|</div>|</li>|\n)', re.IGNORECASE)
_TEXT = re.compile(r'(?:^|(?<=>))[^<]+')


def international_phone(number, region=None):
    """``+56 9 1234 5678`` style, or the number as typed if it cannot be read."""
    if not number:
        return ''
    try:
        parsed = phonenumbers.parse(number, (region or '').upper() or None)
    except phonenumbers.NumberParseException:
        return number.strip()
    if not phonenumbers.is_possible_number(parsed):
        return number.strip()
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def split_name(full_name):
    """'Ana María Pérez' -> ('Ana', 'María Pérez')."""
    parts = (full_name or '').split(None, 1)
    return (parts[0] if parts else '', parts[1] if len(parts) > 1 else '')


def render(template, values):
    """Fill the placeholders of ``template`` (HTML) with ``values``; drop the lines left empty."""
    if not template:
        return ''
    pieces = _BREAKS.split(template)
    out = []
    dropped = False
    for index, piece in enumerate(pieces):
        if index % 2:  # a separator
            if dropped and piece.lower().startswith('<br') or dropped and piece == '\n':
                continue
            out.append(piece)
            continue
        names = _TOKEN.findall(piece)
        dropped = bool(names) and not any((values.get(name) or '').strip() for name in names)
        if dropped:
            out.append(_TEXT.sub('', piece))
        else:
            out.append(_TOKEN.sub(lambda match: html.escape(values.get(match.group(1)) or ''), piece))
    return ''.join(out)
