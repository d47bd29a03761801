"""Forwarding addresses: recognisable from the account's email, impossible to guess."""
import re
import secrets
import string

TOKEN_ALPHABET = string.ascii_lowercase + string.digits
TOKEN_LENGTH = 8
_MAX_SLUG = 40


def new_token(length=TOKEN_LENGTH):
    """A random lower-case token (about 41 bits with the default length)."""
    return ''.join(secrets.choice(TOKEN_ALPHABET) for _i in range(length))


def slug(address):
    """``Soporte@ACME.cl`` -> ``soporte-acme-cl``: letters and digits, dashes between."""
    text = re.sub(r'[^a-z0-9]+', '-', (address or '').lower()).strip('-')
    return text[:_MAX_SLUG].rstrip('-') or 'inbox'


def forward_address(address, token, domain):
    """The forwarding address of ``address`` on ``domain`` with its random ``token``."""
    return '%s-%s@%s' % (slug(address), token, domain.lower())
