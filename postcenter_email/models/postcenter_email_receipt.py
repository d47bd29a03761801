import logging
from collections import namedtuple
from email.utils import formataddr

from odoo import api, fields, models, tools

from ..services import automatic, blocklist, contact_forms, conversation, gmail, keywords, rfc822, timing

_logger = logging.getLogger(__name__)

Rules = namedtuple('Rules', 'blocklist contact_forms keywords')
_RULES = {}  # (database, account id, account write date) -> Rules

STATUSES = [
    ('ticket', 'New ticket'),
    ('reply', 'Added to a ticket'),
    ('blocked', 'Blocked sender'),
    ('bounce', 'Bounce noted on a ticket'),
    ('bounce_unmatched', 'Bounce of an unknown message'),
    ('own', 'Our own mail'),
    ('validation', 'Validation of the forwarding'),
]


class PostcenterEmailReceipt(models.Model):
    """One received email, once per account: the ledger that makes ingestion idempotent.

    ``_ingest`` is the single pipeline behind every way mail comes in (IMAP,
    forwarding): it claims the message's key for the account (a unique index, so
    a message is processed at most once), then routes it.
    """

    _name = 'postcenter.email.receipt'
    _description = 'Received Email'
    _order = 'id desc'

    account_id = fields.Many2one('postcenter.email.account', required=True, ondelete='cascade',
                                 readonly=True)
    message_key = fields.Char(string='Message-ID', required=True, readonly=True)
    status = fields.Selection(STATUSES, string='Result', readonly=True)
    ticket_id = fields.Many2one('helpdesk.ticket', readonly=True, index=True, ondelete='set null')
    sender = fields.Char(string='From', readonly=True)
    subject = fields.Char(readonly=True)
    machine_reason = fields.Char(string='Machine-Written', readonly=True,
                                 help='Why the email looks written by a machine (mailing list, auto-reply, no-reply '
                                      'sender...): automatic replies never answer it.')
    reference_keys = fields.Text(string='References', readonly=True,
                                 help='The Message-IDs this email answers (In-Reply-To and References): an original '
                                      'that arrives after its reply joins the reply\'s ticket.')

    _sql_constraints = [
        ('message_key_unique', 'unique(account_id, message_key)', 'This email was received already.'),
    ]

    @api.model_cr
    def init(self):
        """An index for the look-up of emails stored before the one they answer."""
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS postcenter_email_receipt_reference_keys_idx
                ON postcenter_email_receipt USING gin (string_to_array(reference_keys, ' '))
             WHERE reference_keys IS NOT NULL""")

    # ------------------------------------------------------------------
    # The pipeline
    # ------------------------------------------------------------------
        return super().init()

    @api.model
    def _lock_conversations(self, accounts, raws):
        """Hold, until this cursor's transaction ends, the advisory locks of storing the raw emails ``raws`` in
        ``accounts`` (``services.conversation.lock_keys``): one email of a conversation, or of a new customer, at a
        time. Called on a cursor of its own *before* the transaction that stores them starts, so that this one's
        snapshot sees what the previous holder committed."""
        keys = set()
        for raw in raws:
            message = rfc822.load(raw, headers_only=True)
            keys.update(conversation.lock_keys(accounts.ids, rfc822.message_key(message, raw),
                                               conversation.referenced_ids(message), rfc822.sender(message)[1]))
        if keys:  # one statement, the keys in ascending order
            self.env.cr.execute('SELECT pg_advisory_xact_lock(key) FROM (SELECT unnest(%s::bigint[]) AS key '
                                'ORDER BY 1) AS keys', (sorted(keys),))

    @api.model
    def _customers_to_create(self, account, messages, known):
        """``[(name, address)]`` of the senders that storing ``messages`` (``[(headers, raw)]``, in order) will make
        customers: emails not received before, that are not a validation, one of our own emails, a bounce, from a
        blocked sender or from a contact form (whose customer is in the body), from an address no partner has
        (``known``: ``res.partner._postcenter_known_customers``). A batch creates them at once; whatever this leaves
        out, its email creates when it is stored, as before."""
        keys = [rfc822.message_key(message, raw) for message, raw in messages]
        seen = self._keys_seen(account, keys)
        rules = self._rules(account)
        senders = []
        for (message, _raw), key in zip(messages, keys):
            name, address = rfc822.sender(message)
            if not address or address.lower() in known or key in seen or \
                    rfc822.header_text(message, 'X-Postcenter-Validation') or address in rules.contact_forms or \
                    blocklist.is_blocked(address, rules.blocklist) or automatic.is_bounce(message):
                continue
            senders.append((name, address))
        return senders

    @api.model
    def _keys_seen(self, account, keys):
        """The Message-IDs among ``keys`` that ``account`` received before, or that are of a message this database
        holds (one of its own emails, or one received by another account)."""
        if not keys:
            return set()
        self.env.cr.execute("""
            SELECT message_key FROM postcenter_email_receipt WHERE account_id = %s AND message_key IN %s
             UNION
            SELECT message_id FROM mail_message WHERE message_id IN %s""", (account.id, tuple(keys), tuple(keys)))
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _ingest(self, account, raw):
        """Apply one raw email to the helpdesk of ``account``; return its receipt (empty if a duplicate)."""
        with timing.phase('ticket'):
            with timing.phase('parse'):
                message = rfc822.load(raw)
            receipt = self._claim(account, rfc822.message_key(message, raw))
            if receipt:
                receipt._route(account, message)
        return receipt

    @api.model
    def _claim(self, account, key):
        """Record ``key`` for ``account``; an empty recordset if it was recorded before."""
        self.env.cr.execute("""
            INSERT INTO postcenter_email_receipt
                (account_id, message_key, create_uid, write_uid, create_date, write_date)
            VALUES (%s, %s, %s, %s, (now() at time zone 'UTC'), (now() at time zone 'UTC'))
            ON CONFLICT (account_id, message_key) DO NOTHING
            RETURNING id""", (account.id, key, self.env.uid, self.env.uid))
        row = self.env.cr.fetchone()
        receipt = self.browse(row[0] if row else [])
        if receipt:  # the pipeline reads the key again: no need to read the row for it
            receipt._cache['message_key'] = key
        return receipt

    def _route(self, account, message):
        """Decide what the email is and apply it."""
        name, address = rfc822.sender(message)
        values = {'sender': formataddr((name, address)) if address else '',
                  'subject': rfc822.header_text(message, 'Subject')[:500],
                  'machine_reason': automatic.automatic_reason(message)}
        token = rfc822.header_text(message, 'X-Postcenter-Validation')
        if token:
            account._validation_received(token)
            values['status'] = 'validation'
        elif self._is_own_mail():
            values['status'] = 'own'
        elif blocklist.is_blocked(address, self._rules(account).blocklist):
            values['status'] = 'blocked'
        elif automatic.is_bounce(message):
            ticket = self._ticket_of(account, automatic.bounced_message_ids(message))
            if ticket:
                ticket._note_bounce(message)
            values.update(status='bounce' if ticket else 'bounce_unmatched', ticket_id=ticket.id)
        else:
            values.update(self._to_ticket(account, message, name, address))
        self._record(values)
        if values['status'] in ('ticket', 'reply') and not values['from_agent']:
            # after the record, so that the automatic reply's References include this email
            self.env['postcenter.email.autoreply']._on_received(
                account, self.env['helpdesk.ticket'].browse(values['ticket_id']), message,
                values['status'] == 'ticket', values['received_at'], values['machine_reason'])

    def _record(self, values):
        """Write the outcome on the ledger row (plain SQL: it is written once per email, by us only)."""
        self.env.cr.execute("""
            UPDATE postcenter_email_receipt
               SET status = %s, ticket_id = %s, sender = %s, subject = %s, machine_reason = %s, reference_keys = %s
             WHERE id = %s""", (values.get('status'), values.get('ticket_id') or None, values.get('sender'),
                                values.get('subject'), values.get('machine_reason'),
                                ' '.join(values.get('references') or ()) or None, self.id))
        self.invalidate_cache(ids=self.ids)

    def _is_own_mail(self):
        """The key belongs to a message this database wrote (an agent's reply, a notice), not one it received."""
        self.env.cr.execute("""
            SELECT 1 FROM mail_message m
             WHERE m.message_id = %s
               AND NOT EXISTS (SELECT 1 FROM postcenter_email_receipt r
                                WHERE r.message_key = m.message_id AND r.id != %s)
             LIMIT 1""", (self.message_key, self.id))
        return bool(self.env.cr.fetchone())

    def _to_ticket(self, account, message, name, address):
        """Add the email to the conversation it continues, or open a ticket for it."""
        Ticket = self.env['helpdesk.ticket']
        with timing.phase('parse'):
            parsed = self._parse(message)
        if address == gmail.SENDER:
            found = gmail.confirmation(address, parsed['subject'], tools.html2plaintext(parsed.get('body') or ''))
            if found:
                account._note_gmail_confirmation(*found)
        if address in self._rules(account).contact_forms:
            found = contact_forms.first_address(tools.html2plaintext(parsed.get('body') or ''),
                                                exclude=[address, account.email])
            if found:
                name, address = '', found
        with timing.phase('customer'):
            partner = self.env['res.partner']._postcenter_customer(name, address)
            from_agent = partner._postcenter_is_agent()
        references = conversation.referenced_ids(message)
        ticket = self._ticket_of(account, references) or Ticket._postcenter_by_number(account, parsed.get('subject'))
        now = fields.Datetime.now()
        if not ticket:
            ticket = self._ticket_answering(account)
            if ticket and not from_agent:
                ticket._postcenter_original_arrived(self.message_key, parsed, partner)
        result = {'received_at': now, 'from_agent': from_agent, 'references': references}
        if ticket:
            # an agent answering from their mail client, with the account in copy: the customer already has
            # that email, so nobody is sent a copy; it is the agent's answer
            ticket._postcenter_add_email(parsed, partner, notify=not from_agent)
            if from_agent:
                ticket._postcenter_agent_answered(now)
            else:
                ticket._postcenter_customer_wrote(account, now)
            return dict(result, status='reply', ticket_id=ticket.id)
        ticket = Ticket._postcenter_open(account, parsed, partner)
        return dict(result, status='ticket', ticket_id=ticket.id)

    def _ticket_answering(self, account):
        """The ticket of an email of ``account`` stored before this one and answering it (mail is not always
        delivered in order), if any."""
        self.env.cr.execute("""
            SELECT ticket_id FROM postcenter_email_receipt
             WHERE account_id = %s AND reference_keys IS NOT NULL AND ticket_id IS NOT NULL
               AND string_to_array(reference_keys, ' ') @> ARRAY[%s]::text[]
             ORDER BY id LIMIT 1""", (account.id, self.message_key))
        row = self.env.cr.fetchone()
        return self.env['helpdesk.ticket'].browse(row[0] if row else [])

    def _parse(self, message):
        """What a ticket needs of the email. Body and attachments come from Odoo's own gateway extraction;
        the headers are decoded here (``mail.thread.message_parse`` would also look up every To/Cc
        address and parent message, which the Email channel does not use)."""
        body, attachments = self.env['helpdesk.ticket']._message_extract_payload(message)
        date = rfc822.date_utc(message)
        return {
            'message_id': self.message_key,
            'subject': rfc822.header_text(message, 'Subject'),
            'email_from': rfc822.header_text(message, 'From'),
            'reply_to': rfc822.header_text(message, 'Reply-To'),
            'date': fields.Datetime.to_string(date) if date else False,
            'body': body,
            'attachments': attachments,
        }

    @api.model
    def _ticket_of(self, account, message_ids):
        """The ticket of ``account`` that one of ``message_ids`` belongs to (received or sent), if any."""
        if not message_ids:
            return self.env['helpdesk.ticket']
        self.env.cr.execute("""
            SELECT ticket_id FROM postcenter_email_receipt
             WHERE account_id = %s AND message_key IN %s AND ticket_id IS NOT NULL
             UNION ALL
            SELECT t.id FROM mail_message m JOIN helpdesk_ticket t ON t.id = m.res_id
             WHERE m.model = 'helpdesk.ticket' AND m.message_id IN %s AND t.email_account_id = %s
             LIMIT 1""", (account.id, tuple(message_ids), tuple(message_ids), account.id))
        row = self.env.cr.fetchone()
        return self.env['helpdesk.ticket'].browse(row[0] if row else [])

    @api.model
    def _rules(self, account):
        """The account's blocklist, contact forms and keyword pattern, prepared once per version of the account."""
        key = (self.env.cr.dbname, account.id, account._ingest_settings().write_date)
        rules = _RULES.get(key)
        if rules is None:
            if len(_RULES) > 1000:
                _RULES.clear()
            rules = _RULES[key] = Rules(account._blocklist(), frozenset(account._contact_form_addresses()),
                                        keywords.matcher(account.important_keyword_ids.mapped('name')))
        return rules

    @api.model
    def _important_keywords(self, account, parsed):
        """Keywords of ``account`` found in the subject or body."""
        pattern = self._rules(account).keywords
        if pattern is None:
            return []
        text = '%s\n%s' % (parsed.get('subject') or '', tools.html2plaintext(parsed.get('body') or ''))
        return keywords.found(text, pattern)
