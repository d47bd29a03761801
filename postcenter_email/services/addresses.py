"""Email addresses typed by users: syntax check and normalisation.

Uses ``email-validator`` for the syntax (never a DNS lookup): the domain is
lower-cased and IDNA-normalised, the local part kept as typed.
"""
import re

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """``value`` is not an email address; ``reason`` says why, in English."""

    def __init__(self, value, reason):
        super().__init__('%s: %s' % (value, reason))
        self.value = value
        self.reason = reason


def normalize_address(value):
    """Return ``value`` as a normalised address, or raise ``InvalidAddress``."""
    text = (value or '').strip()
    if not text:
        raise InvalidAddress(text, 'The address is empty.')
    if '@' not in text:
        raise InvalidAddress(text, 'An email address needs an @ followed by a domain, like name@example.com.')
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidAddress(text, str(error)) from None
    local, _sep, domain = result.normalized.rpartition('@')
    return '%s@%s' % (local, domain.lower())


_SEPARATORS = re.compile(r'[\s,;]+')


def split_addresses(text):
    """Split a list typed as text (commas, spaces, semicolons, new lines)."""
    return [part for part in _SEPARATORS.split(text or '') if part]


def domain_of(address):
    """The domain part of an address, lower-cased (``''`` if there is none)."""
    return (address or '').rpartition('@')[2].lower()
