"""Which conversation an incoming email continues."""
import re

from . import rfc822


def referenced_ids(message):
    """Message-IDs this email answers, most specific first (In-Reply-To, then References newest first)."""
    ids = rfc822.message_ids(rfc822.header_text(message, 'In-Reply-To'))
    ids += list(reversed(rfc822.message_ids(rfc822.header_text(message, 'References'))))
    unique = []
    for message_id in ids:
        if message_id not in unique:
            unique.append(message_id)
    return unique


def ticket_numbers(subject, prefix):
    """Ticket numbers such as ``HT00042`` found in ``subject`` for the sequence ``prefix``."""
    if not prefix:
        return []
    pattern = re.compile(r'(?<![A-Za-z0-9])(%s\d+)(?![A-Za-z0-9])' % re.escape(prefix), re.IGNORECASE)
    return [number.upper() for number in pattern.findall(subject or '')]
