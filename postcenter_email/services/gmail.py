"""Gmail's forwarding confirmation: the code and link Gmail sends to a new forwarding address."""
import re

SENDER = 'forwarding-noreply@google.com'
_CODE = re.compile(r'(?:confirmation code|c[oó]digo de confirmaci[oó]n)\s*:?\s*(\d{5,12})', re.IGNORECASE)
_SUBJECT_CODE = re.compile(r'\(#(\d{5,12})\)')
_LINK = re.compile(r'https://mail(?:-settings)?\.google\.com/mail/[^\s<>"\')\]]+')


def confirmation(sender, subject, text):
    """``(code, link)`` found in a confirmation email from Gmail, or ``None`` for any other email."""
    if (sender or '').lower() != SENDER:
        return None
    found = _CODE.search(text or '') or _SUBJECT_CODE.search(subject or '')
    link = _LINK.search(text or '')
    if not found and not link:
        return None
    return (found.group(1) if found else None, link.group(0) if link else None)
