"""Automatic replies: which apply, which text, how it reads, and what is never answered."""
import collections
import random

import pytest

from services import automatic, autoreply, rfc822


def load(text):
    return rfc822.load(text.encode('utf-8'))


def email(**headers):
    base = {'From': 'Ana <ana@cliente.cl>', 'To': 'support@example.com', 'Subject': 'Hola'}
    base.update(headers)
    lines = ['%s: %s' % (name, value) for name, value in base.items() if value is not None]
    return load('\r\n'.join(lines) + '\r\n\r\nHola\r\n')


def test_one_text_is_always_that_one():
    rng = random.Random(1)
    for texts in (['Solo este', '', None], ['', 'Solo este', ''], [None, '  ', 'Solo este']):
        assert {autoreply.choose(texts, rng) for _ in range(20)} == {'Solo este'}


def test_no_text_means_nothing_to_send():
    assert autoreply.choose(['', None, '   \n']) is None


@pytest.mark.parametrize('texts', [['Uno', 'Dos', ''], ['Uno', 'Dos', 'Tres']])
def test_two_or_three_texts_are_chosen_at_random_seeded(texts):
    written = [text for text in texts if text]
    picks = [autoreply.choose(texts, random.Random(seed)) for seed in range(300)]
    counts = collections.Counter(picks)
    assert set(counts) == set(written)
    for text in written:  # each about equally often
        assert counts[text] > 300 / len(written) * 0.7
    # the same seed gives the same choice
    assert autoreply.choose(texts, random.Random(42)) == autoreply.choose(texts, random.Random(42))


def test_each_placeholder_is_filled_and_escaped():
    text = 'Hola {{customer_name}},\nrecibimos tu mensaje ({{ticket_number}}).\n\nSaludos, {{ account_name }}'
    html = autoreply.render(text, {'customer_name': 'Ana <Pérez>', 'ticket_number': 'HT00042',
                                   'account_name': 'Soporte & Ventas'})
    assert html == ('<p>Hola Ana &lt;Pérez&gt;,<br/>recibimos tu mensaje (HT00042).</p>'
                    '<p>Saludos, Soporte &amp; Ventas</p>')


def test_admin_text_is_escaped_and_unknown_placeholders_are_left_as_written():
    html = autoreply.render('<b>x</b> {{otro}}', {'customer_name': 'Ana'})
    assert html == '<p>&lt;b&gt;x&lt;/b&gt; {{otro}}</p>'
    assert autoreply.unknown_placeholders('Hola {{customer_name}} {{nombre}} {{ ticket }}') == ['nombre', 'ticket']
    assert autoreply.unknown_placeholders('{{customer_name}}{{ticket_number}}{{account_name}}') == []
    assert autoreply.unknown_placeholders(None) == []


def test_private_means_sent_to_the_account_directly():
    addresses = ['support@example.com', 'support-ab12cd34@helpdesk.example.org']
    assert autoreply.is_private(email(), addresses)
    assert autoreply.is_private(email(To='Soporte <SUPPORT@example.com>, otro@x.cl'), addresses)
    assert autoreply.is_private(email(To='support-ab12cd34@helpdesk.example.org'), addresses)
    assert not autoreply.is_private(email(To='otro@x.cl', Cc='support@example.com'), addresses)
    assert not autoreply.is_private(email(To='team@example.com'), addresses)
    assert not autoreply.is_private(email(**{'List-Id': '<clientes.example.com>'}), addresses)
    assert not autoreply.is_private(email(Precedence='list'), addresses)


@pytest.mark.parametrize('headers, reason', [
    ({'Auto-Submitted': 'auto-replied'}, 'auto-submitted'),
    ({'Auto-Submitted': 'auto-generated'}, 'auto-submitted'),
    ({'Auto-Submitted': 'auto-notified; owner-email="a@b.c"'}, 'auto-submitted'),
    ({'Precedence': 'bulk'}, 'precedence'),
    ({'Precedence': 'list'}, 'precedence'),
    ({'Precedence': 'junk'}, 'precedence'),
    ({'List-Id': '<news.example.com>'}, 'mailing-list'),
    ({'From': 'MAILER-DAEMON@mx.example.com'}, 'bounce'),
    ({'From': 'no-reply@tienda.example'}, 'no-reply-sender'),
    ({'From': 'noreply@tienda.example'}, 'no-reply-sender'),
    ({'From': 'do_not_reply@tienda.example'}, 'no-reply-sender'),
])
def test_machine_mail_is_never_answered(headers, reason):
    assert automatic.automatic_reason(email(**headers)) == reason


def test_a_person_may_be_answered():
    assert automatic.automatic_reason(email()) is None
    assert automatic.automatic_reason(email(**{'Auto-Submitted': 'no'})) is None
    assert automatic.automatic_reason(email(From='noreplyguy@x.cl')) is None  # only the local part as a whole counts
    assert autoreply.is_replyable_address('ana@cliente.cl')
    assert not autoreply.is_replyable_address('no-reply@cliente.cl')
    assert not autoreply.is_replyable_address('')


def facts(**values):
    return {name: (lambda value=value: value) for name, value in values.items()}


def test_which_replies_apply_to_a_new_ticket_and_in_which_order():
    everything = set(autoreply.ON_MESSAGE)
    assert autoreply.applicable(everything, set(), True, **facts(new_customer=True, out_of_hours=True,
                                                                 no_agent=True)) == \
        ['new_customer', 'ticket_created', 'out_of_hours', 'no_agent']
    assert autoreply.applicable(everything, set(), True, **facts(new_customer=False, out_of_hours=False,
                                                                 no_agent=False)) == ['ticket_created']


def test_only_out_of_hours_and_no_agent_answer_later_emails():
    everything = set(autoreply.ON_MESSAGE)
    assert autoreply.applicable(everything, set(), False, **facts(new_customer=True, out_of_hours=True,
                                                                  no_agent=True)) == ['out_of_hours', 'no_agent']


def test_once_per_ticket_and_kind():
    everything = set(autoreply.ON_MESSAGE)
    assert autoreply.applicable(everything, {'out_of_hours', 'ticket_created'}, True,
                                **facts(new_customer=False, out_of_hours=True, no_agent=False)) == []


def test_facts_of_switched_off_replies_are_not_looked_up():
    def boom():
        raise AssertionError('looked up')
    assert autoreply.applicable({'ticket_created'}, set(), True, new_customer=boom, out_of_hours=boom,
                                no_agent=boom) == ['ticket_created']


def test_hourly_limit():
    assert autoreply.within_rate(0, 1)
    assert autoreply.within_rate(4, 5)
    assert not autoreply.within_rate(5, 5)
