"""Emails that arrive at the same moment on separate SMTP connections: one conversation, one ticket; one new
address, one customer."""
import smtplib
import threading
import uuid

from .test_inbound_smtp import customer_email


def at_the_same_moment(inbound, rcpt, messages):
    """Each message on an SMTP connection of its own, connected beforehand; all sent when every one is ready."""
    clients = [smtplib.SMTP(*inbound, timeout=60) for _message in messages]
    for client in clients:
        client.ehlo()
    ready = threading.Barrier(len(messages))
    refused = []

    def send(client, message):
        ready.wait()
        refused.append(client.send_message(message, to_addrs=[rcpt]))
        client.quit()
    threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, messages)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert refused == [{}] * len(messages), refused


def test_an_original_and_its_reply_sent_together_make_one_ticket(inbound, account, odoo_env_factory):
    run = uuid.uuid4().hex[:8]
    subjects = []
    for number in range(40):
        subject = 'Pedido %s-%02d' % (run, number)
        original = customer_email(subject=subject, sender='Cliente %d <c%d-%s@nuevo.example>' % (number, number, run))
        reply = customer_email(subject='Re: ' + subject, body='Soy su colega.',
                               sender='Colega %d <k%d-%s@nuevo.example>' % (number, number, run))
        reply['In-Reply-To'] = reply['References'] = original['Message-ID']
        at_the_same_moment(inbound, account['forward_address'], [original, reply])
        subjects.append(subject)
    with odoo_env_factory() as env:
        tickets = env['helpdesk.ticket'].search([('email_account_id', '=', account['id']),
                                                 ('name', 'like', 'Pedido %s-' % run)])
        assert len(tickets) == 40, sorted(tickets.mapped('name'))
        assert sorted(tickets.mapped('name')) == subjects, "each one the original's"
        assert all(len(ticket.message_ids.filtered(lambda m: m.message_type == 'email')) == 2 for ticket in tickets)


def test_ten_emails_from_one_new_address_at_once_make_one_customer(inbound, account, odoo_env_factory):
    address = 'nueva-%s@cliente.example' % uuid.uuid4().hex[:8]
    messages = [customer_email(subject='Consulta %d' % number, sender='Nueva <%s>' % address) for number in range(10)]
    at_the_same_moment(inbound, account['forward_address'], messages)
    with odoo_env_factory() as env:
        env.cr.execute('SELECT count(*) FROM res_partner WHERE lower(email) = %s', (address,))
        assert env.cr.fetchone()[0] == 1
        assert env['helpdesk.ticket'].search_count([('partner_email', '=', address)]) == 10
