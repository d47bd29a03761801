"""Which conversation an incoming email continues."""
import hashlib
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


def lock_keys(account_ids, message_key, referenced, sender):
    """The PostgreSQL advisory lock keys (signed 64-bit, ascending) that an email must hold while it is stored.

    Two emails of one conversation share a key: the original's Message-ID is the reply's reference. Two emails
    of one new customer share their address, so one creates the customer and the other finds it (mail of a
    contact form, whose customer is in the body, shares the form's address). Taken in ascending order, two
    holders never wait for each other in a cycle.
    """
    names = {'message %s %s' % (account_id, key) for account_id in account_ids for key in [message_key] + referenced}
    if sender:
        names.add('address %s' % sender.lower())
    return sorted(int.from_bytes(hashlib.sha1(name.encode('utf-8')).digest()[:8], 'big', signed=True)
                  for name in names)
