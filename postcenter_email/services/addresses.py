"""Email addresses typed by users: syntax check and normalisation.

Uses ``email-validator`` for the syntax (never a DNS lookup): the domain is
lower-cased and IDNA-normalised, the local part kept as typed.
"""
from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """``value`` is not an email address.

    ``code`` is ``empty``, ``missing_at`` or ``invalid``; ``detail`` is the
    validator's own explanation (English) for ``invalid``.
    """

    def __init__(self, value, code, detail=''):
        super().__init__('%s: %s %s' % (value, code, detail))
        self.value = value
        self.code = code
        self.detail = detail


def normalize_address(value):
    """Return ``value`` as a normalised address, or raise ``InvalidAddress``."""
    text = (value or '').strip()
    if not text:
        raise InvalidAddress(text, 'empty')
    if '@' not in text:
        raise InvalidAddress(text, 'missing_at')
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidAddress(text, 'invalid', str(error)) from None
    local, _sep, domain = result.normalized.rpartition('@')
    return '%s@%s' % (local, domain.lower())
