"""Blocked senders: whole addresses, or whole domains written ``@domain``."""
from collections import namedtuple

from .addresses import InvalidAddress, normalize_address

Blocklist = namedtuple('Blocklist', 'addresses domains')

SEPARATORS = ',;\n\r\t '


def parse(text):
    """``(Blocklist, [invalid entries])`` from the comma-separated text an admin typed."""
    addresses, domains, invalid = set(), set(), []
    for entry in _entries(text):
        if entry.startswith('@'):
            domain = entry[1:].lower().strip('.')
            if domain and '.' in domain and '@' not in domain and ' ' not in domain:
                domains.add(domain)
            else:
                invalid.append(entry)
            continue
        try:
            addresses.add(normalize_address(entry).lower())
        except InvalidAddress:
            invalid.append(entry)
    return Blocklist(frozenset(addresses), frozenset(domains)), invalid


def _entries(text):
    entry = []
    for char in (text or '') + ',':
        if char in SEPARATORS:
            if entry:
                yield ''.join(entry)
            entry = []
        else:
            entry.append(char)


def is_blocked(address, blocklist):
    """True if ``address`` or its domain (or a parent domain) is on the list."""
    address = (address or '').strip().lower()
    if not address:
        return False
    if address in blocklist.addresses:
        return True
    domain = address.rpartition('@')[2]
    parts = domain.split('.')
    return any('.'.join(parts[i:]) in blocklist.domains for i in range(len(parts)))
