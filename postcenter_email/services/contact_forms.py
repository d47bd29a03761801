"""Contact forms send mail from a fixed address; the customer's address is in the body."""
import re

from .addresses import InvalidAddress, normalize_address

_CANDIDATE = re.compile(r'[\w.!#$%&\'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+', re.UNICODE)


def first_address(text, exclude=()):
    """The first valid address in ``text`` that is not in ``exclude`` (lower-cased), or ``None``."""
    excluded = {address.lower() for address in exclude}
    for match in _CANDIDATE.finditer(text or ''):
        candidate = match.group(0).rstrip('.')
        try:
            address = normalize_address(candidate)
        except InvalidAddress:
            continue
        if address.lower() not in excluded:
            return address
    return None
