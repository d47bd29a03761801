"""Decisions on incoming mail, without a database."""
from services import automatic, blocklist, contact_forms, conversation, keywords, rfc822


def load(text):
    return rfc822.load(text.encode('utf-8') if isinstance(text, str) else text)


# -- blocked senders -----------------------------------------------------------

def test_blocklist_addresses_and_domains():
    listed, invalid = blocklist.parse('Spam@Example.com, @Bad.org ;  @mail.evil.net\nnot-an-address, @nodot')
    assert listed.addresses == {'spam@example.com'}
    assert listed.domains == {'bad.org', 'mail.evil.net'}
    assert invalid == ['not-an-address', '@nodot']
    assert blocklist.is_blocked('SPAM@example.com', listed)
    assert blocklist.is_blocked('anyone@bad.org', listed)
    assert blocklist.is_blocked('anyone@sub.bad.org', listed)
    assert not blocklist.is_blocked('anyone@notbad.org', listed)
    assert not blocklist.is_blocked('friend@example.com', listed)
    assert not blocklist.is_blocked('', listed)


# -- contact forms ---------------------------------------------------------------

def test_contact_form_customer_is_the_first_address_in_the_body():
    body = 'Nuevo mensaje desde el formulario web.\nNombre: Ana\nCorreo: Ana.Perez@Cliente.cl.\nOtro: b@c.cl'
    assert contact_forms.first_address(body) == 'Ana.Perez@cliente.cl'
    assert contact_forms.first_address(body, exclude=['ana.perez@cliente.cl']) == 'b@c.cl'
    assert contact_forms.first_address('sin correo') is None


# -- keywords --------------------------------------------------------------------

def test_keywords_ignore_case_and_accents_and_match_whole_words():
    words = ['urgente', 'Reclamación', 'no funciona']
    assert keywords.found('Esto es URGENTE!', words) == ['urgente']
    assert keywords.found('Tengo una reclamacion', words) == ['reclamacion']
    assert keywords.found('el sistema NO  FUNCIONA hoy', words) == ['no funciona']
    assert keywords.found('urgentemente y reclamaciones', words) == []
    assert keywords.found('nada', []) == []


# -- loop safety -------------------------------------------------------------------

def test_automatic_mail_is_recognised():
    person = 'From: Ana <ana@cliente.cl>\nSubject: hola\n\nhola'
    assert automatic.automatic_reason(load(person)) is None
    assert automatic.automatic_reason(load('Auto-Submitted: no\n' + person)) is None
    cases = {
        'Auto-Submitted: auto-replied\n' + person: 'auto-submitted',
        'Precedence: bulk\n' + person: 'precedence',
        'List-Id: <news.example.com>\n' + person: 'mailing-list',
        'From: No Reply <no-reply@shop.com>\nSubject: x\n\nx': 'no-reply-sender',
        'From: noreply+abc@shop.com\nSubject: x\n\nx': 'no-reply-sender',
        'From: MAILER-DAEMON@mx.example.com\nSubject: Undelivered\n\nx': 'bounce',
    }
    for text, reason in cases.items():
        assert automatic.automatic_reason(load(text)) == reason, text


def test_bounce_points_at_the_returned_message():
    raw = (
        'From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\n'
        'To: support@example.com\nSubject: Undelivered Mail Returned to Sender\n'
        'MIME-Version: 1.0\n'
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\n\n'
        '--b1\nContent-Type: text/plain\n\nThe mail could not be delivered.\n'
        '--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n'
        'Final-Recipient: rfc822; nobody@cliente.cl\nAction: failed\nStatus: 5.1.1\n'
        '--b1\nContent-Type: message/rfc822\n\n'
        'Message-ID: <reply-1@helpdesk.example.org>\nFrom: support@example.com\nSubject: Re: hola\n\nrespuesta\n'
        '--b1--\n')
    message = load(raw)
    assert automatic.is_bounce(message)
    assert automatic.bounced_message_ids(message) == ['<reply-1@helpdesk.example.org>']


# -- conversations -------------------------------------------------------------------

def test_references_most_specific_first():
    message = load('In-Reply-To: <c@x>\nReferences: <a@x> <b@x>\n <c@x>\nSubject: Re: hola\n\n.')
    assert conversation.referenced_ids(message) == ['<c@x>', '<b@x>', '<a@x>']


def test_an_original_and_its_reply_share_a_lock_key():
    original = conversation.lock_keys([1], '<a@x>', [], 'ana@cliente.cl')
    reply = conversation.lock_keys([1], '<b@x>', ['<a@x>'], 'luis@cliente.cl')
    assert set(original) & set(reply)
    assert reply == sorted(reply), 'ascending: no two holders wait for each other in a cycle'


def test_two_emails_of_one_new_address_share_a_lock_key():
    first = conversation.lock_keys([1], '<a@x>', [], 'Ana@Cliente.cl')
    second = conversation.lock_keys([2], '<b@x>', [], 'ana@cliente.cl')
    assert set(first) & set(second), 'the customer is shared by every account'


def test_unrelated_emails_do_not_wait_for_each_other():
    assert not set(conversation.lock_keys([1], '<a@x>', [], 'ana@cliente.cl')) & \
        set(conversation.lock_keys([1], '<b@x>', ['<c@x>'], 'luis@cliente.cl'))
    assert not set(conversation.lock_keys([1], '<a@x>', [], 'ana@cliente.cl')) & \
        set(conversation.lock_keys([2], '<a@x>', [], None)), 'the same email in two accounts: two tickets'


def test_lock_keys_are_postgresql_bigints():
    assert all(-2 ** 63 <= key < 2 ** 63 for key in conversation.lock_keys([1], '<a@x>', ['<b@x>'], 'a@b.cl'))


def test_ticket_numbers_in_subject():
    assert conversation.ticket_numbers('Re: [HT00042] mi pedido', 'HT') == ['HT00042']
    assert conversation.ticket_numbers('re: ht00042 y HT7', 'HT') == ['HT00042', 'HT7']
    assert conversation.ticket_numbers('WHT00042 HT00042X', 'HT') == []


# -- raw messages ----------------------------------------------------------------------

def test_headers_alone_read_as_the_whole_message_does():
    raw = ('From: José <jose@cliente.cl>\nMessage-ID: <m@x>\nReferences: <a@x>\nMIME-Version: 1.0\n'
           'Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nhola\n--b--\n'
           ).encode('latin-1')
    whole, headers = rfc822.load(raw), rfc822.load(raw, headers_only=True)
    assert rfc822.sender(headers) == rfc822.sender(whole) == ('José', 'jose@cliente.cl')
    assert conversation.referenced_ids(headers) == conversation.referenced_ids(whole) == ['<a@x>']
    assert rfc822.message_key(headers, raw) == rfc822.message_key(whole, raw) == '<m@x>'


def test_undeclared_8bit_headers_are_repaired():
    raw = 'Subject: Reclamación\nFrom: José <jose@cliente.cl>\n\ncuerpo'.encode('latin-1')
    message = rfc822.load(raw)
    assert rfc822.header_text(message, 'Subject') == 'Reclamación'
    assert rfc822.sender(message) == ('José', 'jose@cliente.cl')


def test_rfc2047_headers_are_decoded():
    message = load('Subject: =?UTF-8?B?wqFIb2xhIQ==?=\nFrom: =?iso-8859-1?q?Jos=E9?= <JOSE@cliente.cl>\n\nx')
    assert rfc822.header_text(message, 'Subject') == '¡Hola!'
    assert rfc822.sender(message) == ('José', 'jose@cliente.cl')


def test_message_key():
    with_id = rfc822.load(b'Message-ID: <abc@x.cl>\n\nx')
    assert rfc822.message_key(with_id, b'') == '<abc@x.cl>'
    raw = b'Subject: sin id\n\nx'
    key = rfc822.message_key(rfc822.load(raw), raw)
    assert key == rfc822.message_key(rfc822.load(raw), raw)
    assert key.endswith('@no-message-id.postcenter>')
    assert key != rfc822.message_key(rfc822.load(raw + b'y'), raw + b'y')
