"""Mail written by machines: bounces, auto-replies, mailing lists, no-reply senders.

Nothing automatic is ever answered automatically (RFC 3834), and a bounce is
attached to the conversation it is about instead of opening a ticket.
"""
import re

from . import rfc822

BOUNCE_SENDERS = ('mailer-daemon', 'postmaster', 'mail-daemon', 'mailerdaemon')
_NO_REPLY = re.compile(r'^(no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?)'
                       r'([-_.+].*)?$')


def local_part(address):
    return (address or '').rpartition('@')[0].lower()


def is_bounce(message):
    """A delivery status notification (RFC 3464) or what MTAs send in its place."""
    if message.get_content_type() == 'multipart/report' and \
            (message.get_param('report-type') or '').lower() == 'delivery-status':
        return True
    if message.get('X-Failed-Recipients'):
        return True
    return local_part(rfc822.sender(message)[1]) in BOUNCE_SENDERS


def bounced_message_ids(message):
    """Message-IDs of the mail a bounce is about: the returned message's own, then In-Reply-To/References."""
    found = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == 'message/rfc822':
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if hasattr(inner, 'get'):
                found += rfc822.message_ids(rfc822.header_text(inner, 'Message-ID'))
        elif content_type in ('text/rfc822-headers', 'text/plain'):
            text = rfc822.decode_8bit(part.get_payload(decode=True) or b'')
            for line in text.splitlines():
                if line.lower().startswith('message-id:'):
                    found += rfc822.message_ids(line)
    found += rfc822.message_ids(rfc822.header_text(message, 'In-Reply-To'))
    found += rfc822.message_ids(rfc822.header_text(message, 'References'))
    unique = []
    for message_id in found:
        if message_id not in unique:
            unique.append(message_id)
    return unique


def automatic_reason(message):
    """Why ``message`` looks machine-written (a short code), or ``None`` for a person's mail."""
    auto_submitted = rfc822.header_text(message, 'Auto-Submitted').lower()
    if auto_submitted and auto_submitted.split(';')[0].strip() != 'no':
        return 'auto-submitted'
    if rfc822.header_text(message, 'Precedence').lower() in ('bulk', 'list', 'junk'):
        return 'precedence'
    if message.get('List-Id') or message.get('List-Unsubscribe'):
        return 'mailing-list'
    if message.get('X-Autoreply') or message.get('X-Autorespond'):
        return 'auto-reply'
    if is_bounce(message):
        return 'bounce'
    if looks_automatic_address(rfc822.sender(message)[1]):
        return 'no-reply-sender'
    return None


def looks_automatic_address(address):
    """A no-reply, mailer-daemon or bounce address: nobody reads what is sent to it."""
    return bool(_NO_REPLY.match(local_part(address)))
