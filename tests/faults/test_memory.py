"""Memory of the Odoo process that fetches: Fetch Now in a child process of its own (``odoo_process.py --memory``)
reports its resident memory when the fetch starts and its peak during the fetch (``VmHWM``, reset just before it
through ``/proc/self/clear_refs``), so each figure is this fetch's alone, whatever the machine is doing."""
import os
from email.message import EmailMessage

from .conftest import assert_exactly_once, connect, customer_email, outcome, query

MIB = 1024 * 1024


def growth(result):
    assert result['ok'], result
    return result['memory']['growth_kib'] * 1024


def test_a_20_mb_attachment_costs_a_small_multiple_of_the_message(account, child):
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = 'Ana <ana@cliente.example>', account.login, 'Planos'
    message['Message-ID'] = '<planos-20mb@cliente.example>'
    message.set_content('Adjunto los planos.')
    payload = os.urandom(20 * MIB)
    message.add_attachment(payload, maintype='application', subtype='octet-stream', filename='planos.bin')
    raw = message.as_bytes()
    with account.imap() as client:
        client.append('INBOX', raw, flags=[])

    used = growth(child().run('fetch', account.id, memory=True))

    assert_exactly_once(outcome(account.id), ['Planos'])
    connection = connect()
    try:
        sizes = query(connection, """SELECT a.file_size FROM ir_attachment a JOIN helpdesk_ticket t ON t.id = a.res_id
                                      WHERE a.res_model = 'helpdesk.ticket' AND t.email_account_id = %s
                                        AND a.datas_fname = 'planos.bin'""", account.id)
    finally:
        connection.close()
    assert [row[0] for row in sizes] == [len(payload)], 'the attachment is on the ticket, whole'
    # At its peak the process holds the message a few times over: the raw bytes fetched, its text in the parsed
    # message, the decoded attachment, and Odoo's own attachment path (message_post encodes it in base64 again,
    # ir.attachment decodes that twice: for its type and for the file). About 8.5 times the raw message is what is
    # measured (28 MB of mail, about 235 MiB); before the parser kept the attachment's lines out, about 10 times.
    # Ten times bounds it with room for the allocator, and stays far from Odoo's limit_memory_soft (2 GiB).
    assert used < 10 * len(raw), '%.0f MiB for a %.0f MB message' % (used / MIB, len(raw) / 1e6)


def test_memory_does_not_grow_with_the_number_of_messages(account, child):
    """Batches of 10 (the fixture): 3 batches, then 30 batches on a new account of the same database."""
    with account.imap() as client:
        for number in range(30):
            client.append('INBOX', customer_email('Pocos %02d' % number, account.login).as_bytes(), flags=[])
    few = growth(child().run('fetch', account.id, memory=True))
    with account.imap() as client:  # the same mailbox again, ten times as much: read by UID after the first fetch
        for number in range(300):
            client.append('INBOX', customer_email('Muchos %03d' % number, account.login,
                                                  sender='Cliente %03d <c%03d@cliente.example>' % (number, number))
                          .as_bytes(), flags=[])
    many = growth(child().run('fetch', account.id, memory=True, timeout=300))
    assert_exactly_once(outcome(account.id), ['Pocos %02d' % n for n in range(30)] +
                        ['Muchos %03d' % n for n in range(300)])
    # Each batch runs in a transaction and an environment of its own: nothing of a batch is kept for the next.
    # What may grow is Odoo's own caches (ormcache of new partners' look-ups...): a few MiB, not ten times.
    assert many < few + 20 * MIB, 'few: %.1f MiB, many: %.1f MiB' % (few / MIB, many / MIB)
