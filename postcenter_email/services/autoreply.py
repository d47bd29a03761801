"""Automatic replies: which ones apply to an incoming email, which text is sent, and how it reads.

The four replies to incoming mail (new customer, ticket created, out of hours, no agent
available) answer only a private email from a person: sent to the account directly (in To,
not only in Cc), not machine-written (see ``automatic``). Each fires at most once per ticket.
When several apply to the same email, the customer gets one email carrying their texts in
the order of ``ON_MESSAGE``. The two closing replies are sent as a ticket is closed.
"""
import html
import random
import re

from . import automatic, rfc822

KINDS = ('new_customer', 'no_agent', 'out_of_hours', 'ticket_created', 'manual_close', 'auto_close')
ON_MESSAGE = ('new_customer', 'ticket_created', 'out_of_hours', 'no_agent')  # the order of their texts
ON_CLOSE = ('manual_close', 'auto_close')
PLACEHOLDERS = ('customer_name', 'ticket_number', 'account_name')
_PLACEHOLDER = re.compile(r'{{\s*([^{}]*?)\s*}}')
_random = random.Random()


def filled(texts):
    """The texts that have something written in them."""
    return [text for text in texts if text and text.strip()]


def choose(texts, rng=None):
    """One of the filled ``texts`` (at random when there are several), or ``None`` when all are empty."""
    candidates = filled(texts)
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    return (rng or _random).choice(candidates)


def unknown_placeholders(text):
    """Placeholders in ``text`` that are not ``PLACEHOLDERS`` (typos, or ones from elsewhere)."""
    return [name for name in _PLACEHOLDER.findall(text or '') if name not in PLACEHOLDERS]


def render(text, values):
    """``text`` (plain, as the admin typed it) as HTML paragraphs, its placeholders filled with ``values``."""
    def fill(match):
        return '\0%s\0' % match.group(1) if match.group(1) in PLACEHOLDERS else match.group(0)
    marked = _PLACEHOLDER.sub(fill, text.strip())
    escaped = html.escape(marked, quote=False)
    escaped = re.sub('\0([a-z_]+)\0', lambda match: html.escape(values.get(match.group(1)) or '', quote=False),
                     escaped)
    paragraphs = re.split(r'\n\s*\n', escaped)
    return ''.join('<p>%s</p>' % paragraph.strip().replace('\n', '<br/>') for paragraph in paragraphs)


def is_private(message, account_addresses):
    """A direct email to the account: one of ``account_addresses`` is in To (not only in Cc), no mailing list."""
    if message.get('List-Id') or rfc822.header_text(message, 'Precedence').lower() == 'list':
        return False
    wanted = {address.lower() for address in account_addresses if address}
    return any(address in wanted for _name, address in rfc822.addresses(message, 'To'))


def is_replyable_address(address):
    """An address an automatic reply may go to: present, and not a no-reply or mailer-daemon address."""
    return bool(address) and not automatic.looks_automatic_address(address)


def applicable(active, already_sent, opened, new_customer, out_of_hours, no_agent):
    """The replies to send for one incoming email, in text order.

    ``active``: kinds switched on; ``already_sent``: kinds this ticket has had; ``opened``: the email opened
    the ticket; the last three are facts about the sender and the moment (callables, evaluated only when the
    kind is switched on, since finding them costs queries).
    """
    facts = {
        'ticket_created': lambda: opened,
        'new_customer': lambda: opened and new_customer(),
        'out_of_hours': out_of_hours,
        'no_agent': no_agent,
    }
    return [kind for kind in ON_MESSAGE if kind in active and kind not in already_sent and facts[kind]()]


def within_rate(sent_in_last_hour, hourly_limit):
    """Whether one more automatic reply to an address keeps it within ``hourly_limit`` per hour."""
    return sent_in_last_hour < hourly_limit
