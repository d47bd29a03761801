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
import itertools
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


# A run of at least this many bytes of base64 lines (an attachment's body) is kept out of the parser (``_set_aside``)
BIG_RUN = 256 * 1024
# what a run of base64 lines cannot hold: another character (MIME boundaries start with "--", headers hold ":" or
# begin with a space), or an empty line
_NOT_BASE64 = re.compile(rb'[^A-Za-z0-9+/=\r\n]|\n\r?\n')
_TOKEN = 'postcenter-set-aside-%d-%s'
_HEADERS_END = re.compile(rb'\r?\n\r?\n')


def _base64_runs(raw):
    """``(start, end)`` of each run of whole lines of base64 characters of at least ``BIG_RUN`` bytes, without the
    line ending of its last line: the body of a part, as no MIME boundary or header can be inside it."""
    previous = 0
    for found in itertools.chain(_NOT_BASE64.finditer(raw), [None]):
        stop = found.start() if found else len(raw)
        if stop - previous >= BIG_RUN:
            first = raw.find(b'\n', previous, stop) + 1  # a run starts at the start of a line
            last = raw.rfind(b'\n', first, stop) if first else -1
            end = last - 1 if last > 0 and raw[last - 1:last] == b'\r' else last
            if first and end - first >= BIG_RUN:
                yield first, end
        previous = found.end() if found else stop


def _set_aside(raw):
    """``raw`` with each long run of base64 lines replaced by a short token, and the runs by token. Python's
    parser splits a body into one string per line, then joins them: for a 20 MB attachment, about 200 MB more
    memory at its peak; a token of one line costs nothing."""
    runs, pieces, start = {}, [], 0
    if len(raw) < BIG_RUN:
        return raw, runs
    salt = hashlib.sha256(raw[:4096]).hexdigest()[:12]  # a token that cannot be in the message by chance
    for first, end in _base64_runs(raw):
        token = _TOKEN % (len(runs), salt)
        runs[token] = (first, end)
        pieces += [raw[start:first], token.encode('ascii')]
        start = end
    if not runs:
        return raw, runs
    pieces.append(raw[start:])
    return b''.join(pieces), runs


def load(raw, headers_only=False):
    """Parse ``raw`` bytes into an ``email.message.Message`` with readable headers (with ``headers_only``, the
    top-level headers alone: the body is left unparsed, which costs next to nothing). Long base64 bodies are
    parsed as a token and put back afterwards: the same message, without the parser's copies of them."""
    if headers_only:  # the parser would read the body too (and copy it line by line) before leaving it unparsed
        end = _HEADERS_END.search(raw)
        message = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
            raw[:end.end()] if end else raw)
        parts = [message]
    else:
        compact, runs = _set_aside(raw)
        message = email.message_from_bytes(compact, policy=email.policy.compat32)
        del compact
        parts = list(message.walk())
        if runs:
            _put_back(parts, raw, runs)
    for part in parts:
        headers = getattr(part, '_headers', [])
        for index, (name, value) in enumerate(headers):
            repaired = _repair(value)
            if repaired is not value:
                headers[index] = (name, repaired)
    return message


def _put_back(parts, raw, runs):
    """The runs set aside by ``_set_aside``, back in the payloads of ``parts`` in place of their tokens."""
    for part in parts:
        payload = part._payload  # the leaf's text (``get_payload`` would decode or copy it)
        if not isinstance(payload, str) or 'postcenter-set-aside-' not in payload:
            continue
        view = memoryview(raw)
        for token, (start, end) in runs.items():
            if token in payload:  # the run read straight from ``raw`` (no copy of its bytes first)
                before, after = payload.split(token, 1)
                text = str(view[start:end], 'ascii')
                payload = ''.join((before, text, after)) if before or after else text
        part._payload = payload


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
