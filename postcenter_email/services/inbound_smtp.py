"""The SMTP side of forwarding accounts: who may receive, and when a message counts as accepted.

``InboundHandler`` is an aiosmtpd handler that knows nothing of Odoo: it is given two
blocking callables and runs them in worker threads.

- ``knows(address)``: is ``address`` the forwarding address of an active account?
- ``store(addresses, raw)``: store the message for those accounts; returns only once it is
  committed, raises on any failure.

An unknown recipient is refused at RCPT time (550); a message is answered 250 only after
``store`` returned, so an accepted mail is never lost; if the store is unreachable or fails,
the sender gets a temporary 451 and tries again later. Sizes above ``data_size_limit`` of the
server get aiosmtpd's 552.
"""
import asyncio
import logging

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

_logger = logging.getLogger(__name__)


class LenientSMTP(SMTP):
    """RFC 5321 caps lines at 1,000 characters, but real senders exceed it (long HTML lines): like
    Postfix, accept them rather than lose the mail. Message size is still capped (552)."""

    line_length_limit = 1024 * 1024


class InboundController(Controller):
    """aiosmtpd's threaded controller, serving ``LenientSMTP``."""

    def factory(self):
        return LenientSMTP(self.handler, **self.SMTP_kwargs)


class StoreUnavailable(Exception):
    """The helpdesk cannot take mail right now (database or Odoo down): answer 4xx."""


class InboundHandler:

    def __init__(self, knows, store):
        self.knows = knows
        self.store = store

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            known = await asyncio.get_event_loop().run_in_executor(None, self.knows, address.lower())
        except Exception:
            _logger.exception('Recipient look-up failed for %s', address)
            return '451 4.3.0 The helpdesk is not available right now, try again later'
        if not known:
            return '550 5.1.1 <%s>: no such forwarding address' % address
        envelope.rcpt_tos.append(address.lower())
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode('utf-8', 'surrogateescape')
        try:
            await asyncio.get_event_loop().run_in_executor(None, self.store, list(envelope.rcpt_tos), raw)
        except Exception:
            _logger.exception('Storing a forwarded message failed')
            return '451 4.3.0 The message could not be stored, try again later'
        return '250 OK: stored'
