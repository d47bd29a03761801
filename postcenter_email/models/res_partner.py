from odoo import api, models

from ..services import timing
from . import rows


class ResPartner(models.Model):
    """Customers of the Email channel are found by address, case-insensitively."""

    _inherit = 'res.partner'

    @api.model_cr
    def init(self):
        """An index for the address look-up of every incoming email."""
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS res_partner_postcenter_lower_email_index
                ON res_partner (lower(email))""")
        return super().init()

    @api.model
    def _postcenter_customer(self, name, address):
        """The partner with ``address`` (the oldest active one), created if there is none. Inside a fetched batch
        (``postcenter_customers``, filled by ``_postcenter_known_customers``) the batch's senders were looked up
        at once, and a customer created for one email is found by the next ones."""
        if not address:
            return self.browse()
        known = self.env.context.get('postcenter_customers')
        key = address.lower()
        if known is not None and key in known:
            return self.browse(known[key][0])
        self.env.cr.execute("""
            SELECT id FROM res_partner WHERE lower(email) = %s AND active ORDER BY id LIMIT 1""", (key,))
        row = self.env.cr.fetchone()
        if row:
            return self.browse(row[0])
        partner = self._postcenter_new_customer(name, address)
        if known is not None:
            known[key] = (partner.id, False)
        return partner

    @api.model
    def _postcenter_new_customer(self, name, address):
        """Create the customer ``address``. No "created" note, no followers, no generated avatar (install_mode):
        the web client shows its placeholder picture, and drawing one costs more than the rest of the ticket."""
        return self.with_context(tracking_disable=True, install_mode=True).create(
            self._postcenter_customer_values(name, address))

    @api.model
    def _postcenter_customer_values(self, name, address):
        """A new customer: the sender's name, or the address when there is none."""
        return {'name': name or address, 'email': address}

    @api.model
    def _postcenter_create_customers(self, senders):
        """Create the customers of a fetched batch together: ``senders`` is ``[(name, address)]`` of addresses no
        active partner has (the first name of an address is kept, as when each email creates its own). Their stored
        fields (display name, commercial partner, share...) are computed once for all of them rather than after
        each create, with nothing read in between (as rows, ``_postcenter_insert_customers``, when only base and
        mail create partners). Returns ``{lower address: (partner id, False)}``, the form of
        ``_postcenter_known_customers``."""
        first = {}
        for name, address in senders:
            first.setdefault(address.lower(), (name, address))
        if not first:
            return {}
        partners = self._postcenter_insert_customers(list(first.values()))
        if partners is None:
            with self.env.norecompute():
                partners = [self._postcenter_new_customer(name, address) for name, address in first.values()]
            self.recompute()
        return {key: (partner.id, False) for key, partner in zip(first, partners)}

    @api.model
    def _postcenter_insert_customers(self, senders):
        """The customers ``senders`` (``[(name, address)]``) as rows written together (``models/rows.py``): what
        ``_postcenter_new_customer`` creates for each. ``res.partner.create`` of base adds nothing to a contact
        of a name and an address: no website to clean, no parent to sync from, no children to sync to, no
        generated avatar under ``install_mode``; mail's adds nothing under ``tracking_disable``. None when another
        module overrides ``create`` of partners, or the rows cannot hold the values: the ORM creates them then."""
        if not rows.plain_create(self, {'base', 'mail'}):
            return None
        Partner = self.with_context(tracking_disable=True, install_mode=True)
        try:
            with self.env.cr.savepoint():
                return list(rows.insert(Partner, [self._postcenter_customer_values(name, address)
                                                  for name, address in senders], in_cache=True))
        except rows.NotPlain:
            return None

    @api.model
    def _postcenter_known_customers(self, addresses):
        """``{lower address: (partner id, is an agent)}`` of the partners that ``_postcenter_customer`` would find
        for ``addresses`` (the oldest active one of each), in two statements for a whole batch."""
        wanted = sorted({address.lower() for address in addresses if address})
        if not wanted:
            return {}
        self.env.cr.execute("""
            SELECT DISTINCT ON (lower(email)) lower(email), id FROM res_partner
             WHERE lower(email) IN %s AND active ORDER BY lower(email), id""", (tuple(wanted),))
        found = dict(self.env.cr.fetchall())
        agents = set()
        if found:
            self.env.cr.execute("""SELECT partner_id FROM res_users
                                    WHERE partner_id IN %s AND active AND share IS NOT TRUE""",
                                (tuple(found.values()),))
            agents = {row[0] for row in self.env.cr.fetchall()}
        return {address: (partner_id, partner_id in agents) for address, partner_id in found.items()}

    @api.multi
    def _postcenter_name_and_email(self):
        """``{'name': ..., 'email': ...}`` of the partner: from the cache when both are there (a customer a batch
        just created is), else the two columns read, not the whole row."""
        self.ensure_one()
        cache = self.env.cache
        if all(cache.contains_value(self, self._fields[name]) for name in ('name', 'email')):
            return {'name': self.name, 'email': self.email}
        return self.read(['name', 'email'])[0]

    @api.multi
    def _postcenter_is_agent(self):
        """Whether the partner is an active internal user (an agent), looked up for every email received (inside a
        fetched batch, known from the batch's look-up, ``_postcenter_known_customers``)."""
        if not self:
            return False
        for partner_id, is_agent in (self.env.context.get('postcenter_customers') or {}).values():
            if partner_id == self.id:
                return is_agent
        self.env.cr.execute('SELECT 1 FROM res_users WHERE partner_id = %s AND active AND share IS NOT TRUE LIMIT 1',
                            (self.id,))
        return bool(self.env.cr.fetchone())

    @api.model
    def _notify_prepare_template_context(self, message):
        """Replies of an Email-channel ticket are signed with its account's signature, filled with the agent's data,
        and followed by the email chain when the account includes it (the template's closing slot)."""
        context = super()._notify_prepare_template_context(message)
        record = context.get('record')
        account = getattr(record, 'email_account_id', False) if record else False
        if not account:
            return context
        account = account.sudo()
        author = message.author_id.user_ids[:1]
        if account.signature and author:
            context['signature'] = account._signature_for(author)
        if account.include_chain:
            context['signature'] = (context.get('signature') or '') + account._email_chain(message)
        return context

    @api.multi
    def _notify(self, message, force_send=False, send_after_commit=True, user_signature=True):
        """An email received on an Email-channel ticket is for the agents: of its followers, only internal users
        are sent a copy. The customer and other outside followers receive only what agents and automatic replies
        send them, never someone else's email (a colleague's, a second contact's). Any other message, and any
        email on other records, is notified as Odoo does. Inside an IMAP fetch's batch or a forwarded email's
        transaction (``postcenter_notify_later``, a list) the emails are queued and the message noted in that list:
        they all leave together once it is committed (``postcenter.email.account._send_notifications``)."""
        if self and message.message_type == 'email' and message.model == 'helpdesk.ticket' and message.res_id and \
                self.env['helpdesk.ticket'].sudo().with_context(prefetch_fields=False).browse(
                    message.res_id).email_account_id:  # that column alone, not the ticket's whole row
            self = self.filtered(lambda partner: any(not user.share for user in partner.user_ids))
        later = self.env.context.get('postcenter_notify_later')
        if self and later is not None:  # a fetch's batch: its emails leave together once the batch is committed
            later.append(message.id)
            force_send = False
        with timing.phase('notifications'):
            return super(ResPartner, self)._notify(message, force_send=force_send,
                                                   send_after_commit=send_after_commit, user_signature=user_signature)

    @api.multi
    def _notify_by_chat(self, message):
        """Nobody to tell: skip formatting the message for the bus (Odoo formats it even for no one)."""
        if not self:
            return
        return super()._notify_by_chat(message)
