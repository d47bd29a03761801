"""Reading raw messages as they come from the wire, hostile ones included.

Python's parser keeps undeclared 8-bit header bytes as surrogate escapes, which
nothing downstream (PostgreSQL included) accepts. ``load`` repairs those headers
(UTF-8 if it decodes, else Windows-1252, a superset of ISO-8859-1 in practice).
"""
import datetime
import email
import email.parser
import email.policy
import hashlib
import re
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_to_datetime

_MSGID = re.compile(r'<[^<>\s]+>')
_SURROGATES = re.compile('[\udc80-\udcff]')


def decode_8bit(data):
    """Bytes of unknown charset as text: UTF-8 if valid, else Windows-1252 (never fails)."""
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        return data.decode('cp1252', errors='replace')


def _repair(value):
    if not isinstance(value, str) or not _SURROGATES.search(value):
        return value
    return decode_8bit(value.encode('ascii', 'surrogateescape'))


def load(raw, headers_only=False):
    """Parse ``raw`` bytes into an ``email.message.Message`` with readable headers (with ``headers_only``, the
    top-level headers alone: the body is left unparsed, which costs next to nothing)."""
    if headers_only:
        message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
        parts = [message]
    else:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        parts = message.walk()
    for part in parts:
        headers = getattr(part, '_headers', [])
        for index, (name, value) in enumerate(headers):
            repaired = _repair(value)
            if repaired is not value:
                headers[index] = (name, repaired)
    return message


def header_text(message, name):
    """A header as readable text: RFC 2047 words decoded, folding undone ('' if absent)."""
    value = message.get(name)
    if value is None:
        return ''
    value = str(value)
    try:
        text = str(make_header(decode_header(value)))
    except Exception:
        text = value
    return ' '.join(_repair(text).split())


def message_ids(value):
    """The ``<id@host>`` tokens of a Message-ID, In-Reply-To or References header, in order."""
    return _MSGID.findall(value or '')


def message_key(message, raw):
    """What identifies a message: its Message-ID, else a digest of its bytes (same bytes, same key)."""
    found = message_ids(header_text(message, 'Message-ID'))
    if found:
        return found[0][:500]
    return '<%s@no-message-id.postcenter>' % hashlib.sha256(raw).hexdigest()


def addresses(message, *names):
    """``[(display name, address)]`` of the given headers, addresses lower-cased, empties dropped."""
    values = [header_text(message, name) for name in names]
    return [(display, address.strip().lower()) for display, address in getaddresses(values)
            if '@' in (address or '')]


def sender(message):
    """``(display name, address)`` of the author (From, else Reply-To, else Sender)."""
    for name in ('From', 'Reply-To', 'Sender'):
        found = addresses(message, name)
        if found:
            return found[0]
    return ('', '')


def date_utc(message):
    """The Date header as a naive UTC ``datetime`` (no zone: taken as UTC), or ``None`` if unreadable."""
    try:
        value = parsedate_to_datetime(header_text(message, 'Date'))
    except (TypeError, ValueError, IndexError):
        return None
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value
